/**
 * The worker's side of a VM's shared folder (the page's /mnt/host): loaded from the
 * ShareStore into a MemoryShare when the VM starts, served to the guest by a NinePServer,
 * and saved back whole once the guest has left it alone for a moment, when the guest
 * fsyncs a file in it (the fsync returns after the save), and at shutdown.
 *
 * A save that meets a full quota changes nothing stored (one transaction): the folder stays
 * in memory, `unsaved` says why, and the next change or `flush()` tries again, so nothing
 * the guest wrote is lost while the VM runs; shutdown refuses (as for the disk) until it
 * could be saved.
 */
import { MemoryShare, NinePServer, ShareError } from '../share/index.ts';
import { ShareStore, StoreError } from '../store/index.ts';
import type { SharedFolderState } from './VmWorkerApi.ts';

/** Bounds of a page's folder: what one IndexedDB transaction comfortably saves. */
export const SHARE_MAX_BYTES = 64 * 1024 * 1024;
export const SHARE_MAX_OBJECTS = 1000;
/** Quiet time after the guest's last change before the folder is saved... */
const SAVE_AFTER_MS = 300;
/** ...or, while the guest keeps changing it, time since the first unsaved change. */
const SAVE_WITHIN_MS = 2000;
/** After a save refused for lack of space, how long before the next try. */
const RETRY_MS = 5000;


export class SharedFolder {
  readonly server: NinePServer;
  private savedGeneration: number;
  private seenGeneration: number;
  private changedAt = 0;
  /** When the oldest change not yet saved was seen. */
  private dirtySince: number | undefined;
  /** No save before this time: the last one was refused (a full quota). */
  private retryAt = 0;
  private saving: Promise<void> | undefined;
  unsaved: string | undefined;

  private constructor(
    private readonly store: ShareStore,
    private readonly vmId: string,
    readonly share: MemoryShare,
    /** Told after every save and every failed one. */
    private readonly onState: (state: SharedFolderState) => void,
  ) {
    this.server = new NinePServer(share);
    this.savedGeneration = this.seenGeneration = share.generation;
    // The guest's fsync returns once the folder is saved: ENOSPC when storage is full (the
    // folder stays in memory), EIO when the store fails otherwise.
    share.onSync = () =>
      this.flush().catch((e: unknown) => {
        const full = e instanceof StoreError && e.code === 'quota-exceeded';
        throw new ShareError(full ? 'ENOSPC' : 'EIO', `fsync: ${(e as Error).message}`);
      });
  }

  static async open(vmId: string, onState: (state: SharedFolderState) => void): Promise<SharedFolder> {
    const store = await ShareStore.open();
    try {
      const share = new MemoryShare({ maxBytes: SHARE_MAX_BYTES, maxObjects: SHARE_MAX_OBJECTS });
      share.load(await store.load(vmId));
      return new SharedFolder(store, vmId, share, onState);
    } catch (e) {
      store.dispose();
      throw e;
    }
  }

  get state(): SharedFolderState {
    return { files: this.share.objectCount - 1, bytes: this.share.usedBytes, unsaved: this.unsaved };
  }

  /** Called by the run loop after each slice: saves once the guest has been quiet for a moment. */
  tick(now: number): void {
    const g = this.share.generation;
    if (g !== this.seenGeneration) {
      this.seenGeneration = g;
      this.changedAt = now;
      this.dirtySince ??= now;
    }
    if (g === this.savedGeneration || this.saving || now < this.retryAt) return;
    if (now - this.changedAt >= SAVE_AFTER_MS || now - (this.dirtySince ?? now) >= SAVE_WITHIN_MS) {
      this.dirtySince = undefined;
      void this.flush().catch(() => (this.retryAt = now + RETRY_MS));
    }
  }

  /** Saves now (after a save already running); rejects with the StoreError when storage is full. */
  async flush(): Promise<void> {
    while (this.saving) await this.saving.catch(() => {});
    if (this.share.generation === this.savedGeneration && !this.unsaved) return;
    const generation = this.share.generation;
    const entries = this.share.entries();
    this.saving = this.store.save(this.vmId, entries);
    try {
      await this.saving;
      this.savedGeneration = generation;
      this.unsaved = undefined;
    } catch (e) {
      this.unsaved = (e as Error).message;
      throw e;
    } finally {
      this.saving = undefined;
      this.onState(this.state);
    }
  }

  dispose(): void {
    this.store.dispose();
  }
}
