// The worker folder's public API for the page: the worker's contract and the console ring.
// (The worker itself is loaded by URL: new Worker(new URL('./vm.worker.ts', import.meta.url)).)
export type { VmWorkerApi, VmWorkerEvent, VmBootSpec, BareKernelSpec, BareKernelDrive, ScriptProgress, VmRunStats, VmStopCause, CrashInfo, WorkerDiskSpec, SharedFileInfo, SharedFileUpload, SharedFolderState } from './VmWorkerApi.ts';
export { ConsoleRing, canWaitAsync, DEFAULT_RING_BYTES } from './ConsoleRing.ts';
export { SHARE_MAX_BYTES, SHARE_MAX_OBJECTS } from './SharedFolder.ts';
export { pageHideFlag, readPageHide, PAGEHIDE_PENDING, PAGEHIDE_SAVED, PAGEHIDE_FAILED } from './pageHideFlag.ts';
