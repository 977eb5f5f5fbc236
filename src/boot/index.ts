// The boot layer's public API: what turns an appliance disk or kernel files into a guest
// the machine can start (Linux boot plan and loader, reset ROM, appliance.json, ELF images)
// and the errors they throw. Node-only pieces (bare-metal runner, appliance disks on the
// host's file system) are in ./node.ts, so the browser bundle never imports `fs`. Modules
// inside src/boot/ import each other directly, never this file.
export { ApplianceError, type ApplianceErrorCode } from './ApplianceError.ts';
export { MANIFEST_LIMITS, parseApplianceManifest, type ApplianceManifest } from './ApplianceManifest.ts';
export {
  BOOT_FILE_LIMITS,
  BOOT_PARTITION,
  INITRD_PATH,
  KERNEL_PATHS,
  MANIFEST_PATH,
  gunzipBounded,
  readApplianceBoot,
  readApplianceManifest,
  type ApplianceBoot,
} from './applianceBoot.ts';
export { BootError, type BootErrorCode } from './BootError.ts';
export { ElfError, ElfImage, type ElfErrorCode, type ElfSegment } from './ElfImage.ts';
export {
  KERNEL_OFFSET,
  MIN_RAM,
  kernelImageSize,
  linuxLoader,
  loadLinuxBoot,
  planBootLayout,
  type BootLayout,
  type LinuxBootImages,
} from './linuxBoot.ts';
export { findPanicLine, PANIC_MARKER, PanicWatch } from './linuxPanic.ts';
export { bareKernelFdtAddress, bareKernelLoader, bareKernelVmConfig, type BareKernelMachine } from './bareKernel.ts';
export { buildResetRom, NEXT_MODE_S, RESET_ROM_BASE, type ResetRomConfig } from './resetRom.ts';
