/** Runs the `romvisor` CLI as a user would, capturing its output and exit code. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConsoleStep } from '../../src/scenario/consoleScript.ts';

export const ROMVISOR = fileURLToPath(new URL('../../bin/romvisor.mjs', import.meta.url));

/** Overlays and caches go to a data directory of the test run's own, never the user's. */
const DATA_HOME = mkdtempSync(join(tmpdir(), 'romvisor-data-'));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  /** Piped to the guest console (stdin); empty by default. */
  input?: string;
  timeoutMs?: number;
  /** Extra environment, e.g. an XDG_DATA_HOME of the test's own. */
  env?: Record<string, string>;
}

export function runCli(args: string[], opts: CliRunOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ROMVISOR, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, XDG_DATA_HOME: DATA_HOME, ...opts.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('latin1').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`romvisor ${args.join(' ')} did not finish in ${opts.timeoutMs} ms\n--- stdout tail:\n${stdout.slice(-2000)}\n--- stderr:\n${stderr}`));
    }, opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** Writes a console script into `dir` and returns its path. */
export function writeScript(dir: string, name: string, steps: ConsoleStep[]): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(steps));
  return path;
}

/** Shell commands that end a session with a clean root file system, then power off. */
export const CLEAN_POWEROFF = 'sync; mount -o remount,ro /; poweroff -f\n';
