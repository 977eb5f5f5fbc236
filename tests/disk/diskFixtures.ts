// Shared by the disk tests: temp dirs, deterministic patterns, and the external tools
// (qemu-img, mke2fs, debugfs) the tests compare against.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const QEMU_IMG = '/usr/bin/qemu-img';

/** A fresh directory removed by the returned function. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `romvisor-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Bytes where every 512-byte sector is distinct (sector number + seed mixed in), so a
 * read from the wrong sector, block or chain member cannot pass by accident.
 */
export function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function qemuImg(...args: string[]): string {
  return run(QEMU_IMG, args);
}

export function qemuVirtualSize(path: string): number {
  return JSON.parse(qemuImg('info', '-f', 'vpc', '--output=json', path))['virtual-size'];
}

/** qemu-utils is installed by another process on fresh machines; wait for it briefly. */
export async function waitForQemuImg(timeoutMs = 300_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(QEMU_IMG)) {
    if (Date.now() > until) throw new Error(`${QEMU_IMG} did not appear; install qemu-utils`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}
