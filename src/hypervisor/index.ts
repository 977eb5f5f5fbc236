// The hypervisor's public API: the contract, its implementation, the management console.
export type { Hypervisor, VmHandle, VmState, VmCrash, HypervisorEvent, FirmwareInfo, NewVmOptions, VmSettings, RepositoryEntry } from './Types.ts';
export { Emitter, DisposableStore, type Disposable, type Event } from './Emitter.ts';
export { HypervisorError, type HypervisorErrorCode } from './HypervisorError.ts';
export { RomHypervisor, HYPERVISOR_NAME, HYPERVISOR_VERSION, type RomHypervisorOptions } from './RomHypervisor.ts';
export { ManagementShell, formatUptime, type ShellHost } from './ManagementShell.ts';
export { powerOnSelfTest, type PostOptions } from './powerOnSelfTest.ts';
/** The most harts a VM's machine has (QEMU's -smp limit here). */
export { SMP_MAX_HARTS } from '../machine/index.ts';
export { LockstepNetwork } from './LockstepNetwork.ts';
export type { NetAttachment } from './ServerNetwork.ts';
