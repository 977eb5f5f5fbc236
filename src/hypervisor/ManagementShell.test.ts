import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ManagementShell, wrapWords } from './ManagementShell.ts';
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
    remoteDisk: undefined as unknown,
    inspect: async () => undefined,
    diskState: async () => undefined,
    start: async () => {
      calls.push('start web');
      // Holds the command until the test lets it go, to see type-ahead kept.
      await new Promise<void>((r) => (release = r));
    },
    stop: async () => void calls.push('stop web'),
    suspend: async () => void calls.push('suspend web'),
    snapshots: async () => ({
      nodes: [
        { id: 'snap-1', vmId: 'vm-1', name: 'before upgrade', takenAt: 0, imageId: 'i1', withState: true, parentSnapshotId: undefined },
        { id: 'snap-2', vmId: 'vm-1', name: 'after', takenAt: 1000, imageId: 'i2', withState: false, parentSnapshotId: 'snap-1' },
      ],
      current: 'snap-1',
    }),
    takeSnapshot: async (name: string, o: { withState?: boolean }) => {
      calls.push(`take ${name} ${o.withState}`);
      return { id: 'snap-3', name, withState: o.withState };
    },
    revertToSnapshot: async (id: string) => {
      calls.push(`revert ${id}`);
      return 'state';
    },
    deleteSnapshot: async (id: string) => void calls.push(`delete ${id}`),
  } as unknown as VmHandle;
  const hv = {
    firmware: { hypervisorName: 'romvisor', hypervisorVersion: '0.1', jit: 'off' },
    appliances: () => [{ id: 'builtin:base', name: 'base', title: 'Base', boot: 'disk', sizeBytes: 1024 }],
    vms: () => [vm],
    vm: (ref: string) => (ref === 'web' || ref === '1' ? vm : undefined),
    createVm: async (a: string, o: NewVmOptions) => {
      calls.push(`create ${a} ${JSON.stringify(o)}`);
      return { ...vm, record: { ...vm.record, name: o.name ?? 'base-1' } };
    },
    resetDisk: async (ref: string) => void calls.push(`reset-disk ${ref}`),
    configureVm: async (ref: string, s: object) => void calls.push(`configure ${ref} ${JSON.stringify(s)}`),
    openBackup: async () => ({ vms: [{ id: 'vm-9', name: 'web', suspended: false, conflict: { id: 'vm-1', name: 'web' } }, { id: 'vm-8', name: 'db', suspended: true }] }),
    restoreBackup: async (_plan: unknown, choices: Map<string, string>) => {
      calls.push(`restore ${JSON.stringify([...choices])}`);
      return { restored: ['vm-8'], removed: [], warnings: [] };
    },
  } as unknown as Hypervisor;
  return { hv, vm, calls, release: () => release?.() };
}

function shell() {
  const fake = fakeHypervisor();
  let out = '';
  const sh = new ManagementShell(fake.hv, { write: (t) => (out += t), pickFile: async () => new File([], 'server.rvbackup'), download: () => {}, focusVm: () => {} });
  sh.start();
  return { sh, fake, output: () => out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '') };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('the management console', () => {
  test('info and list say what a repository VM\'s disk fetched, as its card does', async () => {
    const { sh, fake, output } = shell();
    const vm = fake.vm as unknown as { state: string; stats: unknown; remoteDisk: unknown };
    vm.state = 'running';
    vm.stats = { mips: 12, uptimeMs: 5000, instructions: 1000 };
    vm.remoteDisk = { fetchedBytes: 4 * 2 ** 20, requests: 19, storeChunks: 2, storeBytes: 136192, imageBytes: 10490880, offline: false, fullDownload: false };
    sh.input('info web\r');
    for (let i = 0; i < 5; i++) await tick();
    assert.match(output(), /\n {2}repository disk: 4\.0 MiB fetched of 10 MiB \(40 %\), 19 requests · 133 KiB read from this browser's copy\r?\n/);
    sh.input('list\r');
    for (let i = 0; i < 5; i++) await tick();
    assert.match(output(), /web +running +64 MiB builtin:base 12 MIPS, up [^,\n]+, disk 4\.0 MiB fetched/);
  });

  test('restore never overwrites unasked: a VM that meets one here needs skip, replace or copy', async () => {
    const { sh, fake, output } = shell();
    sh.input('restore\r');
    await tick();
    await tick();
    assert.deepEqual(fake.calls, []);
    assert.match(output(), /web meets web here/);
    assert.match(output(), /nothing restored: 1 VM\(s\) meet VMs of this server; say "restore skip", "restore replace" or "restore copy"/);
    sh.input('restore skip\r');
    await tick();
    await tick();
    assert.deepEqual(fake.calls, ['restore [["vm-9","skip"]]']);
    assert.match(output(), /restored 1 VM\(s\) from server\.rvbackup/);
  });

  test('help lists every command', async () => {
    const { sh, output } = shell();
    sh.input('help\r');
    await tick();
    for (const c of ['list appliances|vms', 'new APPLIANCE', 'start VM', 'suspend VM', 'stop VM', 'reset VM', 'import', 'export VM', 'reset-disk VM', 'storage']) {
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

  test('set changes a VM\'s harts, memory or JIT tier, and names what it takes otherwise', async () => {
    const { sh, fake, output } = shell();
    sh.input('set web harts 3\r');
    await tick();
    sh.input('set web memory 256\r');
    await tick();
    sh.input('set web jit Eager\r');
    await tick();
    sh.input('set web cpus 2\r');
    await tick();
    assert.deepEqual(fake.calls, ['configure vm-1 {"harts":3}', 'configure vm-1 {"memoryMiB":256}', 'configure vm-1 {"jit":"eager"}']);
    assert.match(output(), /usage: set VM harts N \| set VM memory MIB \| set VM jit off\|auto\|eager/);
    assert.match(output(), /web: 1 hart, 64 MiB, JIT off/);
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

  test('suspend VM asks the VM to suspend and says so', async () => {
    const { sh, fake, output } = shell();
    sh.input('suspend web\r');
    await tick();
    assert.deepEqual(fake.calls, ['suspend web']);
    assert.match(output(), /web is suspended/);
  });

  test('snapshot, snapshots, revert and delete-snapshot drive the VM\'s snapshots by name', async () => {
    const { sh, fake, output } = shell();
    sh.input('snapshot web before the big change --machine\r');
    await tick();
    assert.deepEqual(fake.calls, ['take before the big change true']);
    assert.match(output(), /snapshot before the big change taken \(disk and machine\)/);
    sh.input('snapshots web\r');
    await tick();
    // The tree: "after" under "before upgrade", and the VM standing on "before upgrade".
    assert.match(output(), /\n  before upgrade  1970-01-01 00:00:00  disk \+ machine\r?\n    after  1970-01-01 00:00:01  disk\r?\n    \* you are here/);
    sh.input('revert web before upgrade\r');
    await tick();
    sh.input('y\r');
    await tick();
    sh.input('delete-snapshot web AFTER\r');
    await tick();
    sh.input('y\r');
    await tick();
    sh.input('delete-snapshot web nothing\r');
    await tick();
    assert.deepEqual(fake.calls.slice(1), ['revert snap-1', 'delete snap-2']);
    assert.match(output(), /web is at before upgrade; start resumes its machine/);
    assert.match(output(), /web has no snapshot "nothing"/);
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

  test("a file's bytes, a name or an error's text never reach the terminal as control characters", async () => {
    const fake = fakeHypervisor();
    const hostile = 'evil\x1b[2J\x1b]0;pwned\x07\x9d8;;https://x/\x9c\x9b31m';
    (fake.hv as unknown as { importVhd: unknown }).importVhd = async () => {
      // What VhdError said before: the cookie's bytes as they are.
      throw new Error(`VHD footer at 0x0: cookie is "${hostile}", expected "conectix"`);
    };
    (fake.hv as unknown as { appliances: unknown }).appliances = () => [{ id: 'x', name: hostile, title: hostile, boot: 'disk', sizeBytes: 1 }];
    let out = '';
    const sh = new ManagementShell(fake.hv, { write: (t) => (out += t), pickFile: async () => new File([hostile], hostile), download: () => {}, focusVm: () => {} });
    sh.start();
    sh.input('import\r');
    await tick();
    await tick();
    sh.input('list appliances\r');
    await tick();
    sh.input(`start ${hostile}\r`);
    await tick();
    // Only what the shell writes itself is left: its colours (SGR), CR and LF, its erase-line.
    const rest = out.replace(/\x1b\[[0-9;]*[mK]/g, '').replace(/\r\n/g, '\n').replace(/\r/g, '');
    assert.ok(!/[\x00-\x09\x0b-\x1f\x7f-\x9f]/.test(rest), `a control character reached the terminal: ${JSON.stringify(rest)}`);
    assert.match(rest, /error: VHD footer at 0x0: cookie is "evil\\x1b\[2J\\x1b\]0;pwned\\x07\\x9d8;;https:\/\/x\/\\x9c\\x9b31m"/);
    assert.match(rest, /evil\\x1b\[2J/); // the appliance list
  });

  test('typed or pasted C1 controls are not echoed', async () => {
    const { sh } = shell();
    let out = '';
    const sh2 = new ManagementShell(fakeHypervisor().hv, { write: (t) => (out += t), pickFile: async () => undefined, download: () => {}, focusVm: () => {} });
    sh2.input('ab\x9b2Jc\x9d0;x\x07');
    assert.ok(!/[\x7f-\x9f\x07]/.test(out), JSON.stringify(out));
    assert.match(out, /ab2Jc0;x/);
    void sh;
  });

  test('help wraps at word boundaries for the terminal width', async () => {
    for (const cols of [80, 60, 40, 24]) {
      let out = '';
      const sh = new ManagementShell(fakeHypervisor().hv, { write: (t) => (out += t), pickFile: async () => undefined, download: () => {}, focusVm: () => {}, columns: () => cols });
      sh.input('help\r');
      await tick();
      const lines = out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split('\r\n');
      for (const l of lines) assert.ok(l.length < cols, `${cols} columns: "${l}" is ${l.length} long`);
      const text = lines.join(' ').replace(/\s+/g, ' ');
      // Every help text is still there, whole words in order: nothing was cut mid-word.
      for (const phrase of ['the catalog, or the VMs and their state', 'create a VM (MEM in MiB; ARGS: extra kernel arguments)', "download a stopped VM's disk as one VHD", 'Tab completes, ↑/↓ recall.']) {
        assert.ok(text.includes(phrase), `${cols} columns: "${phrase}" is not whole in\n${lines.join('\n')}`);
      }
    }
  });

  test('list appliances wraps at word boundaries on a narrow terminal, and stays one line per appliance on a wide one', async () => {
    for (const cols of [120, 40, 24]) {
      let out = '';
      const fake = fakeHypervisor();
      (fake.hv as any).appliances = () => [{ id: 'builtin:sqlite', name: 'sqlite', title: 'romvisor sqlite: SQLite 3.40 on a writable disk', boot: 'disk', sizeBytes: 4_238_395 }];
      const sh = new ManagementShell(fake.hv, { write: (t) => (out += t), pickFile: async () => undefined, download: () => {}, focusVm: () => {}, columns: () => cols });
      sh.input('list appliances\r');
      await tick();
      const lines = out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split('\r\n').filter((l) => l.trim() && !l.includes('list appliances') && !l.includes('romvisor>'));
      for (const l of lines) assert.ok(l.length < cols, `${cols} columns: "${l}" is ${l.length} long`);
      const text = lines.join(' ').replace(/\s+/g, ' ');
      for (const phrase of ['SQLite 3.40 on a writable disk', '(disk, not yet fetched, 4.0 MiB, 0 VMs)']) {
        assert.ok(text.includes(phrase), `${cols} columns: "${phrase}" is not whole in\n${lines.join('\n')}`);
      }
      if (cols === 120) assert.equal(lines.length, 1, lines.join('\n'));
    }
  });

  test('wrapWords breaks at spaces and cuts only words longer than a line', () => {
    assert.deepEqual(wrapWords('power a VM off (committed disk writes stay)', 16), ['power a VM off', '(committed disk', 'writes stay)']);
    assert.deepEqual(wrapWords('abcdefghij kl', 4), ['abcd', 'efgh', 'ij', 'kl']);
    assert.deepEqual(wrapWords('', 10), ['']);
  });
});
