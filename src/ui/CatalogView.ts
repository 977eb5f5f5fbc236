/**
 * The appliance catalog: what each appliance is, what it costs, the state of the disks
 * made from it, a "New VM" button per appliance; and VHD import by file picker or
 * drag-and-drop with a progress bar; appliance repositories added by URL, each with its
 * appliances in the list or the reason its index could not be read.
 */
import type { Disposable, Hypervisor } from '../hypervisor/index.ts';
import { formatBytes } from '../format/formatBytes.ts';
import type { Appliance } from '../store/index.ts';
import { h, onFileDrop } from './dom.ts';

interface CatalogActions {
  run(what: string, action: () => Promise<unknown>): Promise<void>;
  /** Opens the file picker (the same one the console's `import` uses). */
  pickFile(): Promise<File | undefined>;
}

export class CatalogView implements Disposable {
  readonly el: HTMLElement;
  private readonly list: HTMLElement;
  private readonly progress: HTMLProgressElement;
  private readonly progressLabel: HTMLElement;
  private readonly progressBox: HTMLElement;
  private readonly importError: HTMLElement;
  private readonly repoList: HTMLElement;
  private readonly repoInput: HTMLInputElement;
  private readonly repoError: HTMLElement;
  private renderSerial = 0;
  private progressTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly hv: Hypervisor,
    private readonly actions: CatalogActions,
  ) {
    this.list = h('div', { class: 'catalog-list' });
    this.progress = h('progress', { max: 1, value: 0 });
    this.progressLabel = h('span', { class: 'muted' });
    this.progressBox = h('div', { class: 'import-progress', hidden: true }, this.progressLabel, this.progress);
    this.importError = h('div', { class: 'import-error', role: 'alert', hidden: true });
    const drop = h(
      'div',
      { class: 'dropzone', 'data-dropzone': '' },
      h('span', {}, 'Drop a .vhd here, or '),
      h('button', { class: 'btn small', 'data-action': 'import', onclick: () => void this.pickAndImport() }, 'Import VHD…'),
    );
    this.repoInput = h('input', { type: 'text', inputmode: 'url', class: 'repo-url', placeholder: 'https://example.org/appliances/', 'aria-label': 'Repository URL' });
    this.repoError = h('div', { class: 'import-error', role: 'alert', 'data-repo-error': '', hidden: true });
    this.repoList = h('div', { class: 'repo-list' });
    const repoForm = h(
      'form',
      { class: 'repo-form', onsubmit: (e: Event) => (e.preventDefault(), void this.addRepository()) },
      this.repoInput,
      h('button', { class: 'btn small', type: 'submit', 'data-action': 'add-repo' }, 'Add repository'),
    );
    this.el = h('div', { class: 'catalog' }, this.list, drop, this.progressBox, this.importError, repoForm, this.repoError, this.repoList);
    onFileDrop(drop, 'over', (files) => void this.importFile(files[0]!));
    this.render();
  }

  showProgress(name: string, bytes: number, total: number | undefined): void {
    this.progressBox.hidden = false;
    // A download that went quiet is over (done or failed; failures are reported elsewhere).
    clearTimeout(this.progressTimer);
    this.progressTimer = setTimeout(() => (this.progressBox.hidden = true), 3000);
    this.progress.max = total ?? bytes * 2 + 1;
    this.progress.value = bytes;
    this.progressLabel.textContent = `${name}: ${formatBytes(bytes)}${total ? ` of ${formatBytes(total)}` : ''}`;
  }

  private async pickAndImport(): Promise<void> {
    const file = await this.actions.pickFile();
    if (file) await this.importFile(file);
  }

  /** The same path the console's `import` takes, with errors shown under the drop zone. */
  async importFile(file: File): Promise<void> {
    this.importError.hidden = true;
    this.showProgress(file.name, 0, file.size);
    try {
      const a = await this.hv.importVhd(file, file.name);
      this.progressLabel.textContent = `Imported ${a.name}`;
    } catch (e) {
      clearTimeout(this.progressTimer);
      this.progressBox.hidden = true;
      const err = e as Error & { code?: string };
      this.importError.hidden = false;
      this.importError.replaceChildren(h('strong', {}, `${file.name} was not imported`), h('div', { class: 'mono' }, `${err.name}${err.code ? ` (${err.code})` : ''}: ${err.message}`));
    }
  }

  /** The same path the console's `repo add` takes, the reason shown under the field. */
  private async addRepository(): Promise<void> {
    const url = this.repoInput.value.trim();
    if (!url) return;
    this.repoError.hidden = true;
    try {
      await this.hv.addRepository(url);
      // The user may have typed the next URL while this one's index was read: keep it.
      if (this.repoInput.value.trim() === url) this.repoInput.value = '';
    } catch (e) {
      this.repoError.hidden = false;
      this.repoError.replaceChildren(h('strong', {}, `${url} was not added`), h('div', { class: 'mono' }, (e as Error).message));
    }
  }

  private renderRepositories(): void {
    this.repoList.replaceChildren(
      ...this.hv.repositories().map((r) =>
        h(
          'div',
          { class: 'repo', 'data-repo': r.url },
          h('span', { class: 'mono small' }, r.index ? `${r.index.name} · ${r.index.appliances.length} appliance(s) · ${r.url}` : r.url),
          r.error ? h('div', { class: 'import-error' }, r.error) : h('span', {}),
          h('button', { class: 'btn small', 'data-action': 'remove-repo', onclick: () => void this.actions.run(`remove repository ${r.url}`, () => this.hv.removeRepository(r.url)) }, 'Remove'),
        ),
      ),
    );
  }

  render(): void {
    this.renderRepositories();
    const serial = ++this.renderSerial;
    const cards = this.hv.appliances().map((a) => this.card(a, serial));
    this.list.replaceChildren(...cards);
  }

  private card(a: Appliance, serial: number): HTMLElement {
    const vms = this.hv.vms().filter((v) => v.record.applianceId === a.id);
    const outdated = a.repository ? vms.filter((v) => v.record.repoVersion !== undefined && v.record.repoVersion !== a.repository!.version.version) : [];
    const disks = h('div', { class: 'disk-states' });
    const kind = a.boot === 'ram' ? 'RAM only' : a.origin === 'imported' ? 'imported VHD' : a.repository ? 'VHD, read as the guest needs it' : a.imageId ? 'VHD, stored' : 'VHD, fetched on first use';
    const from = a.repository ? ` · from ${a.repository.name}, version ${a.repository.version.version}` : '';
    const size = a.boot === 'ram' ? `${formatBytes(a.sizeBytes)} download` : `${a.virtualSize ? `${formatBytes(a.virtualSize)} disk · ` : ''}${formatBytes(a.sizeBytes)} ${a.origin === 'imported' ? 'file' : 'download'}`;
    const el = h(
      'div',
      { class: 'appliance', 'data-appliance': a.name },
      h(
        'div',
        { class: 'appliance-head' },
        h('strong', {}, a.title),
        h('span', { class: 'badge' }, kind),
        // Its VMs on an older version: each card offers Update.
        outdated.length ? h('span', { class: 'badge update-available', title: `${outdated.map((v) => `${v.record.name} is on version ${v.record.repoVersion}`).join('; ')}; each VM's card offers Update` }, 'update available') : undefined,
      ),
      h('p', { class: 'muted' }, a.description),
      h('div', { class: 'appliance-foot' }, h('span', { class: 'muted small' }, `${size} · ${a.memoryMiB} MiB · ${vms.length} VM${vms.length === 1 ? '' : 's'}${from}`), a.repository ? h('button', { class: 'btn small', 'data-action': 'offline', title: 'Fetch the rest of its disk, so its VMs boot without the network', onclick: () => void this.actions.run(`make ${a.name} available offline`, () => this.hv.makeAvailableOffline(a.id)) }, 'Make available offline') : undefined, h('button', { class: 'btn small primary', 'data-action': 'new-vm', onclick: () => void this.actions.run(`new VM from ${a.name}`, () => this.hv.createVm(a.id)) }, 'New VM')),
      disks,
    );
    if (a.boot === 'disk' && vms.length) {
      void Promise.all(vms.map(async (v) => [v.record.name, await v.diskState().catch(() => undefined)] as const)).then((states) => {
        if (serial !== this.renderSerial) return;
        disks.replaceChildren(...states.map(([name, d]) => h('span', { class: `chip ${d?.modified ? 'modified' : 'pristine'}` }, `${name}: ${d ? (d.modified ? `modified +${formatBytes(d.changedBytes)}` : 'pristine') : '?'}`)));
      });
    }
    return el;
  }

  dispose(): void {
    this.el.remove();
  }
}
