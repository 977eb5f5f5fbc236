// One rule for a VM's name: what the page's createVm, `romvisor boot --name`, a scenario's
// guest name and the switch accept is one pattern, so no VM is created that its switch then
// refuses (a page VM named `my_vm` or `mine.vhd-1` used to boot without a network card).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '../../tests/SeededRandom.ts';
import { validateScenario } from '../scenario/index.ts';
import { EthernetSwitch, NetError, VM_NAME_PATTERN, vmNameFrom, vmNameProblem } from './index.ts';

const switchTakes = (name: string): boolean => {
  const sw = new EthernetSwitch({ delivery: 'manual', clockUs: () => 0 });
  try {
    sw.attach('vm', name, () => {});
    return true;
  } catch (e) {
    assert.ok(e instanceof NetError);
    return false;
  }
};

const scenarioTakes = (name: string): boolean => {
  try {
    validateScenario({ version: 1, guests: [{ name, appliance: { builtin: 'base' } }] });
    return true;
  } catch {
    return false;
  }
};

describe('the VM name rule', () => {
  it('refuses what cannot be a host name, with the name in the message', () => {
    for (const bad of ['my_vm', 'mine.vhd-1', '', '-web', 'web-', 'a b', 'é', 'x'.repeat(64)]) {
      assert.match(vmNameProblem(bad) ?? '', new RegExp(`^VM name "${bad.replace(/[.]/g, '\\.')}" is not a host name`), bad);
    }
    for (const good of ['web', 'Base-1', '7', 'x'.repeat(63)]) assert.equal(vmNameProblem(good), undefined, good);
  });

  it('the switch and a scenario take exactly the names the rule takes', () => {
    const rnd = new SeededRandom(15);
    const alphabet = 'ab9-_.Z ';
    for (let i = 0; i < 500; i++) {
      const name = Array.from({ length: rnd.int(0, 8) }, () => rnd.pick([...alphabet])).join('');
      const ok = vmNameProblem(name) === undefined;
      assert.equal(switchTakes(name), ok, `the switch on ${JSON.stringify(name)}`);
      assert.equal(scenarioTakes(name), ok, `a scenario on ${JSON.stringify(name)}`);
    }
  });

  it('makes a name that follows the rule from any appliance name, with room for a -NN suffix', () => {
    assert.equal(vmNameFrom('mine.vhd'), 'mine-vhd');
    assert.equal(vmNameFrom('qemu-made.vhd'), 'qemu-made-vhd');
    assert.equal(vmNameFrom('__my disk__.VHD'), 'my-disk-VHD');
    assert.equal(vmNameFrom('...'), 'vm');
    const rnd = new SeededRandom(16);
    for (let i = 0; i < 500; i++) {
      const text = Array.from({ length: rnd.int(0, 90) }, () => String.fromCharCode(rnd.int(32, 0x2ff))).join('');
      assert.ok(VM_NAME_PATTERN.test(`${vmNameFrom(text)}-99`), JSON.stringify(text));
    }
  });
});
