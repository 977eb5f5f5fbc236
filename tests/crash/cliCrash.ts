/**
 * The crash test in the CLI: `romvisor boot` of the base appliance on an overlay runs
 * the write-and-sync loop and is SIGKILLed at a random moment; then one boot on the same
 * overlay (the journal is replayed at mount) powers off cleanly, and the overlay is
 * checked (crashCheck.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROMVISOR, runCli } from '../boot/runCli.ts';
import type { SeededRandom } from '../SeededRandom.ts';
import { checkCrashedDisk, confirmedFiles, GUEST_LOOP, type CrashVerdict } from './crashCheck.ts';

const BASE = fileURLToPath(new URL('../../appliances/base.vhd.gz', import.meta.url));
const PROMPT = /(^|\n)[~/][^\n]* # $/;

export interface CliCrashRound extends CrashVerdict {
  killedAfterMs: number;
}

/** Boots on `overlay`, starts the loop, SIGKILLs the process `killAfterMs` later; gives the console text. */
function runAndKill(overlay: string, env: Record<string, string>, killAfterMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ROMVISOR, 'boot', BASE, '--overlay', overlay], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let started = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the guest did not reach its prompt in 60 s:\n${out.slice(-1500)}`));
    }, 60_000);
    child.stdout.setEncoding('latin1').on('data', (d: string) => {
      out += d;
      if (!started && PROMPT.test(out)) {
        started = true;
        clearTimeout(timer);
        child.stdin.write(GUEST_LOOP);
        setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      }
    });
    child.on('error', reject);
    child.on('close', () => resolve(out));
  });
}

/** One kill and its check, on a fresh overlay in a directory of its own. */
export async function cliCrashRound(rng: SeededRandom): Promise<CliCrashRound> {
  const dir = mkdtempSync(join(tmpdir(), 'romvisor-crash-'));
  try {
    const env = { XDG_DATA_HOME: join(dir, 'data') };
    const overlay = join(dir, 'overlay.vhd');
    const killedAfterMs = rng.int(200, 4000);
    const text = await runAndKill(overlay, env, killedAfterMs);
    const confirmed = confirmedFiles(text);
    // The lock the killed run held is taken over; the journal is replayed at mount.
    const again = await runCli(['boot', BASE, '--overlay', overlay], { input: `ls ${'/root/crash'} | wc -l\npoweroff\n`, env, timeoutMs: 90_000 });
    if (again.code !== 0) throw new Error(`the boot after the kill exited ${again.code}:\n${again.stderr}\n${again.stdout.slice(-1500)}`);
    return { killedAfterMs, ...checkCrashedDisk(overlay, confirmed) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
