// Guest to guest over the network: two base appliances, `web` and `client`, each on its
// own machine. The client pings web 20 times (0.2 s apart; the average RTT is ping's own)
// and then pushes 32 MiB of zeros with `dd | nc` to `nc -l` on web; the seconds are the
// client's /proc/uptime around the pipeline (nc ends once web has all of it and closes).
// romvisor runs the two as a realtime scenario on its switch (`romvisor boot
// SCENARIO.json`); QEMU runs two qemu-system-riscv64 processes with the same kernel and
// disk image, their virtio-net cards joined by `-netdev dgram` (UDP between the two
// processes on 127.0.0.1), addresses set by hand as QEMU has no DHCP on that link.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { qemuBaseApplianceArgs } from '../qemuAppliance.ts';
import { linesOf, PROMPT, QemuGuest, repo, runToEnd } from '../QemuGuest.ts';
import type { BenchGroup, BenchRow } from '../Types.ts';

const MIB = 32;
const PINGS = 20;
const PORT = 5001;
/** QEMU's link has no DHCP server: fixed addresses in the same /24 the switch uses. */
const QEMU_WEB_IP = '10.0.2.200';
const QEMU_CLIENT_IP = '10.0.2.201';

/** What the client types: ping, then the timed push; `target` is web's name or address. */
function clientCommands(target: string): string {
  return (
    `ping -c ${PINGS} -i 0.2 ${target} | tail -1; ` +
    "a=$(cut -d' ' -f1 /proc/uptime); " +
    `dd if=/dev/zero bs=1M count=${MIB} 2>/dev/null | nc ${target} ${PORT}; ` +
    "b=$(cut -d' ' -f1 /proc/uptime); " +
    'echo "xfer $a $b"; echo bench-$((1+1))\n'
  );
}
// stdin from /dev/null: BusyBox nc keeps running after the peer closes while its stdin is open.
const SERVER_COMMANDS = `nc -l -p ${PORT} < /dev/null | wc -c; echo rx-$((2+3))\n`;

interface NetFigures {
  rttMs?: number;
  seconds?: number;
  /** Bytes web counted (wc -c): the whole 32 MiB arrived. */
  received?: number;
  error?: string;
}

function figures(client: string, web: string): NetFigures {
  const rtt = /round-trip min\/avg\/max = [\d.]+\/([\d.]+)\/[\d.]+ ms/.exec(client);
  const xfer = /xfer ([\d.]+) ([\d.]+)/.exec(client);
  const rx = /^(\d+)\s*$/m.exec(web.split('rx-5')[0]!.split('\n').slice(-3).join('\n'));
  const f: NetFigures = {};
  if (rtt) f.rttMs = Number(rtt[1]);
  if (xfer) f.seconds = Number(xfer[2]) - Number(xfer[1]);
  if (rx) f.received = Number(rx[1]);
  if (!rtt || !xfer) f.error = `no figures in the client's output: ${client.trim().slice(-300)}`;
  return f;
}

/** romvisor: the two guests as a realtime scenario; their console lines come back behind [name]. */
async function romvisorRun(work: string, jit: 'off' | 'auto'): Promise<NetFigures> {
  const scenario = join(work, 'net.json');
  writeFileSync(
    scenario,
    JSON.stringify({
      version: 1,
      guests: [
        { name: 'web', appliance: { builtin: 'base' }, time: 'realtime', script: [{ expect: PROMPT, timeout: 300 }, { send: SERVER_COMMANDS }, { expect: 'rx-5', timeout: 600 }] },
        {
          name: 'client',
          appliance: { builtin: 'base' },
          time: 'realtime',
          // web's prompt comes at about the same time; a second lets its nc listen first.
          script: [{ expect: PROMPT, timeout: 300 }, { wait: 2 }, { send: clientCommands('web') }, { expect: 'bench-2', timeout: 600 }],
        },
      ],
    }),
  );
  const out = await runToEnd(process.execPath, [repo('bin/romvisor.mjs'), 'boot', scenario, '--hang-timeout', '600', '--jit', jit]);
  return figures(linesOf(out, 'client'), linesOf(out, 'web'));
}

async function qemuRun(work: string): Promise<NetFigures> {
  const base = qemuBaseApplianceArgs(work, '256M');
  const ports = [41000 + (process.pid % 1000) * 2, 41001 + (process.pid % 1000) * 2];
  const dgram = (i: 0 | 1) => `dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=${ports[i]},remote.type=inet,remote.host=127.0.0.1,remote.port=${ports[1 - i]}`;
  const web = new QemuGuest(base, dgram(0), '52:54:00:00:00:0a');
  const client = new QemuGuest(base, dgram(1), '52:54:00:00:00:0b');
  try {
    await Promise.all([web.atPrompt, client.atPrompt]);
    await Promise.all([web.setAddress(QEMU_WEB_IP), client.setAddress(QEMU_CLIENT_IP)]);
    web.type(SERVER_COMMANDS);
    await new Promise((r) => setTimeout(r, 2000));
    client.type(clientCommands(QEMU_WEB_IP));
    await Promise.all([client.until('bench-2'), web.until('rx-5')]);
    return figures(client.output, web.output);
  } finally {
    web.kill();
    client.kill();
  }
}

export const networkGroup: BenchGroup = {
  name: 'network',
  description: `guest to guest: ping RTT (${PINGS} pings) and ${MIB} MiB over nc, romvisor's switch (two guests, one scenario; also with --jit auto) vs two QEMUs on -netdev dgram`,
  async run(log) {
    const work = mkdtempSync(join(tmpdir(), 'romvisor-bench-net-'));
    try {
      log('network: romvisor');
      const r = await romvisorRun(work, 'off');
      // The transfer is guest work at the interpreter's pace (the switch's share of a
      // profile is noise): the JIT tier is the lever, so its figures go beside.
      log('network: romvisor --jit auto');
      const j = await romvisorRun(work, 'auto');
      log('network: qemu');
      const q = await qemuRun(work);
      const whole = (f: NetFigures) => f.received === MIB * 2 ** 20;
      const rows: BenchRow[] = [];
      const push: BenchRow = { group: 'network', name: `nc-${MIB}MiB`, outputsMatch: whole(r) && whole(q) };
      if (r.seconds !== undefined) push.romvisorSeconds = r.seconds;
      if (q.seconds !== undefined) push.qemuSeconds = q.seconds;
      if (r.seconds !== undefined && q.seconds !== undefined) push.ratio = r.seconds / q.seconds;
      if (j.seconds !== undefined) push.jitSeconds = j.seconds;
      if (j.seconds !== undefined && q.seconds !== undefined) push.jitRatio = j.seconds / q.seconds;
      const mbps = (s: number | undefined) => (s === undefined ? 'n/a' : `${((MIB * 2 ** 20) / s / 1e6).toFixed(1)} MB/s`);
      push.note = [`romvisor ${mbps(r.seconds)}`, `with --jit auto ${mbps(j.seconds)}`, `qemu ${mbps(q.seconds)}`, r.error && `romvisor: ${r.error}`, j.error && `romvisor --jit auto: ${j.error}`, q.error && `qemu: ${q.error}`, !whole(r) && `romvisor's web got ${r.received} bytes`, !whole(q) && `qemu's web got ${q.received} bytes`]
        .filter((s) => s)
        .join(', ');
      rows.push(push);
      const ping: BenchRow = { group: 'network', name: `ping-rtt-avg`, outputsMatch: r.rttMs !== undefined && q.rttMs !== undefined };
      // Seconds of one round trip, so the table's ratio reads as for the other rows.
      if (r.rttMs !== undefined) ping.romvisorSeconds = r.rttMs / 1000;
      if (q.rttMs !== undefined) ping.qemuSeconds = q.rttMs / 1000;
      if (r.rttMs !== undefined && q.rttMs !== undefined) ping.ratio = r.rttMs / q.rttMs;
      if (j.rttMs !== undefined) ping.jitSeconds = j.rttMs / 1000;
      if (j.rttMs !== undefined && q.rttMs !== undefined) ping.jitRatio = j.rttMs / q.rttMs;
      ping.note = `romvisor ${r.rttMs ?? 'n/a'} ms, with --jit auto ${j.rttMs ?? 'n/a'} ms, qemu ${q.rttMs ?? 'n/a'} ms (average of ${PINGS})`;
      rows.push(ping);
      for (const row of rows) log(`network: ${row.name}: ${row.note}`);
      return rows;
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};
