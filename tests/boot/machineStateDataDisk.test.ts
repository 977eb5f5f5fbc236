// `romvisor boot --save-state` and `--restore` with an appliance that has a data disk
// (/dev/vdb, /data; the update tests' version 1): the state freezes and names the data disk
// with the overlay (FILE.data.vhd, its sha256 in the state), a restore in a fresh process
// goes on with /data as it was at the save, writing into a new child (the frozen file stays
// as it was), byte for byte as the uninterrupted run in deterministic time; a frozen data
// disk written since refuses the restore by name, and --self-contained (which would not
// carry it) is refused.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readStateFile } from '../../src/state/stateFiles.node.ts';
import { tempDir } from '../disk/diskFixtures.ts';
import { makeUpdateRepository, UPDATE_APPLIANCE } from '../repo/updateFixture.ts';
import { runCli, writeScript } from './runCli.ts';

const PROMPT = '~ # ';
const { dir, cleanup } = tempDir('state-data-disk');
after(cleanup);
let appliance: string;
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

before(async () => {
  appliance = join((await makeUpdateRepository(dir)).dir, `${UPDATE_APPLIANCE}-1.vhd`);
});

describe('machine state of an appliance with a data disk', () => {
  it('freezes and names the data disk; the restore goes on with /data as at the save, as the uninterrupted run', { timeout: 900_000 }, async () => {
    const beforeSave = [
      { expect: PROMPT, timeout: 300 },
      { send: 'echo before-save > /data/f; sync; cat /data/f\n' },
      { expect: 'before-save' },
      { expect: PROMPT },
    ];
    const afterSave = [
      { send: 'echo after-restore >> /data/f; sync; cat /data/f; cat /proc/uptime; poweroff\n' },
      { expect: 'reboot: Power down', timeout: 300 },
    ];
    const det = ['--time', 'deterministic'];
    const whole = await runCli(['boot', appliance, '--snapshot', ...det, '--script', writeScript(dir, 'whole', [...beforeSave, ...afterSave])]);
    assert.equal(whole.code, 0, whole.stderr + whole.stdout.slice(-1500));

    const state = join(dir, 'upd.state');
    const saved = await runCli(['boot', appliance, ...det, '--script', writeScript(dir, 'before', beforeSave), '--save-state', state]);
    assert.equal(saved.code, 0, saved.stderr + saved.stdout.slice(-1500));
    assert.match(saved.stderr, new RegExp(`its disk ${state}\\.vhd and its data disk ${state}\\.data\\.vhd are frozen`));
    const { meta } = await readStateFile(state);
    assert.equal(meta.disks.length, 2);
    assert.deepEqual(meta.disks[1]!.chain.map((f) => [f.path, f.sha256]), [[`${state}.data.vhd`, sha(`${state}.data.vhd`)]]);
    const frozen = sha(`${state}.data.vhd`);

    const restored = await runCli(['boot', '--restore', state, '--script', writeScript(dir, 'after', afterSave)]);
    assert.equal(restored.code, 0, restored.stderr + restored.stdout.slice(-1500));
    assert.equal(restored.stderr, '', 'a restore prints nothing a normal run would not');
    assert.match(restored.stdout, /^before-save\r?\nafter-restore\r?$/m);
    assert.equal(saved.stdout + restored.stdout, whole.stdout, 'saved + restored is the uninterrupted run, byte for byte');
    assert.equal(sha(`${state}.data.vhd`), frozen, 'the restore wrote into a child, not the frozen data disk');

    // Into a named overlay: its data disk is a new child beside it, over the frozen one.
    const overlay = join(dir, 'again.vhd');
    const again = await runCli(['boot', '--restore', state, '--overlay', overlay, '--script', writeScript(dir, 'after', afterSave)]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stdout, restored.stdout);
    assert.ok(existsSync(join(dir, 'again.data.vhd')));
    const check = await runCli(['vhd', 'check', join(dir, 'again.data.vhd')]);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /no problems found \(differencing [0-9a-f-]+ -> dynamic/);

    // The frozen data disk written since: refused, by name.
    appendFileSync(`${state}.data.vhd`, Buffer.alloc(512));
    const refused = await runCli(['boot', '--restore', state, '--script', writeScript(dir, 'after', afterSave)]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, new RegExp(`${state}\\.data\\.vhd has \\d+ bytes, at the save it had \\d+: it was written since`));

    const self = await runCli(['boot', appliance, ...det, '--script', writeScript(dir, 'before', beforeSave), '--save-state', join(dir, 'self.state'), '--self-contained']);
    assert.equal(self.code, 2, self.stderr);
    assert.match(self.stderr, /--self-contained embeds one overlay over its base; this machine has a data disk too \(\/dev\/vdb, .*self\.state\.data\.vhd\), which it would not carry/);
  });
});
