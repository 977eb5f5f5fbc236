/**
 * The physical machine map as the host uses it: wasm/machineMap.ts's numbers (the ones the
 * core's bus decodes) as BigInt addresses, with a name for each region. The device tree,
 * the inspector's "where does this address go?" and the virtio bus read them from here.
 */
import * as map from '../../wasm/machineMap.ts';
import { RAM_BASE } from './Core.ts';
import type { PhysicalRegion } from './InspectorTypes.ts';

export { RAM_BASE };

export const ROM_BASE = BigInt(map.ROM_BASE);
export const ROM_SIZE = BigInt(map.ROM_SIZE);
export const TEST_BASE = BigInt(map.TEST_BASE);
export const TEST_SIZE = BigInt(map.TEST_SIZE);
export const RTC_BASE = BigInt(map.RTC_BASE);
export const RTC_SIZE = BigInt(map.RTC_SIZE);
export const RTC_IRQ = map.RTC_IRQ;
export const CLINT_BASE = BigInt(map.CLINT_BASE);
export const CLINT_SIZE = BigInt(map.CLINT_SIZE);
export const PLIC_BASE = BigInt(map.PLIC_BASE);
export const PLIC_SIZE = BigInt(map.PLIC_SIZE);
/** Sources Linux may use (riscv,ndev): 1..PLIC_SOURCES - 1. */
export const PLIC_NDEV = map.PLIC_SOURCES - 1;
export const UART_BASE = BigInt(map.UART_BASE);
export const UART_SIZE = BigInt(map.UART_SIZE);
export const UART_IRQ = map.UART_IRQ;
export const UART_CLOCK_HZ = map.UART_CLOCK_HZ;
export const VIRTIO_BASE = BigInt(map.VIRTIO_BASE);
export const VIRTIO_STRIDE = BigInt(map.VIRTIO_STRIDE);
export const VIRTIO_SLOTS = map.VIRTIO_SLOTS;

/** The PLIC source virtio slot `slot` (0-based) raises. */
export const virtioIrq = (slot: number) => map.VIRTIO_IRQ + slot;
/** The base of virtio slot `slot`. */
export const virtioBase = (slot: number) => VIRTIO_BASE + BigInt(slot) * VIRTIO_STRIDE;

/** Every device region at a fixed address, in address order (RAM, whose size is the VM's,
 *  is not among them). */
export const DEVICE_REGIONS: readonly PhysicalRegion[] = [
  { name: 'reset ROM', base: ROM_BASE, size: ROM_SIZE, kind: 'rom' },
  { name: 'test device (poweroff/reboot)', base: TEST_BASE, size: TEST_SIZE, kind: 'mmio' },
  { name: 'goldfish RTC (wall clock)', base: RTC_BASE, size: RTC_SIZE, kind: 'mmio' },
  { name: 'CLINT (timer, software interrupts)', base: CLINT_BASE, size: CLINT_SIZE, kind: 'mmio' },
  { name: 'PLIC (external interrupts)', base: PLIC_BASE, size: PLIC_SIZE, kind: 'mmio' },
  { name: 'UART 16550 (console)', base: UART_BASE, size: UART_SIZE, kind: 'mmio' },
  ...Array.from({ length: VIRTIO_SLOTS }, (_, slot): PhysicalRegion => ({
    name: `virtio-mmio slot ${slot}`,
    base: virtioBase(slot),
    size: VIRTIO_STRIDE,
    kind: 'mmio',
  })),
];

/** All regions of a machine with `ramBytes` of RAM, in address order. */
export function physicalRegions(ramBytes: number): PhysicalRegion[] {
  return [...DEVICE_REGIONS, { name: 'RAM', base: RAM_BASE, size: BigInt(ramBytes), kind: 'ram' }];
}
