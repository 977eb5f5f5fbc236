/**
 * "Run a kernel": an ELF and optional disk images, dropped or picked, run as
 * `qemu-system-riscv64 -machine virt -bios none -kernel K -smp N -m M -drive file=D,...`
 * would run them — the machine `romvisor boot --bios none` builds (bareKernelVmConfig), in a
 * VM's worker, its UART on a console card below. The drives are the dropped files' bytes
 * in the worker's memory: the guest reads and writes them, the files stay as they were.
 * One run at a time, like a scenario: Run again replaces it.
 */
import { ElfImage } from '../../boot/index.ts';
import { hasFooterCookie } from '../../disk/index.ts';
import { SMP_MAX_HARTS, type Disposable, type RomHypervisor, type VmHandle } from '../../hypervisor/index.ts';
import { virtioBase, virtioIrq } from '../../machine/index.ts';
import { SCENARIO_LIMITS } from '../../scenario/index.ts';
import type { VmRecord } from '../../store/index.ts';
import type { BareKernelDrive } from '../../worker/index.ts';
import { formatBytes } from '../../format/formatBytes.ts';
import { download, h, onFileDrop } from '../dom.ts';
import { VmCardView } from '../VmCardView.ts';
import './kernel.css';

/** As much as a scenario's kernel guest may bring: a drive is held in the page and in the worker's memory. */
const { kernelBytes: MAX_KERNEL_BYTES, driveBytes: MAX_DRIVE_BYTES, drives: MAX_DRIVES } = SCENARIO_LIMITS;
/** QEMU's default memory for the virt board; a bare kernel rarely needs more. */
const DEFAULT_MEMORY_MIB = 128;
const MEMORY_CHOICES = [64, 128, 256, 512, 1024];

export interface KernelPanelHost {
  /** The running hypervisor, powering the server on first if it is off; undefined if that failed. */
  ensureOnline(): Promise<RomHypervisor | undefined>;
  /** Runs an action, reporting its error to the user. */
  run(what: string, action: () => Promise<unknown>): Promise<void>;
}

interface ChosenKernel {
  name: string;
  bytes: Uint8Array;
  elf: ElfImage;
}

interface KernelRunView {
  vm: VmHandle & Disposable;
  card: VmCardView;
  subscription: Disposable;
}

/** A VHD has "conectix" in its footer (the last 512 bytes), whatever the file is called. */
async function looksLikeVhd(file: File): Promise<boolean> {
  if (/\.vhd$/i.test(file.name)) return true;
  if (file.size < 512) return false;
  return hasFooterCookie(new Uint8Array(await file.slice(file.size - 512, file.size - 504).arrayBuffer()));
}

async function isElf(file: File): Promise<boolean> {
  const head = new Uint8Array(await file.slice(0, 4).arrayBuffer());
  return head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c && head[3] === 0x46;
}

export class KernelPanel implements Disposable {
  readonly el: HTMLElement;
  private readonly kernelInput: HTMLInputElement;
  private readonly driveInput: HTMLInputElement;
  private readonly kernelLine: HTMLElement;
  private readonly driveList: HTMLElement;
  private readonly hartsSelect: HTMLSelectElement;
  private readonly memorySelect: HTMLSelectElement;
  private readonly appendInput: HTMLInputElement;
  private readonly runButton: HTMLButtonElement;
  private readonly status: HTMLElement;
  private readonly slot: HTMLElement;
  private readonly written: HTMLElement;
  private kernel: ChosenKernel | undefined;
  private drives: BareKernelDrive[] = [];
  private current: KernelRunView | undefined;
  private runs = 0;

  constructor(private readonly host: KernelPanelHost) {
    this.kernelInput = h('input', { type: 'file', hidden: true, 'data-kernel-file': '', onchange: () => void this.takeFiles(this.kernelInput.files, 'kernel') });
    this.driveInput = h('input', { type: 'file', multiple: true, hidden: true, 'data-kernel-drive-file': '', onchange: () => void this.takeFiles(this.driveInput.files, 'drive') });
    this.kernelLine = h('div', { class: 'kernel-line muted', 'data-kernel-chosen': '' }, 'No kernel yet.');
    this.driveList = h('ul', { class: 'kernel-drives' });
    this.hartsSelect = h('select', { 'data-kernel-setting': 'harts', 'aria-label': 'harts' }, ...Array.from({ length: SMP_MAX_HARTS }, (_, i) => h('option', { value: i + 1 }, String(i + 1))));
    this.memorySelect = h('select', { 'data-kernel-setting': 'memory', 'aria-label': 'memory' }, ...MEMORY_CHOICES.map((m) => h('option', { value: m, selected: m === DEFAULT_MEMORY_MIB }, `${m} MiB`)));
    this.appendInput = h('input', { type: 'text', 'data-kernel-setting': 'append', placeholder: 'QEMU\'s -append', title: 'bootargs in the device tree\'s /chosen node', spellcheck: false, maxlength: 1024 });
    this.runButton = h('button', { class: 'btn primary', 'data-action': 'run-kernel', disabled: true, onclick: () => void this.run() }, 'Run ▶');
    this.status = h('div', { class: 'kernel-status', 'aria-live': 'polite', 'data-kernel-status': '' });
    this.slot = h('div', { class: 'kernel-run' });
    this.written = h('div', { class: 'kernel-written', 'data-kernel-written': '' });
    const drop = h(
      'div',
      { class: 'dropzone kernel-drop', 'data-kernel-drop': '' },
      h('span', {}, 'Drop an ELF kernel and disk images here, or '),
      h('button', { class: 'btn small', 'data-action': 'choose-kernel', onclick: () => this.kernelInput.click() }, 'Choose kernel…'),
      ' ',
      h('button', { class: 'btn small', 'data-action': 'add-drive', onclick: () => this.driveInput.click() }, 'Add disk image…'),
    );
    const label = (text: string, control: HTMLElement) => h('label', { class: 'kernel-field' }, h('span', { class: 'muted small' }, text), control);
    this.el = h(
      'section',
      { class: 'panel kernel-panel', 'aria-label': 'Run a kernel' },
      h('h2', {}, 'Run a kernel'),
      h(
        'p',
        { class: 'muted small kernel-intro' },
        'As ',
        h('code', {}, 'qemu-system-riscv64 -machine virt -bios none -kernel K -drive file=D,format=raw'),
        ' runs it: no firmware, every hart starts in M-mode at 0x80000000 with a0 = its id and a1 = the device tree; disks on virtio-blk from 0x10001000 (IRQ 1), the console on the UART at 0x10000000.',
      ),
      drop,
      this.kernelLine,
      this.driveList,
      h('div', { class: 'kernel-settings' }, label('harts (-smp)', this.hartsSelect), label('memory (-m)', this.memorySelect), label('kernel arguments', this.appendInput), this.runButton),
      this.status,
      this.written,
      this.slot,
      this.kernelInput,
      this.driveInput,
    );
    onFileDrop(drop, 'over', (files) => void this.takeFiles(files, 'auto'));
    (globalThis as { __romvisorKernel?: unknown }).__romvisorKernel = {
      vmName: () => this.current?.vm.record.name,
      state: () => this.current?.vm.state,
      consoleText: () => this.current?.card.consoleText(),
    };
    this.renderDrives();
  }

  /** Dropped files are sorted by content: an ELF is the kernel, anything else a drive. */
  private async takeFiles(list: FileList | File[] | null, as: 'kernel' | 'drive' | 'auto'): Promise<void> {
    const files = [...(list ?? [])];
    this.kernelInput.value = '';
    this.driveInput.value = '';
    try {
      for (const file of files) {
        const kind = as !== 'auto' ? as : (await isElf(file)) ? 'kernel' : 'drive';
        if (kind === 'kernel') await this.chooseKernel(file);
        else await this.addDrive(file);
      }
      this.setStatus('');
    } catch (e) {
      this.setStatus((e as Error).message, 'error');
    }
    this.renderDrives();
  }

  private async chooseKernel(file: File): Promise<void> {
    if (file.size > MAX_KERNEL_BYTES) throw new Error(`${file.name}: ${formatBytes(file.size)} is more than a kernel may be (${formatBytes(MAX_KERNEL_BYTES)})`);
    const bytes = new Uint8Array(await file.arrayBuffer());
    // Checked here, so a wrong file is named at once rather than when the VM starts.
    const elf = ElfImage.parse(bytes, file.name);
    this.kernel = { name: file.name, bytes, elf };
    const loaded = elf.segments.reduce((n, s) => n + Number(s.memSize), 0);
    this.kernelLine.className = 'kernel-line';
    this.kernelLine.textContent = `${file.name}: RISC-V ELF, ${elf.segments.length} segment${elf.segments.length === 1 ? '' : 's'} (${formatBytes(loaded)}), entry 0x${elf.entry.toString(16)}`;
    this.runButton.disabled = false;
  }

  private async addDrive(file: File): Promise<void> {
    if (this.drives.length >= MAX_DRIVES) throw new Error(`${file.name}: the machine has ${MAX_DRIVES} virtio-mmio slots, all taken`);
    if (file.size > MAX_DRIVE_BYTES) throw new Error(`${file.name}: ${formatBytes(file.size)} is more than a drive may be here (${formatBytes(MAX_DRIVE_BYTES)})`);
    if (file.size === 0) throw new Error(`${file.name}: an empty file is no disk`);
    const format = (await looksLikeVhd(file)) ? 'vhd' : 'raw';
    this.drives.push({ name: file.name, format, readOnly: false, bytes: new Uint8Array(await file.arrayBuffer()) });
  }

  private renderDrives(): void {
    this.driveList.replaceChildren(
      ...this.drives.map((d, i) =>
        h(
          'li',
          { 'data-kernel-drive': i },
          h('span', { class: 'mono' }, `vd${String.fromCharCode(97 + i)}`),
          h('span', { class: 'kernel-drive-name' }, d.name),
          h('span', { class: 'muted small' }, `${formatBytes(d.bytes.length)} · 0x${virtioBase(i).toString(16)}, IRQ ${virtioIrq(i)}`),
          h(
            'select',
            { 'aria-label': 'format', onchange: (e) => (d.format = (e.target as HTMLSelectElement).value as 'raw' | 'vhd') },
            h('option', { value: 'raw', selected: d.format === 'raw' }, 'raw'),
            h('option', { value: 'vhd', selected: d.format === 'vhd' }, 'vhd'),
          ),
          h('label', { class: 'small' }, h('input', { type: 'checkbox', checked: d.readOnly, onchange: (e) => (d.readOnly = (e.target as HTMLInputElement).checked) }), ' read-only'),
          h('button', { class: 'btn small', title: 'Remove this drive', onclick: () => {
            this.drives.splice(i, 1);
            this.renderDrives();
          } }, '✕'),
        ),
      ),
    );
  }

  private setStatus(text: string, level: 'info' | 'error' = 'info'): void {
    this.status.textContent = text;
    this.status.classList.toggle('error', level === 'error');
  }

  private async run(): Promise<void> {
    const kernel = this.kernel;
    if (!kernel || this.runButton.disabled) return;
    this.runButton.disabled = true;
    try {
      this.setStatus('Powering the server on…');
      const hv = await this.host.ensureOnline();
      if (!hv) throw new Error('the server did not power on');
      await this.stopRun();
      const record: VmRecord = {
        id: `kernel-${crypto.randomUUID()}`,
        name: `kernel-${++this.runs}`,
        applianceId: '',
        memoryMiB: Number(this.memorySelect.value),
        harts: Number(this.hartsSelect.value),
        createdAt: Date.now(),
      };
      // Each run gets the drives as they were dropped: what the last run wrote is gone.
      const drives = this.drives.map((d) => ({ ...d, bytes: d.bytes.slice() }));
      const vm = hv.kernelVm(record, { name: kernel.name, elf: kernel.bytes, bootargs: this.appendInput.value.trim(), drives });
      const card = new VmCardView(vm, hv, { run: (what, action) => this.host.run(what, action) });
      const subscription = hv.onEvent((e) => {
        if ((e.kind !== 'vm-state' && e.kind !== 'vm-stats') || e.vm !== vm) return;
        if (e.kind === 'vm-state') {
          card.update();
          this.showWritten();
        } else card.updateReadout();
      });
      this.current = { vm, card, subscription };
      this.slot.replaceChildren(card.el);
      this.setStatus(`${kernel.name} on ${record.harts} hart${record.harts! > 1 ? 's' : ''}, ${record.memoryMiB} MiB, ${drives.length} drive${drives.length === 1 ? '' : 's'}.`);
      await vm.start();
      card.focus();
    } catch (e) {
      this.setStatus(`✗ ${(e as Error).message}`, 'error');
    } finally {
      this.runButton.disabled = false;
      this.runButton.textContent = 'Run again ▶';
    }
  }

  /**
   * Once the run stopped: its drives as the guest left them, to download. The card's Start
   * goes on with these (a raw drive written in place, as under QEMU); Run again starts from
   * the files as they were dropped.
   */
  private showWritten(): void {
    const vm = this.current?.vm;
    const drives = vm?.kernel?.drives ?? [];
    if (!vm || vm.state !== 'stopped' || drives.length === 0) {
      this.written.replaceChildren();
      return;
    }
    this.written.replaceChildren(
      h('span', { class: 'muted small' }, 'Its drives as the guest left them (Start on its card goes on with these; Run again starts from your files): '),
      ...drives.map((d, i) =>
        h('button', { class: 'btn small', 'data-action': 'download-drive', 'data-drive': i, title: `${formatBytes(d.bytes.length)}`, onclick: () => download(new Blob([d.bytes as Uint8Array<ArrayBuffer>]), d.name) }, `⤓ ${d.name}`),
      ),
    );
  }

  /** The kernel run, while it is powered on (the front panel counts it with the VMs). */
  liveGuests(): VmHandle[] {
    const vm = this.current?.vm;
    return vm && (vm.state === 'running' || vm.state === 'paused') ? [vm] : [];
  }

  /** Stops and forgets the run (before the hypervisor powers off, or before the next run). */
  async stopRun(): Promise<void> {
    const r = this.current;
    this.current = undefined;
    this.written.replaceChildren();
    if (!r) return;
    await r.vm.stop().catch(() => {});
    r.subscription.dispose();
    r.card.dispose();
    r.vm.dispose();
  }

  dispose(): void {
    void this.stopRun();
    this.el.remove();
  }
}
