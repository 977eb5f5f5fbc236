// Runs the `romvisor` CLI as a user would (a child process), for the boot tests.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ConsoleStep } from '../../src/scenario/consoleScript.ts';

const BIN = fileURLToPath(new URL('../../bin/romvisor.mjs', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Extra environment, e.g. XDG_DATA_HOME pointing into a temp dir. */
  env?: Record<string, string>;
  /** Piped to the guest console (stdin). */
  input?: string;
  timeoutMs?: number;
}

export function romvisor(args: string[], opts: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...opts.env },
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('latin1').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
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
