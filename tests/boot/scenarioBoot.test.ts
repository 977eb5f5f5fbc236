// `romvisor boot SCENARIO.json`: the scenario's guests on fresh snapshots, their scripts
// played, the exit code telling CI whether every step passed.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runCli } from './runCli.ts';

const dir = mkdtempSync(join(tmpdir(), 'romvisor-scenario-'));
const example = (name: string) => fileURLToPath(new URL(`../../src/scenario/examples/${name}.json`, import.meta.url));
function scenarioFile(name: string, scenario: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(scenario));
  return path;
}

describe('romvisor boot SCENARIO.json', () => {
  it('plays the shipped "from reset to shell" example and exits 0', async () => {
    const r = await runCli(['boot', example('reset-to-shell')]);
    assert.equal(r.code, 0, r.stderr);
    // The guest is named base-1 by default: DHCP gives it that hostname.
    assert.match(r.stdout, /Linux base-1 6\.1\.\d+ .* riscv64 GNU\/Linux/);
  });

  it('prints byte-identical consoles for a deterministic scenario that writes to its disk, run twice', async () => {
    const s = scenarioFile('writes.json', {
      version: 1,
      guests: [{
        appliance: { builtin: 'base' },
        time: 'deterministic',
        script: [
          { expect: '~ # ', timeout: 120 },
          { send: 'echo written-$((1+1)) > /root/run.txt; sync; cat /root/run.txt\n' },
          { expect: 'written-2' },
          { wait: 1 },
          { send: 'poweroff\n' },
          { expect: 'reboot: Power down' },
        ],
      }],
    });
    const a = await runCli(['boot', s]);
    const b = await runCli(['boot', s]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(a.stdout, b.stdout);
  });

  it('exits 1 when a step fails and 2 for a scenario that does not validate', async () => {
    const failing = scenarioFile('failing.json', {
      version: 1,
      guests: [{ appliance: { builtin: 'base' }, time: 'deterministic', script: [{ expect: '~ # ', timeout: 120 }, { send: 'poweroff -f\n' }, { expect: 'never' }] }],
    });
    const r = await runCli(['boot', failing]);
    assert.equal(r.code, 1, r.stderr);

    const bad = scenarioFile('bad.json', { version: 1, guests: [{ appliance: { builtin: 'base' }, memoryMiB: 3 }] });
    const r2 = await runCli(['boot', bad]);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /guests\[0\]\.memoryMiB: 3 MiB is below the minimum of 64 MiB/);

    const missing = scenarioFile('missing.json', { version: 1, guests: [{ appliance: { builtin: 'nosuch' } }] });
    const r3 = await runCli(['boot', missing]);
    assert.equal(r3.code, 2);
    assert.match(r3.stderr, /guests\[0\]\.appliance: there is no built-in appliance "nosuch"/);
  });
});
