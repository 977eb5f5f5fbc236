// Disk safety of `romvisor boot`: an overlay serves one run at a time (a second run is
// refused with exit 2, a killed run does not block the next), a base image is shared by
// any number of runs, and an overlay that is the image itself is refused.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256, tempDir } from '../disk/diskFixtures.ts';
import { CLEAN_POWEROFF, ROMVISOR, runCli, writeScript, type CliRunOptions } from './runCli.ts';
import { buildTestAppliance, PROMPT } from './testAppliance.ts';

let dir: string;
let cleanup: () => void;
/** A private copy of the test appliance, so no other test file's runs lock it. */
let image: string;
let env: Record<string, string>;
/** Powers off after a few seconds at the prompt: long enough for a second run to meet it. */
let slow: string;
let quick: string;

before(async () => {
  const appliance = await buildTestAppliance();
  ({ dir, cleanup } = tempDir('boot-lock'));
  image = join(dir, 'appliance.vhd');
  copyFileSync(appliance.path, image);
  env = { XDG_DATA_HOME: join(dir, 'data') };
  slow = writeScript(dir, 'slow', [{ expect: PROMPT }, { send: 'sleep 3; ' + CLEAN_POWEROFF }, { expect: 'reboot: Power down', timeout: 30 }]);
  quick = writeScript(dir, 'quick', [{ expect: PROMPT }, { send: CLEAN_POWEROFF }, { expect: 'reboot: Power down', timeout: 30 }]);
});
after(() => cleanup());

const romvisor = (args: string[], opts: CliRunOptions = {}) => runCli(args, { env, ...opts });
const fileSha = (p: string) => sha256(readFileSync(p));

/** Waits until the lock directory `dir` has an entry matching `entry`; returns its PID. */
async function lockHolder(lockDir: string, entry: RegExp, timeoutMs = 30_000): Promise<number> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = existsSync(lockDir) ? readdirSync(lockDir).map((n) => entry.exec(n)).find((m) => m) : undefined;
    if (found) return Number(found[1]);
    if (Date.now() > until) throw new Error(`no ${entry} in ${lockDir} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Lock directories and temporary files left anywhere under `root`. */
function leftoverLocks(root: string): string[] {
  return (readdirSync(root, { recursive: true }) as string[]).filter((p) => /\.(lock|tmp)$/.test(p));
}

/** A PID that is certainly not running: a process that has exited and been reaped. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('romvisor boot locks its overlay', () => {
  it('refuses a second run on an --overlay in use, while the first runs on', async () => {
    const overlay = join(dir, 'busy.vhd');
    const first = romvisor(['boot', image, '--overlay', overlay, '--script', slow]);
    const pid = await lockHolder(`${overlay}.lock`, /^write-(\d+)-/);
    const second = await romvisor(['boot', image, '--overlay', overlay, '--script', quick]);
    assert.equal(second.code, 2, second.stderr);
    assert.equal(second.stderr, `romvisor boot: ${overlay} is in use by process ${pid}\n`);
    assert.equal(second.stdout, '', 'the second run never booted');
    const r = await first;
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(-1000));
    assert.deepEqual(leftoverLocks(dir), [], 'the first run removed its locks on poweroff');
    const check = await romvisor(['vhd', 'check', overlay]);
    assert.equal(check.code, 0, check.stdout);
  });

  it('refuses a second run on the default overlay in the data directory', async () => {
    const first = romvisor(['boot', image], { input: 'sleep 3; ' + CLEAN_POWEROFF });
    const overlays = join(dir, 'data', 'romvisor', 'overlays');
    const lockDir = await (async () => {
      const until = Date.now() + 30_000;
      for (;;) {
        const l = existsSync(overlays) && readdirSync(overlays).find((n) => n.endsWith('.vhd.lock'));
        if (l) return join(overlays, l);
        if (Date.now() > until) throw new Error(`no overlay lock in ${overlays}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const pid = await lockHolder(lockDir, /^write-(\d+)-/);
    const second = await romvisor(['boot', image], { input: CLEAN_POWEROFF });
    assert.equal(second.code, 2, second.stderr);
    assert.equal(second.stderr, `romvisor boot: ${lockDir.slice(0, -'.lock'.length)} is in use by process ${pid}\n`);
    assert.equal((await first).code, 0);
    assert.deepEqual(leftoverLocks(dir), []);
  });

  it('takes over the lock of a run that is no longer running', async () => {
    const overlay = join(dir, 'stale.vhd');
    const dead = deadPid();
    mkdirSync(`${overlay}.lock`);
    writeFileSync(join(`${overlay}.lock`, `write-${dead}-1`), `${dead}\n`);
    // The run was killed while it created the overlay, under a temporary name.
    writeFileSync(`${overlay}.${dead}.tmp`, '');
    const r = await romvisor(['boot', image, '--overlay', overlay, '--script', quick]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(leftoverLocks(dir), [], 'the stale lock and temporary file are gone');
    // A plain lock file with the PID of a dead process, as a hand-written lock would be.
    writeFileSync(`${overlay}.lock`, `${dead}\n`);
    const again = await romvisor(['boot', image, '--overlay', overlay, '--script', quick]);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(!existsSync(`${overlay}.lock`));
  });

  it('is not blocked by a SIGKILLed run, and is released by SIGTERM', async () => {
    const overlay = join(dir, 'killed.vhd');
    for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
      const child = spawn(process.execPath, [ROMVISOR, 'boot', image, '--overlay', overlay, '--script', slow], { env: { ...process.env, ...env }, stdio: 'ignore' });
      const exited = new Promise((r) => child.on('exit', r));
      assert.equal(await lockHolder(`${overlay}.lock`, /^write-(\d+)-/), child.pid);
      child.kill(signal);
      await exited;
      assert.equal(child.signalCode, signal);
      if (signal === 'SIGTERM') assert.deepEqual(leftoverLocks(dir), [], 'SIGTERM released every lock');
      const next = await romvisor(['boot', image, '--overlay', overlay, '--script', quick]);
      assert.equal(next.code, 0, `after ${signal}: ${next.stderr}`);
      assert.deepEqual(leftoverLocks(dir), []);
    }
  });
});

describe('romvisor boot shares its base image', () => {
  it('runs two guests over one base at once, and keeps writers of the base out meanwhile', async () => {
    const before = fileSha(image);
    const runs = [romvisor(['boot', image, '--snapshot', '--script', slow]), romvisor(['boot', image, '--snapshot', '--script', slow])];
    let readers = 0;
    const until = Date.now() + 30_000;
    while (readers < 2 && Date.now() < until) {
      readers = existsSync(`${image}.lock`) ? readdirSync(`${image}.lock`).filter((n) => n.startsWith('read-')).length : 0;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(readers, 2, 'both runs read the base at the same time');
    const writer = await romvisor(['vhd', 'create', image, '4M']);
    assert.equal(writer.code, 2);
    assert.match(writer.stderr, new RegExp(`^romvisor vhd create: ${image} is in use by process \\d+\\n$`));
    for (const r of await Promise.all(runs)) assert.equal(r.code, 0, r.stderr + r.stdout.slice(-1000));
    assert.equal(fileSha(image), before);
    assert.deepEqual(leftoverLocks(dir), []);
  });
});

describe('romvisor boot refuses an overlay that is its image', () => {
  it('by name, through a symlink or a hard link, or as a disk below the image', async () => {
    const before = fileSha(image);
    const sym = join(dir, 'sym.vhd');
    symlinkSync(image, sym);
    const hard = join(dir, 'hard.vhd');
    linkSync(image, hard);
    for (const overlay of [image, sym, hard]) {
      const r = await romvisor(['boot', image, '--overlay', overlay, '--script', quick]);
      assert.equal(r.code, 2, `--overlay ${overlay}: ${r.stderr}`);
      assert.equal(r.stderr, `romvisor boot: overlay ${overlay} is the same file as ${image}; guest writes never go into the image\n`);
    }
    // The image is a differencing child; its parent is no overlay either.
    const child = join(dir, 'child.vhd');
    assert.equal((await romvisor(['vhd', 'create', child, '--parent', image])).code, 0);
    const r = await romvisor(['boot', child, '--overlay', hard, '--script', quick]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^romvisor boot: overlay .*hard\.vhd is the same file as .*appliance\.vhd, the parent of .*child\.vhd; guest writes never go into the image\n$/);
    assert.equal(fileSha(image), before, 'the image is byte-for-byte unchanged');
    assert.deepEqual(leftoverLocks(dir), []);
  });
});
