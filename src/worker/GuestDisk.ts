/**
 * The worker's side of a guest's disk: the VM's differencing child (and its read-only
 * base) opened from the image store over the worker's own IndexedDB connection.
 * Failures of the asynchronous disk path are recorded here for the run loop to act on:
 * a full quota pauses the guest (the unflushed writes stay in memory), anything else
 * stops it.
 */
import type { VhdDisk } from '../disk/index.ts';
import type { Vm } from '../machine/Vm.ts';
import { ImageStore, StoreError } from '../store/index.ts';
import type { WorkerDiskSpec } from './VmWorkerApi.ts';

export interface DiskFailure {
  quota: boolean;
  message: string;
}

export class GuestDisk {
  failure: DiskFailure | undefined;

  private constructor(
    private readonly store: ImageStore,
    readonly disk: VhdDisk,
  ) {}

  static async open(spec: WorkerDiskSpec): Promise<GuestDisk> {
    const store = await ImageStore.open();
    try {
      return new GuestDisk(store, await store.openDisk(spec.childImageId));
    } catch (e) {
      store.dispose();
      throw e;
    }
  }

  /** Connects the disk to a freshly created machine. */
  attach(_vm: Vm): void {
    // XXX: virtio-blk is not in the machine yet; when it lands, this attaches the disk
    // as /dev/vda and routes its completion errors to `record`.
  }

  /** Notes a failed disk operation for the run loop. */
  record(e: unknown): void {
    const quota = e instanceof StoreError && e.code === 'quota-exceeded';
    this.failure = { quota, message: quota ? `${(e as Error).message}. Free some space (delete VMs or imports), then resume.` : `disk error: ${(e as Error).message}` };
  }

  clearFailure(): void {
    this.failure = undefined;
  }

  /** Commits every write; throws (and records) when the store refuses, losing nothing. */
  async flush(): Promise<void> {
    try {
      await this.disk.flush();
    } catch (e) {
      this.record(e);
      throw e;
    }
  }

  async dispose(): Promise<void> {
    await this.disk.dispose();
    this.store.dispose();
  }
}
