/** `npm run fuzz -- --target crash --count N`: N kills of the CLI and N of Chromium, each checked. */
import { startEnv } from '../e2e/harness.ts';
import { SeededRandom } from '../SeededRandom.ts';
import { browserCrashRound } from './browserCrash.ts';
import { cliCrashRound } from './cliCrash.ts';
import { describeVerdict, type CrashVerdict } from './crashCheck.ts';

export interface CrashFuzzResult {
  kills: number;
  confirmed: number;
  intact: number;
  cleanFsck: number;
  failures: string[];
}

export async function fuzzCrashes(count: number, seed: number, log: (line: string) => void): Promise<CrashFuzzResult> {
  const rng = new SeededRandom(seed);
  const result: CrashFuzzResult = { kills: 0, confirmed: 0, intact: 0, cleanFsck: 0, failures: [] };
  const tally = (where: string, v: CrashVerdict & { killedAfterMs: number }) => {
    const line = describeVerdict(`${where}, kill after ${v.killedAfterMs} ms`, v);
    log(line);
    result.kills++;
    result.confirmed += v.confirmed;
    result.intact += v.intact;
    if (v.fsck === 0) result.cleanFsck++;
    else result.failures.push(`${line}\n${v.fsckOutput}`);
    for (const b of v.bad) result.failures.push(`${where}: ${b}`);
  };
  for (let k = 0; k < count; k++) tally(`cli ${k + 1}`, await cliCrashRound(rng));
  const env = await startEnv();
  try {
    for (let k = 0; k < count; k++) tally(`chromium ${k + 1}`, await browserCrashRound(env, rng));
  } finally {
    await env.close();
  }
  return result;
}
