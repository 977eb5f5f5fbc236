// A machine saved at its shell prompt and restored in a fresh process goes on exactly as the
// run that was never saved: for the base, SQLite and Lua appliances, in deterministic time,
// with a disk write before the save and one after the restore, the saving run's console
// followed by the restored run's is byte for byte the uninterrupted run's console (uptime
// interrupt counts and the kernel's clock in 100 ns ticks included, so the input lands on
// the same instruction), and the same again with the JIT on in the restored run, and with
// --jit eager in both the saving and the restored run. The state's
// frozen overlay refuses a restore once written; a second restore of one state works.
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runCli } from './runCli.ts';
import { readStateFile } from '../../src/state/stateFiles.node.ts';

const appliance = (name: string) => fileURLToPath(new URL(`../../appliances/${name}.vhd.gz`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'romvisor-state-'));
const PROMPT = '~ # ';
/** --jit eager compiles every page the boot runs: a minute or more of a loaded machine. */
const EAGER_MS = 900_000;

function script(name: string, steps: unknown[]): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(steps));
  return path;
}

const APPS = [
  { name: 'base', run: 'pagefault-demo' },
  { name: 'sqlite', run: 'sqlite3 /root/sample.db "insert into planets values (\'x\', 1); select count(*) from planets"' },
  { name: 'lua', run: 'lua -e "for i=1,3 do print(\'lua\', i*7) end"' },
];

for (const app of APPS) {
  describe(`machine state of the ${app.name} appliance`, () => {
    it('restored in a fresh process continues byte for byte as the uninterrupted run', async () => {
      const before = [
        { expect: PROMPT, timeout: 300 },
        { send: `echo written-before > /root/f; sync; cat /root/f; ${app.run}\n` },
        { expect: 'written-before' },
        { expect: PROMPT },
      ];
      const after = [
        { send: `echo written-after >> /root/f; sync; cat /root/f; ${app.run}; cat /proc/uptime /proc/interrupts; grep now /proc/timer_list; poweroff\n` },
        { expect: 'reboot: Power down', timeout: 300 },
      ];
      const det = ['--time', 'deterministic'];
      const whole = await runCli(['boot', appliance(app.name), '--snapshot', ...det, '--script', script(`${app.name}-whole`, [...before, ...after])]);
      assert.equal(whole.code, 0, whole.stderr + whole.stdout.slice(-1500));

      const state = join(dir, `${app.name}.state`);
      const saved = await runCli(['boot', appliance(app.name), ...det, '--script', script(`${app.name}-before`, before), '--save-state', state]);
      assert.equal(saved.code, 0, saved.stderr + saved.stdout.slice(-1500));
      assert.ok(existsSync(state) && existsSync(`${state}.vhd`), 'the state and its frozen overlay are written');

      const restored = await runCli(['boot', '--restore', state, '--script', script(`${app.name}-after`, after)]);
      assert.equal(restored.code, 0, restored.stderr + restored.stdout.slice(-1500));
      assert.equal(restored.stderr, '', 'a restore prints nothing a normal run would not');
      assert.match(restored.stdout, /^written-before\r?\nwritten-after\r?$/m);
      assertSameText(saved.stdout + restored.stdout, whole.stdout);

      // The JIT changes nothing a guest sees, restored or not.
      const jit = await runCli(['boot', '--restore', state, '--jit', 'auto', '--script', script(`${app.name}-after`, after)]);
      assert.equal(jit.code, 0, jit.stderr);
      assertSameText(jit.stdout, restored.stdout);

      // Saved and restored with every page compiled (--jit eager): the same bytes as the uninterrupted interpreter run.
      const eagerState = join(dir, `${app.name}-eager.state`);
      const savedEager = await runCli(['boot', appliance(app.name), ...det, '--jit', 'eager', '--script', script(`${app.name}-before`, before), '--save-state', eagerState], { timeoutMs: EAGER_MS });
      assert.equal(savedEager.code, 0, savedEager.stderr);
      const restoredEager = await runCli(['boot', '--restore', eagerState, '--jit', 'eager', '--script', script(`${app.name}-after`, after)], { timeoutMs: EAGER_MS });
      assert.equal(restoredEager.code, 0, restoredEager.stderr);
      assertSameText(savedEager.stdout + restoredEager.stdout, whole.stdout);

      // The same state again, into its own new overlay: the same bytes once more.
      const overlay = join(dir, `${app.name}-again.vhd`);
      const again = await runCli(['boot', '--restore', state, '--overlay', overlay, '--script', script(`${app.name}-after`, after)]);
      assert.equal(again.code, 0, again.stderr);
      assertSameText(again.stdout, restored.stdout);
      assert.ok(existsSync(overlay));

      // A frozen overlay written since the save no longer matches its state.
      appendFileSync(`${state}.vhd`, Buffer.alloc(512));
      const refused = await runCli(['boot', '--restore', state, '--script', script(`${app.name}-after`, after)]);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /was written since/);
      assert.equal(refused.stdout, '');
    });
  });
}

describe('machine state in the middle of a boot', () => {
  it('holds the disk reads in flight and the restored machine completes them as the uninterrupted one', async () => {
    // Saved at the first idle point after init starts: the root file system is being read.
    const early = [{ expect: 'Run /sbin/init', timeout: 300 }];
    const rest = [
      { expect: PROMPT, timeout: 300 },
      { send: 'echo written-after > /root/g; sync; cat /root/g; cat /proc/interrupts; grep now /proc/timer_list; poweroff\n' },
      { expect: 'reboot: Power down', timeout: 300 },
    ];
    const det = ['--time', 'deterministic'];
    const whole = await runCli(['boot', appliance('base'), '--snapshot', ...det, '--script', script('boot-whole', [...early, ...rest])]);
    assert.equal(whole.code, 0, whole.stderr);
    const state = join(dir, 'boot.state');
    const saved = await runCli(['boot', appliance('base'), ...det, '--script', script('boot-early', early), '--save-state', state]);
    assert.equal(saved.code, 0, saved.stderr);
    const { state: s } = await readStateFile(state);
    assert.ok(s.completions.length > 0, 'the state was taken with no disk request in flight: this test needs another save point to prove anything');
    const restored = await runCli(['boot', '--restore', state, '--script', script('boot-rest', rest)]);
    assert.equal(restored.code, 0, restored.stderr + restored.stdout.slice(-1500));
    assertSameText(saved.stdout + restored.stdout, whole.stdout);
  });
});

/** Equal texts, or a failure that shows the first line where they part. */
function assertSameText(got: string, want: string): void {
  if (got === want) return;
  const g = got.split('\n');
  const w = want.split('\n');
  const i = w.findIndex((l, k) => l !== g[k]);
  assert.fail(`differs first at line ${i + 1} of ${w.length}:\n  uninterrupted: ${JSON.stringify(w[i])}\n  saved+restored: ${JSON.stringify(g[i])}`);
}
