// Host to guest over a forwarded port: the base appliance serves a 16 MiB file (zeros
// written to /tmp) with busybox httpd on port 8000, and the host fetches it over HTTP
// through the port forward; the seconds are the host's wall clock around the fetch (first
// byte of the request to the last of the body), the body's length checked.
// romvisor: `romvisor boot base --hostfwd tcp:127.0.0.1:0-:8000` (the switch's host
// endpoint, realtime); QEMU: the same kernel and disk with `-netdev user,hostfwd=` (slirp).
// Both guests get 128 MiB of RAM.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { qemuBaseApplianceArgs } from '../qemuAppliance.ts';
import type { BenchGroup, BenchRow } from '../Types.ts';

const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const MIB = 16;
const GUEST_PORT = 8000;
const PROMPT = '~ # ';
const TIMEOUT_MS = 600_000;
const SERVE = `dd if=/dev/zero of=/tmp/big bs=1M count=${MIB} 2>/dev/null; httpd -p ${GUEST_PORT} -h /tmp; echo ready-$((40+2))\n`;

interface Fetched {
  seconds?: number;
  bytes?: number;
  error?: string;
}

/** A guest process with its console on pipes. */
class ConsoleProcess {
  output = '';
  private readonly child;
  constructor(cmd: string, args: string[]) {
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('latin1').on('data', (d: string) => (this.output += d));
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.output += d));
  }
  type(text: string): void {
    this.child.stdin.write(text);
  }
  async until(pattern: RegExp): Promise<RegExpMatchArray | undefined> {
    const end = Date.now() + TIMEOUT_MS;
    for (;;) {
      const m = this.output.match(pattern);
      if (m || Date.now() > end || this.child.exitCode !== null) return m ?? undefined;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  kill(): void {
    this.child.kill('SIGKILL');
  }
}

/** Serves the file in the guest, then times one fetch of it from the host. */
async function fetchThrough(guest: ConsoleProcess, port: () => Promise<number | undefined>): Promise<Fetched> {
  try {
    if (!(await guest.until(/~ # /))) return { error: `no prompt: ${guest.output.slice(-300)}` };
    guest.type(SERVE);
    if (!(await guest.until(/ready-42/))) return { error: `httpd did not start: ${guest.output.slice(-300)}` };
    const p = await port();
    if (p === undefined) return { error: `no forwarded port: ${guest.output.slice(-300)}` };
    const t0 = performance.now();
    const res = await fetch(`http://127.0.0.1:${p}/big`);
    const body = await res.arrayBuffer();
    return { seconds: (performance.now() - t0) / 1000, bytes: body.byteLength };
  } catch (e) {
    return { error: (e as Error).message };
  } finally {
    guest.kill();
  }
}

/** A TCP port free on 127.0.0.1 now (for QEMU, which cannot pick one and say which). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function romvisorRun(): Promise<Fetched> {
  const guest = new ConsoleProcess(process.execPath, [repo('bin/romvisor.mjs'), 'boot', 'base', '--snapshot', '--mem', '128M', '--hostfwd', `tcp:127.0.0.1:0-:${GUEST_PORT}`]);
  return fetchThrough(guest, async () => {
    const m = await guest.until(/forwarding tcp:127\.0\.0\.1:(\d+)/);
    return m ? Number(m[1]) : undefined;
  });
}

async function qemuRun(work: string): Promise<Fetched> {
  const port = await freePort();
  const guest = new ConsoleProcess('qemu-system-riscv64', [
    ...qemuBaseApplianceArgs(work, '128M'),
    '-netdev', `user,id=n0,hostfwd=tcp:127.0.0.1:${port}-:${GUEST_PORT}`,
    '-device', 'virtio-net-device,netdev=n0',
  ]);
  return fetchThrough(guest, async () => port);
}

export const hostfwdGroup: BenchGroup = {
  name: 'hostfwd',
  description: `host to guest: HTTP fetch of a ${MIB} MiB file from the guest's busybox httpd through --hostfwd (romvisor's host endpoint) vs QEMU's -netdev user,hostfwd=`,
  async run(log) {
    const work = mkdtempSync(join(tmpdir(), 'romvisor-bench-hostfwd-'));
    try {
      log('hostfwd: romvisor');
      const r = await romvisorRun();
      log('hostfwd: qemu');
      const q = await qemuRun(work);
      const whole = (f: Fetched) => f.bytes === MIB * 2 ** 20;
      const row: BenchRow = { group: 'hostfwd', name: `http-${MIB}MiB`, outputsMatch: whole(r) && whole(q) };
      if (r.seconds !== undefined) row.romvisorSeconds = r.seconds;
      if (q.seconds !== undefined) row.qemuSeconds = q.seconds;
      if (r.seconds !== undefined && q.seconds !== undefined) row.ratio = r.seconds / q.seconds;
      const mbps = (s: number | undefined) => (s === undefined ? 'n/a' : `${((MIB * 2 ** 20) / s / 1e6).toFixed(1)} MB/s`);
      row.note = [`romvisor ${mbps(r.seconds)}`, `qemu ${mbps(q.seconds)}`, r.error && `romvisor: ${r.error}`, q.error && `qemu: ${q.error}`, !whole(r) && `romvisor sent ${r.bytes} bytes`, !whole(q) && `qemu sent ${q.bytes} bytes`]
        .filter((s) => s)
        .join(', ');
      return [row];
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};
