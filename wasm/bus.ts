// The physical address space: the ranges are machineMap.ts's (QEMU virt).
// RAM and ROM accesses normally never get here: the TLBs map them straight to linear
// memory. This is the slow path for devices, page-table walks and TLB misses.
import { RAM_OFFSET, ROM_OFFSET } from './layout';
import {
  CLINT_BASE, CLINT_SIZE, PLIC_BASE, PLIC_SIZE, RAM_BASE, ROM_BASE, ROM_END, RTC_BASE, RTC_SIZE, TEST_BASE, TEST_SIZE,
  UART_BASE, UART_SIZE, VIRTIO_BASE, VIRTIO_SIZE,
} from './machineMap';
import { clintRead, clintWrite } from './dev/clint';
import { plicRead, plicWrite } from './dev/plic';
import { rtcRead, rtcWrite } from './dev/goldfishRtc';
import { sysconWrite } from './dev/syscon';
import { uartRead, uartWrite } from './dev/uart16550';
import { blockEnd } from './stop';

/** Guest RAM size in bytes, set by the host before reset. */
export let ramSize: u64 = 0;
/** Physical address of the HTIF tohost word, or 0 when the program has none. */
export let tohostAddr: u64 = 0;
/** Set by a physical access that hit nothing (or a read-only region on write). */
export let busFault: bool = false;

// Devices the host implements (virtio-mmio): rare, so a call out per access is fine.
@external('env', 'mmioRead')
declare function hostMmioRead(pa: u64, size: u32): u64;
@external('env', 'mmioWrite')
declare function hostMmioWrite(pa: u64, size: u32, value: u64): void;

export function setRamSize(size: u64): void {
  ramSize = size;
}

export function setTohost(pa: u64): void {
  tohostAddr = pa;
}

/** Host address of a RAM byte, or 0 when pa is not RAM. */
@inline export function ramHost(pa: u64): usize {
  const off = pa - RAM_BASE;
  return off < ramSize ? <usize>(RAM_OFFSET + off) : 0;
}

/** Host address of a byte that may be fetched or read directly (RAM or ROM), or 0. */
export function readableHost(pa: u64): usize {
  const off = pa - RAM_BASE;
  if (off < ramSize) return <usize>(RAM_OFFSET + off);
  if (pa >= ROM_BASE && pa < ROM_END) return <usize>(ROM_OFFSET + pa);
  return 0;
}

function loadHost(host: usize, size: u32): u64 {
  if (size == 1) return <u64>load<u8>(host);
  if (size == 2) return <u64>load<u16>(host);
  if (size == 4) return <u64>load<u32>(host);
  return load<u64>(host);
}

function storeHost(host: usize, size: u32, value: u64): void {
  if (size == 1) store<u8>(host, <u8>value);
  else if (size == 2) store<u16>(host, <u16>value);
  else if (size == 4) store<u32>(host, <u32>value);
  else store<u64>(host, value);
}

export function physRead(pa: u64, size: u32): u64 {
  const host = readableHost(pa);
  if (host != 0) return loadHost(host, size);
  if (pa - UART_BASE < UART_SIZE) return <u64>uartRead(<u32>(pa - UART_BASE));
  if (pa - CLINT_BASE < CLINT_SIZE) return clintRead(<u32>(pa - CLINT_BASE), size);
  if (pa - PLIC_BASE < PLIC_SIZE) return <u64>plicRead(<u32>(pa - PLIC_BASE));
  if (pa - VIRTIO_BASE < VIRTIO_SIZE) return hostMmioRead(pa, size);
  if (pa - TEST_BASE < TEST_SIZE) return 0;
  if (pa - RTC_BASE < RTC_SIZE) return <u64>rtcRead(<u32>(pa - RTC_BASE));
  busFault = true;
  return 0;
}

export function physWrite(pa: u64, size: u32, value: u64): void {
  const host = ramHost(pa);
  if (host != 0) {
    storeHost(host, size, value);
    return;
  }
  blockEnd = true;
  if (pa - UART_BASE < UART_SIZE) uartWrite(<u32>(pa - UART_BASE), <u32>value);
  else if (pa - CLINT_BASE < CLINT_SIZE) clintWrite(<u32>(pa - CLINT_BASE), size, value);
  else if (pa - PLIC_BASE < PLIC_SIZE) plicWrite(<u32>(pa - PLIC_BASE), <u32>value);
  else if (pa - VIRTIO_BASE < VIRTIO_SIZE) hostMmioWrite(pa, size, value);
  else if (pa - TEST_BASE < TEST_SIZE) sysconWrite(<u32>(pa - TEST_BASE), value);
  else if (pa - RTC_BASE < RTC_SIZE) rtcWrite(<u32>(pa - RTC_BASE), <u32>value);
  else busFault = true;
}

export { loadHost, storeHost };
