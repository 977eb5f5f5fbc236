// Node-only entry of the boot layer: the bare-metal ELF runner (loads core.wasm from disk)
// and appliance disks on the host's file system. Kept apart from index.ts so the browser
// bundle never imports `fs`. Node code (CLI, tests) imports both.
export { elfLoader, loadElfIntoRam, runBareMetal, type BareMetalOptions, type BareMetalResult } from './bareMetal.ts';
export {
  applianceName,
  openApplianceDisk,
  romvisorDataDir,
  unpackVhdGz,
  type ApplianceDisk,
  type ApplianceDiskOptions,
  type OverlayMode,
} from './applianceDisk.node.ts';
