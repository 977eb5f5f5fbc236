/**
 * Backup and Restore of the whole server, in the Storage panel: Backup downloads one
 * archive (src/backup) of every VM, disk, suspended state and shared folder; Restore takes
 * an archive (picked or dropped), checks all of it before anything is written, and asks
 * about each VM that meets one here (replace it, restore a copy beside it, or skip it).
 */
import type { ArchiveProgress, RestoreChoice, StoreRestore } from '../backup/index.ts';
import type { Disposable, RomHypervisor } from '../hypervisor/index.ts';
import { formatBytes } from '../format/formatBytes.ts';
import { confirmDialog } from './confirmDialog.ts';
import { download, h } from './dom.ts';

export class BackupView implements Disposable {
  readonly el: HTMLElement;
  private readonly status: HTMLElement;
  private readonly error: HTMLElement;
  private readonly fileInput: HTMLInputElement;
  private busy = false;

  constructor(
    private readonly hv: RomHypervisor,
    private readonly notify: (level: 'info' | 'error', text: string) => void,
  ) {
    this.status = h('div', { class: 'muted small', 'data-backup-status': '', role: 'status' });
    this.error = h('div', { class: 'import-error', role: 'alert', 'data-backup-error': '', hidden: true });
    this.fileInput = h('input', { type: 'file', accept: '.rvbackup,application/octet-stream', hidden: true, 'data-backup-file': '' });
    this.fileInput.addEventListener('change', () => {
      const f = this.fileInput.files?.[0];
      this.fileInput.value = '';
      if (f) void this.restore(f);
    });
    const drop = h(
      'div',
      { class: 'dropzone backup', 'data-backup-drop': '' },
      h('button', { class: 'btn small', 'data-action': 'backup', title: 'Every VM with its disk, suspended state and shared folder, as one file', onclick: () => void this.backup() }, 'Back up server'),
      h('span', {}, ' · drop a backup here, or '),
      h('button', { class: 'btn small', 'data-action': 'restore', title: 'VMs from a backup file; nothing is written unless all of it checks out', onclick: () => this.fileInput.click() }, 'Restore…'),
    );
    for (const type of ['dragenter', 'dragover']) {
      drop.addEventListener(type, (e) => {
        e.preventDefault();
        drop.classList.add('over');
      });
    }
    drop.addEventListener('dragleave', () => drop.classList.remove('over'));
    drop.addEventListener('drop', (e) => {
      e.preventDefault();
      drop.classList.remove('over');
      const file = (e as DragEvent).dataTransfer?.files[0];
      if (file) void this.restore(file);
    });
    this.el = h('div', { class: 'backup-box' }, drop, this.status, this.error, this.fileInput);
  }

  private progress(what: string): (p: ArchiveProgress) => void {
    let last = 0;
    return (p) => {
      const now = Date.now();
      if (now - last < 150) return;
      last = now;
      this.status.textContent = p.total ? `${what}: ${Math.floor((p.bytes / p.total) * 100)}% of ${formatBytes(p.total)}` : `${what}: ${formatBytes(p.bytes)}`;
    };
  }

  private async backup(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.error.hidden = true;
    try {
      this.status.textContent = 'backing up…';
      const reading = this.progress('backing up: reading');
      const writing = this.progress('backing up: writing');
      const b = await this.hv.backup((p) => (p.phase === 'hashing' ? reading : writing)(p));
      download(b.blob, b.fileName);
      this.status.textContent = `backed up ${b.vms} VM${b.vms === 1 ? '' : 's'}: ${b.fileName} (${formatBytes(b.blob.size)})`;
    } catch (e) {
      this.fail(`backup: ${(e as Error).message}`);
    } finally {
      this.busy = false;
    }
  }

  private async restore(file: File): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    this.error.hidden = true;
    try {
      this.status.textContent = `checking ${file.name}…`;
      const plan = await this.hv.openBackup(file, this.progress(`checking ${file.name}`));
      this.status.textContent = `${file.name} checked whole: ${plan.vms.length} VM(s)`;
      const choices = await this.ask(plan, file.name);
      if (!choices) {
        this.status.textContent = `restore of ${file.name} cancelled: nothing was written`;
        return;
      }
      this.status.textContent = `restoring ${file.name}…`;
      const r = await this.hv.restoreBackup(plan, choices, this.progress(`restoring ${file.name}`));
      const text = `restored ${r.restored.length} VM${r.restored.length === 1 ? '' : 's'} from ${file.name}${r.removed.length ? ` (${r.removed.length} replaced)` : ''}`;
      this.status.textContent = text;
      this.notify('info', text);
      for (const w of r.warnings) this.notify('error', w);
      if (r.warnings.length) {
        this.error.hidden = false;
        this.error.textContent = r.warnings.join(' ');
      }
    } catch (e) {
      this.fail(`restore of ${file.name} refused: ${(e as Error).message}`);
    } finally {
      this.busy = false;
    }
  }

  /** The choices for VMs that meet one here, or undefined when the user cancels. */
  private async ask(plan: StoreRestore, fileName: string): Promise<Map<string, RestoreChoice> | undefined> {
    const choices = new Map<string, RestoreChoice>();
    const clashes = plan.vms.filter((vm) => vm.conflict);
    const rows = clashes.map((vm) => {
      const select = h(
        'select',
        { 'data-restore-choice': vm.name, 'aria-label': `What to do with ${vm.name}` },
        h('option', { value: 'skip' }, 'Skip: keep the one here'),
        h('option', { value: 'copy' }, 'Restore a copy beside it'),
        h('option', { value: 'replace' }, 'Replace the one here'),
      );
      return { vm, select, row: h('li', {}, h('b', {}, vm.name), ` meets ${vm.conflict!.name} here `, select) };
    });
    const list = h('ul', { class: 'restore-list' }, ...plan.vms.filter((vm) => !vm.conflict).map((vm) => h('li', {}, h('b', {}, vm.name), vm.suspended ? ' (suspended)' : '', ' is new here')), ...rows.map((r) => r.row));
    const body = clashes.length
      ? `${plan.vms.length} VM(s) in ${fileName}; ${clashes.length} meet a VM of this server. Nothing is overwritten unless you choose Replace.`
      : `${plan.vms.length} VM(s) in ${fileName}, checked whole. None meets a VM of this server.`;
    const ok = await confirmDialog('Restore from backup?', body, 'Restore', clashes.length > 0, list);
    if (!ok) return undefined;
    for (const r of rows) choices.set(r.vm.id, r.select.value as RestoreChoice);
    return choices;
  }

  private fail(text: string): void {
    this.error.hidden = false;
    this.error.textContent = text;
    this.status.textContent = '';
    this.notify('error', text);
  }

  dispose(): void {
    this.el.remove();
  }
}
