/**
 * The worker's side of a guest's disk: the VM's differencing child (and its read-only
 * base) opened from the image store over the worker's own IndexedDB connection.
 * Failures of the asynchronous disk path are recorded here for the run loop to act on:
 * a full quota pauses the guest (the unflushed writes stay in memory), anything else
 * stops it.
 */
import { MemoryBackend, VhdDisk } from '../disk/index.ts';
import type { Vm } from '../machine/index.ts';
import type { BlockDevice, VirtioBlk } from '../machine/virtio/index.ts';
import { RepoError, type RemoteDiskMeter } from '../repo/index.ts';
import { ImageStore, StoreError } from '../store/index.ts';
import type { WorkerDiskSpec } from './VmWorkerApi.ts';

interface DiskFailure {
  quota: boolean;
  message: string;
  /** A repository file that gave no answer (the page's probe says why: gone, or no CORS). */
  noAnswerUrl?: string;
}

const isQuotaError = (e: unknown) => e instanceof StoreError && e.code === 'quota-exceeded';

/**
 * What the guest's virtio-blk holds: the disk of the moment. A snapshot of a running VM
 * freezes the disk it wrote to and switches it to a new child over that one, under the
 * device, while the guest is paused with no disk work in flight.
 */
class DiskSwitch implements BlockDevice {
  constructor(public current: VhdDisk) {}
  get size(): number {
    return this.current.size;
  }
  get readOnly(): boolean {
    return this.current.readOnly;
  }
  read(offset: number, length: number): Promise<Uint8Array> {
    return this.current.read(offset, length);
  }
  write(offset: number, data: Uint8Array): Promise<void> {
    return this.current.write(offset, data);
  }
  flush(): Promise<void> {
    return this.current.flush();
  }
}

export class GuestDisk {
  failure: DiskFailure | undefined;
  private devices: readonly VirtioBlk[] = [];
  /** The Vm's disk: reads and writes go to the current image through it. */
  readonly device: DiskSwitch;

  private constructor(
    /** The worker's own connection to the image store. */
    readonly store: ImageStore,
    disk: VhdDisk,
  ) {
    this.device = new DiskSwitch(disk);
  }

  /** The VM's disk now (its chain): the boot partition is read from it. */
  get disk(): VhdDisk {
    return this.device.current;
  }

  /**
   * Writes go to the child `childImageId` from now on (a snapshot froze the one before,
   * which is its parent: the guest sees the same bytes). The caller has settled and
   * flushed every request first.
   */
  async switchTo(childImageId: string): Promise<void> {
    const next = await this.store.openDisk(childImageId);
    if (next.virtualSize !== this.disk.virtualSize) {
      await next.dispose();
      throw new Error(`disk ${childImageId} is ${next.virtualSize} bytes, the guest's is ${this.disk.virtualSize}`);
    }
    const old = this.device.current;
    this.device.current = next;
    await old.dispose();
  }

  /** `meter` counts what the chain's repository images fetch, snapshots' reopenings included. */
  static async open(spec: WorkerDiskSpec, meter?: RemoteDiskMeter): Promise<GuestDisk> {
    const store = await ImageStore.open(undefined, { removeAbandoned: false });
    store.remoteMeter = meter;
    try {
      if ('childImageId' in spec) {
        // A snapshot's disk is frozen: a page holding an old record must not write into it.
        if ((await store.image(spec.childImageId))?.origin === 'snapshot') throw new StoreError('in-use', `disk ${spec.childImageId} belongs to a snapshot and is not written; reload the page`);
        return new GuestDisk(store, await store.openDisk(spec.childImageId));
      }
      // A scenario's scratch overlay: the base opens read-only, the child lives in this worker's memory.
      const base = await store.openDisk(spec.scratchOverImageId, { readOnly: true });
      if (spec.overlay) {
        // A saved state's overlay: its parent is the stored base, found by unique id.
        await base.dispose();
        const disk = await VhdDisk.open(new MemoryBackend(spec.overlay.slice()), { parentResolver: store.parentResolver });
        if (disk.parent?.uuid !== base.uuid) {
          await disk.dispose();
          throw new Error(`the state's overlay does not stand on the stored base image ${spec.scratchOverImageId}`);
        }
        return new GuestDisk(store, disk);
      }
      return new GuestDisk(store, await VhdDisk.createDifferencing(new MemoryBackend(), base, { parentName: base.uuid }));
    } catch (e) {
      store.dispose();
      throw e;
    }
  }

  /**
   * Routes the guest's failed disk requests here. A full quota does not fail them: they
   * wait (the run loop pauses the guest) until `retry()` after space was freed; anything
   * else reaches the guest as an I/O error.
   */
  attach(vm: Vm): void {
    this.devices = vm.blockDevices;
    for (const blk of vm.blockDevices) {
      blk.onDiskError = (e) => this.record(e);
      blk.isRetryable = isQuotaError;
      blk.onStall = (e) => this.record(e);
    }
  }

  /** Tries the requests that waited on a full quota again. */
  retry(): void {
    for (const blk of this.devices) blk.retryStalled();
  }

  /** Notes a failed disk operation for the run loop. */
  record(e: unknown): void {
    const quota = isQuotaError(e);
    const noAnswerUrl = e instanceof RepoError && e.code === 'no-answer' ? e.where : undefined;
    this.failure = { quota, message: quota ? `${(e as Error).message}. Free some space (delete VMs or imports), then resume.` : `disk error: ${(e as Error).message}`, ...(noAnswerUrl ? { noAnswerUrl } : {}) };
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
