// QEMU's spellings for `romvisor boot` and where --drive/-device put each disk.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDriveSpecs } from '../../../src/cli/driveSpec.ts';
import { translateQemuArgs } from '../../../src/cli/qemuArgs.ts';

describe('translateQemuArgs', () => {
  it('turns an xv6 Makefile line into romvisor options', () => {
    const argv = ['-machine', 'virt', '-bios', 'none', '-kernel', 'kernel/kernel', '-m', '128', '-smp', 'cpus=3,sockets=1', '-nographic',
      '-global', 'virtio-mmio.force-legacy=false', '-drive', 'file=fs.img,if=none,format=raw,id=x0',
      '-device', 'virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0', '-S', '-gdb', 'tcp::26000'];
    assert.deepEqual(translateQemuArgs(argv), [
      '--bios', 'none', '--kernel', 'kernel/kernel', '--mem', '128M', '--smp', '3',
      '--drive', 'file=fs.img,if=none,format=raw,id=x0', '--device', 'virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0',
      '--wait-debugger', '--gdb', 'tcp::26000',
    ]);
    assert.deepEqual(translateQemuArgs(['-s']), ['--gdb', 'tcp::1234']);
  });

  it('leaves romvisor options and their values alone, even a value that starts with a dash', () => {
    assert.deepEqual(translateQemuArgs(['--append', '-x', 'base', '-h'], new Set(['append'])), ['--append', '-x', 'base', '-h']);
  });

  it('names a flag it does not know, and a value it cannot honour', () => {
    assert.throws(() => translateQemuArgs(['-cpu', 'rv64']), /unknown option "-cpu"/);
    assert.throws(() => translateQemuArgs(['-M', 'spike']), /-M spike: not supported/);
    assert.throws(() => translateQemuArgs(['-kernel']), /-kernel needs a value/);
    assert.throws(() => translateQemuArgs(['-smp', 'sockets=2']), /-smp "sockets=2"/);
  });
});

describe('parseDriveSpecs', () => {
  it('puts plain drives from slot 0 up, bus= where it says, other devices from the top', () => {
    const specs = parseDriveSpecs(
      ['a.img', 'file=b.vhd,readonly=on', 'file=c.img,if=none,id=c', 'file=d.img,if=none,id=d,format=raw'],
      ['virtio-blk-device,drive=c', 'virtio-blk-device,drive=d,bus=virtio-mmio-bus.0'],
      8,
    );
    assert.deepEqual(specs.map((s) => [s.path, s.format, s.readOnly, s.slot]), [
      ['a.img', 'raw', false, 1],
      ['b.vhd', 'vhd', true, 2],
      ['c.img', 'raw', false, 7],
      ['d.img', 'raw', false, 0],
    ]);
  });

  it('skips reserved slots and refuses what cannot be honoured', () => {
    assert.equal(parseDriveSpecs(['a.img'], [], 8, [0])[0]!.slot, 1);
    assert.equal(parseDriveSpecs(['file=x,,y.img'], [], 8)[0]!.path, 'x,y.img');
    assert.throws(() => parseDriveSpecs(['file=a,if=ide'], [], 8), /if=ide is not supported/);
    assert.throws(() => parseDriveSpecs(['file=a,if=none'], [], 8), /if=none needs an id=/);
    assert.throws(() => parseDriveSpecs(['file=a,if=none,id=x'], ['virtio-blk-device,drive=y'], 8), /no --drive with if=none,id=y/);
    assert.throws(() => parseDriveSpecs(['file=a,if=none,id=x', 'file=b,if=none,id=y'], ['virtio-blk-device,drive=x,bus=virtio-mmio-bus.3', 'virtio-blk-device,drive=y,bus=virtio-mmio-bus.3'], 8), /virtio-mmio-bus.3 is taken/);
    assert.throws(() => parseDriveSpecs(['file=a,if=none,id=x'], ['virtio-blk-device,drive=x,bus=virtio-mmio-bus.8'], 8), /not virtio-mmio-bus.0 .. virtio-mmio-bus.7/);
    assert.throws(() => parseDriveSpecs(Array.from({ length: 9 }, (_, i) => `d${i}.img`), [], 8), /more disks than the 8 virtio-mmio slots/);
  });
});
