// Boots a guest with its console on stdin/stdout (romvisor's CLI or qemu-system-riscv64),
// types commands at the first prompt, waits for it to power off, and collects the reports
// of BusyBox `dd` ("N bytes (...) copied, S seconds"): the disk and shared-folder groups
// measure I/O as the guest's own dd sees it.
import { spawn } from 'node:child_process';
import type { BenchRow } from './Types.ts';

export interface DdResult {
  bytes: number;
  seconds: number;
}

export interface DdSession {
  output: string;
  /** The dd reports in the order the guest printed them. */
  dd: DdResult[];
  /** Why the session did not give `reports` dd reports, if it did not. */
  error?: string;
}

export function ddSession(cmd: string, args: string[], opts: { prompt: string; commands: string; reports: number; timeoutMs: number }): Promise<DdSession> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    let sent = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.stdout.setEncoding('latin1').on('data', (d: string) => {
      output += d;
      if (!sent && output.includes(opts.prompt)) {
        sent = true;
        child.stdin.write(opts.commands);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (errors += d));
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ output, dd: [], error: `cannot start ${cmd}: ${e.message}` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const dd = [...output.matchAll(/(\d+) bytes \([^)]*\) copied, ([\d.]+) seconds/g)].map((m) => ({ bytes: Number(m[1]), seconds: Number(m[2]) }));
      const error = dd.length === opts.reports ? undefined : `${cmd} ended (${signal ?? `exit ${code}`}) with ${dd.length} dd reports: ${(errors || output).trim().slice(-300)}`;
      resolve({ output, dd, error });
    });
  });
}

/** Throughput in MB/s (10^6 bytes), as dd prints it. */
export const mbps = (r: DdResult) => r.bytes / r.seconds / 1e6;

/**
 * The row of the `i`-th dd report, romvisor's beside QEMU's: it matches when both copied
 * `bytes` and nothing else went wrong (`problem`, which the note then says too).
 */
export function ddRow(group: string, name: string, i: number, romvisor: DdSession, qemu: DdSession, bytes: number, problem?: string): BenchRow {
  const r = romvisor.dd[i];
  const q = qemu.dd[i];
  const row: BenchRow = { group, name, qemuSeconds: q?.seconds ?? Number.NaN, outputsMatch: !!r && !!q && r.bytes === q.bytes && r.bytes === bytes && !problem };
  if (r) row.romvisorSeconds = r.seconds;
  if (r && q) row.ratio = r.seconds / q.seconds;
  row.note = [
    r ? `romvisor ${mbps(r).toFixed(1)} MB/s` : `romvisor: ${romvisor.error}`,
    q ? `qemu ${mbps(q).toFixed(1)} MB/s` : `qemu: ${qemu.error}`,
    r && q ? `qemu/romvisor throughput ${(mbps(q) / mbps(r)).toFixed(2)}x` : '',
    problem ?? '',
  ].filter((s) => s).join(', ');
  return row;
}
