// Runs a bare-metal ELF on the reference machine, `qemu-system-riscv64 -M virt -bios none`,
// and collects what the program printed on the UART. The ISA tests, the differential
// fuzzer and the benchmarks all use QEMU as the peer through this one function.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface QemuResult {
  /** Everything the guest wrote to the UART, as latin1. */
  uart: string;
  /** QEMU's exit status: 0 for the sifive test device's pass, the fail code otherwise. */
  exitCode: number | null;
  /** True when the run was killed at the time limit instead of powering off. */
  timedOut: boolean;
  /** Wall time from spawn to exit, start-up included. */
  wallSeconds: number;
}

export interface QemuOptions {
  /** Kill QEMU after this long (a program that never powers off). Default 60 s. */
  timeoutMs?: number;
  /** Harts (-smp), default 1. */
  harts?: number;
}

export const QEMU = 'qemu-system-riscv64';

export function runQemu(elfPath: string, opts: QemuOptions = {}): Promise<QemuResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  // The UART goes to a file, not a pipe: when a pipe is full QEMU's 16550 drops what a
  // guest writes without polling LSR, and the fuzzer's dumps are tens of KiB.
  const dir = mkdtempSync(join(tmpdir(), 'romvisor-qemu-'));
  const uartFile = join(dir, 'uart');
  const args = ['-M', 'virt', '-bios', 'none', '-display', 'none', '-serial', `file:${uartFile}`, '-monitor', 'none', '-kernel', elfPath];
  if (opts.harts !== undefined) args.push('-smp', String(opts.harts));
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(QEMU, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.resume();
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      reject(new Error(`cannot start ${QEMU}: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const wallSeconds = Number(process.hrtime.bigint() - start) / 1e9;
      const stderr = Buffer.concat(err).toString('latin1');
      let uart = '';
      try {
        uart = readFileSync(uartFile).toString('latin1');
      } catch {
        // QEMU failed before opening the file; stderr says why.
      }
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0 && !timedOut && stderr.includes('qemu-system-riscv64:')) {
        reject(new Error(`${QEMU} failed on ${elfPath}: ${stderr.trim()}`));
        return;
      }
      resolve({ uart, exitCode: code, timedOut, wallSeconds });
    });
  });
}
