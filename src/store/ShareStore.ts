/**
 * The page's shared folders, one per VM, in IndexedDB: what the guest sees in /mnt/host.
 *
 * IndexedDB rather than OPFS: the page (drops, downloads) and the VM's worker both reach it
 * with the same asynchronous API, it is what the image store already uses (one quota, one
 * way of handling a full one), and a folder is saved in one transaction, so a save that
 * meets a full quota aborts as a whole and the last saved folder stays intact. OPFS's fast
 * synchronous handles exist only in workers and would still need a second path for the page.
 *
 * Its own database (`romvisor-shares`), so the image store's schema is untouched:
 *   files  key [vmId, path] → ShareFileRecord; a VM's folder is every key [vmId, *]
 * A folder is small (SharedFolder's bounds: at most 64 MiB and 1,000 objects per VM) and is
 * saved whole: the worker keeps it in memory while the VM runs and writes it back.
 */
import { ShareError, type MemoryShareEntry } from '../share/index.ts';
import { isQuotaError, requestResult, transactionDone } from './idbRequests.ts';
import { StoreError } from './StoreError.ts';

const DB_NAME = 'romvisor-shares';
const DB_VERSION = 1;
const FILES = 'files';

/** A stored object: MemoryShareEntry without the path, which is in the key. */
type ShareFileRecord = Omit<MemoryShareEntry, 'path'>;

/** Every key of one VM's folder: arrays sort after strings, so [vmId, []] is past any path. */
const folderRange = (vmId: string) => IDBKeyRange.bound([vmId], [vmId, []]);

export class ShareStore {
  private constructor(private readonly db: IDBDatabase) {}

  static async open(name = DB_NAME): Promise<ShareStore> {
    if (typeof indexedDB === 'undefined') throw new StoreError('unsupported', 'this browser has no IndexedDB for shared folders');
    const req = indexedDB.open(name, DB_VERSION);
    req.onupgradeneeded = () => {
      if (!req.result.objectStoreNames.contains(FILES)) req.result.createObjectStore(FILES);
    };
    const db = await requestResult(req);
    db.onversionchange = () => db.close();
    return new ShareStore(db);
  }

  /** A VM's folder, parents before children (key order puts a path before its extensions). */
  async load(vmId: string): Promise<MemoryShareEntry[]> {
    const tx = this.db.transaction(FILES, 'readonly');
    const store = tx.objectStore(FILES);
    const [keys, values] = await Promise.all([
      requestResult(store.getAllKeys(folderRange(vmId))),
      requestResult(store.getAll(folderRange(vmId))) as Promise<ShareFileRecord[]>,
    ]);
    return keys.map((k, i) => ({ path: (k as [string, string])[1], ...values[i]! }));
  }

  /** One file of a VM's folder by its `/`-separated path, read alone (ENOENT; EISDIR, ELOOP when not a regular file). */
  async readFile(vmId: string, path: string): Promise<Uint8Array> {
    const tx = this.db.transaction(FILES, 'readonly');
    const record = (await requestResult(tx.objectStore(FILES).get([vmId, path]))) as ShareFileRecord | undefined;
    if (!record) throw new ShareError('ENOENT', `read "${path}": not in the shared folder`);
    if (record.kind !== 'file') throw new ShareError(record.kind === 'dir' ? 'EISDIR' : 'ELOOP', `read "${path}": not a regular file`);
    return record.data ?? new Uint8Array(0);
  }

  /**
   * Replaces a VM's folder with `entries`, in one transaction: all of it is saved or, when
   * storage is full (StoreError 'quota-exceeded'), none of it, and the last save stays.
   */
  async save(vmId: string, entries: readonly MemoryShareEntry[]): Promise<void> {
    try {
      // Opening the transaction may already be refused (storage full), as may any put.
      const tx = this.db.transaction(FILES, 'readwrite');
      const store = tx.objectStore(FILES);
      store.delete(folderRange(vmId));
      for (const { path, ...record } of entries) store.put(record, [vmId, path]);
      await transactionDone(tx);
    } catch (e) {
      if (isQuotaError(e)) {
        const bytes = entries.reduce((n, e) => n + (e.data?.length ?? 0), 0);
        throw new StoreError('quota-exceeded', `storage is full: the shared folder (${entries.length} objects, ${bytes} bytes) is kept in memory until space is freed`, { cause: e });
      }
      throw new StoreError('io', `the shared folder could not be saved: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Forgets a VM's folder (the VM was deleted). */
  async remove(vmId: string): Promise<void> {
    const tx = this.db.transaction(FILES, 'readwrite');
    tx.objectStore(FILES).delete(folderRange(vmId));
    await transactionDone(tx);
  }

  dispose(): void {
    this.db.close();
  }
}
