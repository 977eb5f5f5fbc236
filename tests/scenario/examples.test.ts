import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { decodeScenarioUrl, encodeScenarioUrl, guestBootOptions, parseScenarioJson, scenarioToJson, validateScenario, viewPanels } from '../../src/scenario/index.ts';

const dir = new URL('../../src/scenario/examples/', import.meta.url);
const examples = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();

describe('the example scenarios', () => {
  it('are the three teaching demos', () => {
    assert.deepEqual(examples, ['page-fault.json', 'reset-to-shell.json', 'system-call.json']);
  });

  for (const name of examples) {
    it(`${name} is valid, written in normal form, says what to watch, and fits in a link`, () => {
      const text = readFileSync(new URL(name, dir), 'utf8');
      const s = parseScenarioJson(text, name);
      // Stored exactly as "Download" would write it, so the files and the page never drift.
      assert.equal(scenarioToJson(s).replace(/\s+/g, ''), text.replace(/\s+/g, ''));
      assert.ok(s.title && s.notes && viewPanels(s)?.includes('console'), 'title, notes and a view with the console');
      assert.match(s.notes!, /[Ww]atch the/);
      assert.deepEqual(s.guests.map((g) => g.appliance), [{ builtin: 'base' }]);
      assert.deepEqual(decodeScenarioUrl(encodeScenarioUrl(s, 'https://romvisor.example/')), s);
    });
  }

  it('"from reset to shell" waits for the prompt, runs uname -a and expects riscv64, deterministically', () => {
    const s = parseScenarioJson(readFileSync(new URL('reset-to-shell.json', dir), 'utf8'));
    const g = s.guests[0]!;
    assert.equal(g.time, 'deterministic');
    assert.deepEqual(g.script, [
      { expect: '# ', timeout: 300 },
      { send: 'uname -a\n' },
      { expect: 'riscv64' },
    ]);
    assert.deepEqual(guestBootOptions(g, 'console=ttyS0'), {
      appliance: { builtin: 'base' },
      ramBytes: 128 * 2 ** 20,
      harts: 1,
      timeMode: 'deterministic',
      bootargs: 'console=ttyS0',
      script: g.script,
    });
  });

  it('"a page fault" runs /bin/pagefault-demo', () => {
    const s = parseScenarioJson(readFileSync(new URL('page-fault.json', dir), 'utf8'));
    assert.ok(s.guests[0]!.script?.some((step) => 'send' in step && step.send === '/bin/pagefault-demo\n'));
  });
});

describe('guest boot options', () => {
  it('append the scenario command line to the appliance one', () => {
    const g = { appliance: { local: 'x' }, memoryMiB: 64, cmdline: ' loglevel=8 ', time: 'realtime' as const };
    assert.deepEqual(guestBootOptions(g, 'console=ttyS0'), { appliance: { local: 'x' }, ramBytes: 64 * 2 ** 20, harts: 1, timeMode: 'realtime', bootargs: 'console=ttyS0 loglevel=8' });
    assert.equal(guestBootOptions(g, '').bootargs, 'loglevel=8');
  });

  it('has no appliance to boot for a kernel guest', () => {
    const g = validateScenario({ version: 1, guests: [{ kernel: { url: 'https://example.org/k', sha256: 'ab'.repeat(32) } }] }).guests[0]!;
    assert.throws(() => guestBootOptions(g, ''), /a kernel guest has no appliance/);
  });
});
