/**
 * The device tree of romvisor's machine, generated from the VM's configuration. It
 * describes the QEMU-virt-compatible map of physicalMap.ts (the numbers the core's bus
 * decodes), so Debian's OpenSBI and an unmodified Linux find their devices as they would
 * under qemu-system-riscv64 -M virt.
 */
import { FdtWriter } from './FdtWriter.ts';
import {
  CLINT_BASE, CLINT_SIZE, PLIC_BASE, PLIC_NDEV, PLIC_SIZE, RTC_BASE, RTC_IRQ, RTC_SIZE, TEST_BASE, TEST_SIZE, UART_BASE, UART_CLOCK_HZ,
  UART_IRQ, UART_SIZE, VIRTIO_SLOTS, VIRTIO_STRIDE, virtioBase, virtioIrq,
} from './physicalMap.ts';

export const ISA_STRING = 'rv64imafdc_zicsr_zifencei_sstc';

export interface DeviceTreeConfig {
  ramBase: bigint;
  ramBytes: bigint;
  bootargs: string;
  timebaseHz: number;
  initrd?: { start: bigint; end: bigint };
  /** Populated virtio-mmio slots; all VIRTIO_SLOTS are described either way, as QEMU does. */
  virtioSlots?: number;
  /** Harts (default 1): a cpu node each, with its interrupt controller. */
  harts?: number;
}

// phandles: hart h's interrupt controller is CPU_INTC + h.
const PLIC = 1;
const TEST = 2;
const CPU_INTC = 3;

/** A devicetree unit address: the node's base in hex without `0x` (`serial@10000000`). */
const unitAddress = (v: bigint | number) => v.toString(16);

export function buildVirtDeviceTree(cfg: DeviceTreeConfig): Uint8Array {
  const c64 = FdtWriter.cells64;
  const w = new FdtWriter();
  w.beginNode('')
    .prop('#address-cells', [2])
    .prop('#size-cells', [2])
    .prop('compatible', 'riscv-virtio')
    .prop('model', 'romvisor,virt');

  w.beginNode('chosen').prop('bootargs', cfg.bootargs).prop('stdout-path', `/soc/serial@${unitAddress(UART_BASE)}`);
  if (cfg.initrd) {
    w.prop('linux,initrd-start', c64(cfg.initrd.start)).prop('linux,initrd-end', c64(cfg.initrd.end));
  }
  w.endNode();

  w.beginNode(`memory@${unitAddress(cfg.ramBase)}`)
    .prop('device_type', 'memory')
    .prop('reg', c64(cfg.ramBase, cfg.ramBytes))
    .endNode();

  const harts = cfg.harts ?? 1;
  const intc = (h: number) => CPU_INTC + h;
  w.beginNode('cpus').prop('#address-cells', [1]).prop('#size-cells', [0]).prop('timebase-frequency', [cfg.timebaseHz]);
  for (let h = 0; h < harts; h++) {
    w.beginNode(`cpu@${h}`)
      .prop('device_type', 'cpu')
      .prop('reg', [h])
      .prop('status', 'okay')
      .prop('compatible', 'riscv')
      .prop('riscv,isa', ISA_STRING)
      .prop('mmu-type', 'riscv,sv39');
    w.beginNode('interrupt-controller')
      .prop('#interrupt-cells', [1])
      .prop('interrupt-controller')
      .prop('compatible', 'riscv,cpu-intc')
      .prop('phandle', [intc(h)])
      .endNode();
    w.endNode(); // cpu@h
  }
  w.endNode(); // cpus

  w.beginNode('soc').prop('#address-cells', [2]).prop('#size-cells', [2]).prop('compatible', 'simple-bus').prop('ranges');

  w.beginNode(`test@${unitAddress(TEST_BASE)}`)
    .prop('compatible', ['sifive,test1', 'sifive,test0', 'syscon'])
    .prop('reg', c64(TEST_BASE, TEST_SIZE))
    .prop('phandle', [TEST])
    .endNode();
  w.beginNode('poweroff').prop('compatible', 'syscon-poweroff').prop('regmap', [TEST]).prop('offset', [0]).prop('value', [0x5555]).endNode();
  w.beginNode('reboot').prop('compatible', 'syscon-reboot').prop('regmap', [TEST]).prop('offset', [0]).prop('value', [0x7777]).endNode();
  w.beginNode(`rtc@${unitAddress(RTC_BASE)}`)
    .prop('compatible', 'google,goldfish-rtc')
    .prop('reg', c64(RTC_BASE, RTC_SIZE))
    .prop('interrupt-parent', [PLIC])
    .prop('interrupts', [RTC_IRQ])
    .endNode();

  // Interrupt numbers on a hart's local controller: 3 = M software, 7 = M timer,
  // 9 = S external, 11 = M external. The CLINT and the PLIC list every hart in order, so
  // PLIC context 2h is hart h's M-mode and 2h + 1 its S-mode, as QEMU's virt numbers them.
  const perHart = (a: number, b: number) => Array.from({ length: harts }, (_, h) => [intc(h), a, intc(h), b]).flat();
  w.beginNode(`clint@${unitAddress(CLINT_BASE)}`)
    .prop('compatible', ['sifive,clint0', 'riscv,clint0'])
    .prop('reg', c64(CLINT_BASE, CLINT_SIZE))
    .prop('interrupts-extended', perHart(3, 7))
    .endNode();
  w.beginNode(`plic@${unitAddress(PLIC_BASE)}`)
    .prop('compatible', ['sifive,plic-1.0.0', 'riscv,plic0'])
    .prop('reg', c64(PLIC_BASE, PLIC_SIZE))
    .prop('#address-cells', [0])
    .prop('#interrupt-cells', [1])
    .prop('interrupt-controller')
    .prop('interrupts-extended', perHart(11, 9))
    .prop('riscv,ndev', [PLIC_NDEV])
    .prop('phandle', [PLIC])
    .endNode();
  w.beginNode(`serial@${unitAddress(UART_BASE)}`)
    .prop('compatible', 'ns16550a')
    .prop('reg', c64(UART_BASE, UART_SIZE))
    .prop('clock-frequency', [UART_CLOCK_HZ])
    .prop('interrupt-parent', [PLIC])
    .prop('interrupts', [UART_IRQ])
    .endNode();
  for (let slot = VIRTIO_SLOTS - 1; slot >= 0; slot--) {
    const base = virtioBase(slot);
    w.beginNode(`virtio_mmio@${unitAddress(base)}`)
      .prop('compatible', 'virtio,mmio')
      .prop('reg', c64(base, VIRTIO_STRIDE))
      .prop('interrupt-parent', [PLIC])
      .prop('interrupts', [virtioIrq(slot)])
      .endNode();
  }
  w.endNode(); // soc
  w.endNode(); // root
  return w.finish();
}
