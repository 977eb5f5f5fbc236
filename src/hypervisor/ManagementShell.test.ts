import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManagementShell } from './ManagementShell.ts';
import type { Hypervisor, NewVmOptions, VmHandle } from './Types.ts';

/** Just enough of a hypervisor to watch what the shell asks of it. */
function fakeHypervisor() {
  const calls: string[] = [];
  let release: (() => void) | undefined;
  const vm = {
    id: 'vm-1',
    record: { id: 'vm-1', name: 'web', applianceId: 'builtin:base', memoryMiB: 64, createdAt: 0, diskImageId: 'disk-1' },
    appliance: undefined,
    state: 'stopped',
    stateDetail: undefined,
    stats: undefined,
    crash: undefined,
    start: async () => {
      calls.push('start web');
      // Holds the command until the test lets it go, to see type-ahead kept.
      await new Promise<void>((r) => (release = r));
    },
    stop: async () => void calls.push('stop web'),
  } as unknown as VmHandle;
  const hv = {
    firmware: { hypervisorName: 'romvisor', hypervisorVersion: '0.1' },
    appliances: () => [{ id: 'builtin:base', name: 'base', title: 'Base', boot: 'disk', sizeBytes: 1024 }],
    vms: () => [vm],
    vm: (ref: string) => (ref === 'web' || ref === '1' ? vm : undefined),
    createVm: async (a: string, o: NewVmOptions) => {
      calls.push(`create ${a} ${JSON.stringify(o)}`);
      return { ...vm, record: { ...vm.record, name: o.name ?? 'base-1' } };
    },
    resetDisk: async (ref: string) => void calls.push(`reset-disk ${ref}`),
  } as unknown as Hypervisor;
  return { hv, calls, release: () => release?.() };
}

function shell() {
  const fake = fakeHypervisor();
  let out = '';
  const sh = new ManagementShell(fake.hv, { write: (t) => (out += t), pickFile: async () => undefined, download: () => {}, focusVm: () => {} });
  sh.start();
  return { sh, fake, output: () => out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '') };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('the management console', () => {
  test('help lists every command', async () => {
    const { sh, output } = shell();
    sh.input('help\r');
    await tick();
    for (const c of ['list appliances|vms', 'new APPLIANCE', 'start VM', 'stop VM', 'reset VM', 'import', 'export VM', 'reset-disk VM', 'storage']) {
      assert.ok(output().includes(c), `help does not mention "${c}"`);
    }
  });

  test('new passes the name, memory and kernel arguments through', async () => {
    const { sh, fake, output } = shell();
    sh.input('new base db 96 loglevel=3 quiet\r');
    await tick();
    assert.deepEqual(fake.calls, ['create base {"name":"db","memoryMiB":96,"extraArgs":"loglevel=3 quiet"}']);
    assert.match(output(), /created db/);
  });

  test('backspace, arrow keys and history edit the line', async () => {
    const { sh, fake } = shell();
    sh.input('stpo\x7f\x7fop web\r');
    await tick();
    sh.input('\x1b[A\r'); // recall "stop web"
    await tick();
    sh.input('stop wb\x1b[De\r'); // cursor left, insert
    await tick();
    assert.deepEqual(fake.calls, ['stop web', 'stop web', 'stop web']);
  });

  test('an unknown VM or command is an error that names it', async () => {
    const { sh, output } = shell();
    sh.input('start nope\r');
    await tick();
    sh.input('frobnicate\r');
    await tick();
    assert.match(output(), /no VM "nope"/);
    assert.match(output(), /unknown command "frobnicate"/);
  });

  test('reset-disk asks first, and only "y" goes ahead', async () => {
    const { sh, fake } = shell();
    sh.input('reset-disk web\r');
    await tick();
    sh.input('n\r');
    await tick();
    assert.deepEqual(fake.calls, []);
    sh.input('reset-disk web\r');
    await tick();
    sh.input('y\r');
    await tick();
    assert.deepEqual(fake.calls, ['reset-disk vm-1']);
  });

  test('keys typed while a command runs are kept for the next prompt', async () => {
    const { sh, fake } = shell();
    sh.input('start web\r');
    await tick();
    sh.input('stop web\r');
    await tick();
    assert.deepEqual(fake.calls, ['start web']);
    fake.release();
    await tick();
    await tick();
    assert.deepEqual(fake.calls, ['start web', 'stop web']);
  });
});
