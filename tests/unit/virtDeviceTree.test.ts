import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { buildVirtDeviceTree } from '../../src/machine/virtDeviceTree.ts';

describe('the generated device tree', () => {
  const dtb = buildVirtDeviceTree({
    ramBase: 0x8000_0000n,
    ramBytes: 256n << 20n,
    bootargs: 'console=ttyS0 root=/dev/vda2',
    timebaseHz: 10_000_000,
    initrd: { start: 0x8f00_0000n, end: 0x8f10_0000n },
  });

  it('is accepted by dtc and describes the machine', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'romvisor-fdt-')), 'virt.dtb');
    writeFileSync(file, dtb);
    const dts = execFileSync('dtc', ['-I', 'dtb', '-O', 'dts', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    assert.match(dts, /riscv,isa = "rv64imafdc_zicsr_zifencei_sstc"/);
    assert.match(dts, /mmu-type = "riscv,sv39"/);
    assert.match(dts, /bootargs = "console=ttyS0 root=\/dev\/vda2"/);
    assert.match(dts, /reg = <0x00 0x80000000 0x00 0x10000000>/);
    assert.match(dts, /linux,initrd-start = <0x00 0x8f000000>/);
    assert.match(dts, /timebase-frequency = <0x989680>/);
    assert.match(dts, /serial@10000000 \{[^}]*interrupts = <0x0a>/s);
    assert.equal((dts.match(/compatible = "virtio,mmio"/g) ?? []).length, 8);
    assert.match(dts, /compatible = "syscon-poweroff"/);
  });

  it('lists every hart with its interrupt controller, and the CLINT and PLIC lines of each in hart order', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'romvisor-fdt-')), 'smp.dtb');
    writeFileSync(file, buildVirtDeviceTree({ ramBase: 0x8000_0000n, ramBytes: 128n << 20n, bootargs: '', timebaseHz: 10_000_000, harts: 3 }));
    const dts = execFileSync('dtc', ['-I', 'dtb', '-O', 'dts', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const phandles: number[] = [];
    for (let h = 0; h < 3; h++) {
      const cpu = new RegExp(`cpu@${h} \\{.*?reg = <0x0?${h}>.*?interrupt-controller \\{[^}]*phandle = <(0x[0-9a-f]+)>`, 's').exec(dts);
      assert.ok(cpu, `cpu@${h} with its interrupt controller`);
      phandles.push(Number(cpu[1]));
    }
    assert.doesNotMatch(dts, /cpu@3/);
    assert.equal(new Set(phandles).size, 3, 'one controller per hart');
    const cells = (node: string) => {
      const m = new RegExp(`${node}@[0-9a-f]+ \\{[^}]*interrupts-extended = <([^>]*)>`, 's').exec(dts);
      assert.ok(m, `${node} has interrupts-extended`);
      return m[1].trim().split(/\s+/).map(Number);
    };
    // QEMU virt's order: context 2h = hart h's M-mode (11), 2h + 1 = its S-mode (9).
    assert.deepEqual(cells('plic'), phandles.flatMap((p) => [p, 11, p, 9]));
    assert.deepEqual(cells('clint'), phandles.flatMap((p) => [p, 3, p, 7]));
  });

  it('starts with the FDT magic and a version-17 header', () => {
    const dv = new DataView(dtb.buffer, dtb.byteOffset);
    assert.equal(dv.getUint32(0), 0xd00dfeed);
    assert.equal(dv.getUint32(4), dtb.length);
    assert.equal(dv.getUint32(20), 17);
  });
});
