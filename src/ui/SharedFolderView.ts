/**
 * A VM's shared folder on its card: files dropped on the card go into it (the guest sees
 * them in /mnt/host), and every file in it, the guest's too, downloads with a click. The
 * folder lives in IndexedDB with the VM (ShareStore), so it survives reloads.
 *
 * Listed only while its list is open: listing a stopped VM's folder reads all of it (every
 * file's bytes) from IndexedDB, which no card should do at page start-up. Closed, the summary
 * shows only what the VM's worker reports: a folder it could not save.
 */
import type { Disposable, VmHandle } from '../hypervisor/index.ts';
import { formatBytes } from '../format/formatBytes.ts';
import { download, h, onFileDrop } from './dom.ts';

/** Dropped at once at most, so one drop cannot ask the page to read gigabytes. */
const MAX_DROP_BYTES = 64 * 1024 * 1024;

export class SharedFolderView implements Disposable {
  readonly el: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly list: HTMLElement;
  private readonly subscription: Disposable;
  private refreshing = false;
  private again = false;

  constructor(
    private readonly vm: VmHandle,
    /** Runs an action, reporting its error to the user. */
    private readonly run: (what: string, action: () => Promise<unknown>) => Promise<void>,
    /** Where files may be dropped (the whole card). */
    dropTarget: HTMLElement,
  ) {
    this.summary = h('span', { class: 'muted small', 'data-share-summary': '' });
    this.list = h('ul', { class: 'share-list' });
    this.el = h(
      'details',
      { class: 'vm-share', 'data-share': '' },
      h('summary', {}, h('strong', {}, 'Shared folder'), ' ', h('span', { class: 'muted small' }, '/mnt/host in the guest · drop files on this card'), ' ', this.summary),
      this.list,
    );
    this.el.addEventListener('toggle', () => void this.refresh());
    onFileDrop(dropTarget, 'drop-over', (files) => void this.add(files));
    this.subscription = vm.onShareChanged(() => void this.refresh());
  }

  /** Puts dropped files into the folder, by their names. */
  async add(files: File[]): Promise<void> {
    await this.run(`share ${files.map((f) => f.name).join(', ')}`, async () => {
      const total = files.reduce((n, f) => n + f.size, 0);
      if (total > MAX_DROP_BYTES) throw new Error(`${formatBytes(total)} dropped; a shared folder takes at most ${formatBytes(MAX_DROP_BYTES)} at once`);
      const uploads = await Promise.all(files.map(async (f) => ({ path: f.name, data: new Uint8Array(await f.arrayBuffer()) })));
      await this.vm.addSharedFiles(uploads);
    });
    this.el.setAttribute('open', '');
    await this.refresh();
  }

  /** Lists the folder anew (after a drop, a save by the guest's worker, a state change), if open. */
  async refresh(): Promise<void> {
    if (!(this.el as HTMLDetailsElement).open) {
      this.showSummary('');
      return;
    }
    if (this.refreshing) {
      this.again = true;
      return;
    }
    this.refreshing = true;
    try {
      do {
        this.again = false;
        const files = (await this.vm.sharedFiles()).filter((f) => f.kind === 'file');
        const bytes = files.reduce((n, f) => n + f.size, 0);
        this.showSummary(`${files.length} file${files.length === 1 ? '' : 's'}, ${formatBytes(bytes)}`);
        this.list.replaceChildren(
          ...files.map((f) =>
            h('li', {}, h('button', { class: 'link', 'data-share-file': f.path, title: 'Download', onclick: () => void this.download(f.path) }, f.path), ' ', h('span', { class: 'muted small' }, formatBytes(f.size))),
          ),
        );
      } while (this.again);
    } catch {
      // The store is unavailable (no IndexedDB, a VM in another tab): the list stays as it was.
    } finally {
      this.refreshing = false;
    }
  }

  /** `counts`, then why the folder is not saved, if the worker said so. */
  private showSummary(counts: string): void {
    const unsaved = this.vm.shareState?.unsaved;
    this.summary.textContent = [counts, unsaved ? `not saved: ${unsaved}` : ''].filter((s) => s).join(' · ');
    this.summary.classList.toggle('warn', unsaved !== undefined);
  }

  private async download(path: string): Promise<void> {
    await this.run(`download ${path}`, async () => {
      const data = await this.vm.readSharedFile(path);
      download(new Blob([data as Uint8Array<ArrayBuffer>]), path.split('/').pop()!);
    });
  }

  dispose(): void {
    this.subscription.dispose();
    this.el.remove();
  }
}
