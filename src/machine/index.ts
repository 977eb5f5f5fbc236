// The machine layer's public API: the core, the Vm and its run loop, the inspector, the
// physical map and the device tree. Node-only pieces (reading core.wasm from disk) are in
// ./node.ts, so the browser bundle never imports `fs`. Modules inside src/machine/ import
// each other directly, never this file.
export { Core, BOOT_STAGES, HOST_TRIGGERS, RAM_BASE, SMP_MAX_HARTS, StopReason, type BootStage, type HartState, type HostTrigger, type CoreExports, type CoreOptions, type MmioHandler, type TrapRecord } from './Core.ts';
export type { GuestLoader } from './GuestLoader.ts';
export type { VmState, VmShape, DeviceState, RamImage } from './VmState.ts';
export type { CoreState, CoreStateShape } from './Core.ts';
export { Vm, formatCrashReport, type CrashReport, type RunOptions, type RunOutcome, type VmConfig, type VmDisk } from './Vm.ts';
export { GuestLoop } from './GuestLoop.ts';
export { VmInspector, type VmInspectorOptions } from './VmInspector.ts';
export { jitView, type JitPcView, type JitTier, type JitView } from './jitView.ts';
export { TIME_MODES, type TimeMode } from './TimeMode.ts';
export { TrapRateWindow } from './TrapRateWindow.ts';
export type {
  AccessType,
  AddressReport,
  CauseName,
  CodeLine,
  ControlResult,
  StepBackInfo,
  CsrField,
  CsrView,
  FpRegisterValue,
  HartPosition,
  InspectorEvent,
  MachineSnapshot,
  NamedTrap,
  PhysicalRegion,
  Privilege,
  RegisterValue,
  StopName,
  Timeline,
  TimelineStage,
  TlbEntryView,
  Translation,
  TrapCounter,
  TrapKind,
  TrapLogFilter,
  TrapStats,
  VmInspectorApi,
} from './InspectorTypes.ts';
export {
  CLINT_BASE,
  CLINT_SIZE,
  DEVICE_REGIONS,
  PLIC_BASE,
  PLIC_NDEV,
  PLIC_SIZE,
  ROM_BASE,
  ROM_SIZE,
  TEST_BASE,
  TEST_SIZE,
  UART_BASE,
  UART_CLOCK_HZ,
  UART_IRQ,
  UART_SIZE,
  VIRTIO_BASE,
  VIRTIO_SLOTS,
  VIRTIO_STRIDE,
  physicalRegions,
  virtioBase,
  virtioIrq,
} from './physicalMap.ts';
export { physicalRegion } from './physicalRegion.ts';
export { buildVirtDeviceTree, ISA_STRING, type DeviceTreeConfig } from './virtDeviceTree.ts';
export { FdtWriter, type FdtValue } from './FdtWriter.ts';
export { VirtioMmioBus, VIRTIO_MAGIC, VIRTIO_VENDOR, type VirtioMmioDevice } from './VirtioMmioBus.ts';
