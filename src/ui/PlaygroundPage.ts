/**
 * The page: one virtual server. Power on runs the firmware stage (POST) in the
 * hypervisor console, which then becomes the management console; the catalog, the VM
 * table and a console per VM are the same hypervisor's API as buttons.
 */
import type { JitMode } from '../jit/Jit.ts';
import { ManagementShell, powerOnSelfTest, RomHypervisor, type Disposable, type Hypervisor, type HypervisorEvent, type VmHandle } from '../hypervisor/index.ts';
import { CatalogView } from './CatalogView.ts';
import { ChassisView } from './ChassisView.ts';
import { confirmDialog } from './confirmDialog.ts';
import { download, h } from './dom.ts';
import { StorageView } from './StorageView.ts';
import { BackupView } from './BackupView.ts';
import { TerminalView } from './TerminalView.ts';
import { VmCardView } from './VmCardView.ts';
import { VmListView } from './VmListView.ts';
import { ScenarioPanel } from './scenario/index.ts';
import { KernelPanel } from './kernel/index.ts';
import { PacketPanel } from './PacketPanel.ts';

const POWER_KEY = 'romvisor.power';

interface PlaygroundOptions {
  baseUrl: string;
  coreWasmUrl: string;
  /** ?console=messages: console bytes as messages even on a crossOriginIsolated page. */
  forceConsoleMessages?: boolean;
  /** ?jit=off|auto|eager: the JIT tier of every VM without a setting of its own. */
  jit?: JitMode;
  /** Why the address's ?jit= was refused: shown at the top of the page until dismissed. */
  jitProblem?: string;
}

interface OnlineViews {
  hv: RomHypervisor;
  shell: ManagementShell;
  catalog: CatalogView;
  storage: StorageView;
  backup: BackupView;
  list: VmListView;
  cards: Map<string, VmCardView>;
  subscription: Disposable;
}

/**
 * How long a closing page waits for its running VMs to suspend. A 128 MiB guest at its
 * prompt saves in 0.15–0.55 s (bench machine-state) and each VM saves in its own worker;
 * the wait ends as soon as all have.
 */
const PAGEHIDE_WAIT_MS = 4000;

export class PlaygroundPage {
  private readonly chassis: ChassisView;
  private readonly hvTerm: TerminalView;
  private readonly catalogSlot: HTMLElement;
  private readonly storageSlot: HTMLElement;
  private readonly listSlot: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly toasts: HTMLElement;
  private readonly packetSlot: HTMLElement;
  private packets: PacketPanel | undefined;
  private readonly fileInput: HTMLInputElement;
  private readonly workspace: HTMLElement;
  private readonly scenario: ScenarioPanel;
  private readonly kernel: KernelPanel;
  private online: OnlineViews | undefined;
  private powering = false;

  constructor(
    root: HTMLElement,
    private readonly opts: PlaygroundOptions,
  ) {
    this.chassis = new ChassisView(() => void this.togglePower());
    const hvHost = h('div', { class: 'term hv-term', id: 'hv-console' });
    const offline = (text: string) => h('div', { class: 'offline-note' }, text);
    this.catalogSlot = h('div', {}, offline('The catalog is served by the hypervisor. Power the server on.'));
    this.storageSlot = h('div', {}, offline('—'));
    this.listSlot = h('div', {}, offline('No hypervisor running.'));
    this.grid = h('div', { class: 'vm-grid' });
    this.toasts = h('div', { class: 'toasts', 'aria-live': 'assertive' });
    this.fileInput = h('input', { type: 'file', accept: '.vhd,.rvbackup,application/octet-stream', hidden: true, 'data-file-input': '' });
    const panel = (title: string, cls: string, ...body: Node[]) => h('section', { class: `panel ${cls}` }, h('h2', {}, title), ...body);
    const guestHost = {
      ensureOnline: async () => {
        if (!this.online && !this.powering) await this.powerOn(true);
        while (this.powering) await new Promise((r) => setTimeout(r, 100));
        return this.online?.hv;
      },
      run: (what: string, action: () => Promise<unknown>) => this.run(what, action),
      showPackets: () => {
        if (!this.packets) this.togglePackets();
      },
    };
    this.scenario = new ScenarioPanel(guestHost);
    this.kernel = new KernelPanel(guestHost);
    this.workspace = h(
      'div',
      { class: 'workspace' },
      h(
        'div',
        { class: 'col-left' },
        panel(
          'Hypervisor console',
          'hv-panel',
          hvHost,
          h(
            'div',
            { class: 'hv-actions' },
            h('button', { class: 'btn', 'data-action': 'capture', title: "The server's network traffic since power-on, as a pcap file for tcpdump or Wireshark", onclick: () => this.downloadCapture() }, 'Capture'),
            h('button', { class: 'btn', 'data-action': 'packets', title: 'Every frame on the server\'s switch, one line each, as it passes', onclick: () => this.togglePackets() }, 'Packets'),
          ),
          (this.packetSlot = h('div', { class: 'packet-slot' })),
        ),
        panel('Appliance catalog', 'catalog-panel', this.catalogSlot),
        panel('Storage', 'storage-panel', this.storageSlot),
      ),
      h('div', { class: 'col-right' }, panel('Virtual machines', 'vms-panel', this.listSlot), this.grid, this.kernel.el),
    );
    root.replaceChildren(
      h(
        'header',
        { class: 'topbar' },
        h('div', { class: 'logo' }, h('span', { class: 'logo-mark' }, '▣'), ' romvisor'),
        h('div', { class: 'tagline' }, 'A server whose ROM boots a hypervisor — RISC-V virtual appliances in your browser'),
      ),
      this.chassis.el,
      ...(opts.jitProblem ? [this.pageProblem('jit', opts.jitProblem)] : []),
      this.scenario.el,
      this.workspace,
      this.toasts,
      this.fileInput,
    );
    this.hvTerm = new TerminalView(hvHost, { rows: 18, fontSize: 12, onData: (d) => this.online?.shell.input(d) });
    this.showOff();
    // A closed or reloaded tab takes its VMs' workers with it: they suspend themselves first
    // (a hidden tab keeps running, so only pagehide). A page kept in the back/forward cache
    // comes back with those VMs stopped under cards that show them running: reloaded.
    addEventListener('pagehide', () => this.online?.hv.suspendForPageHide(PAGEHIDE_WAIT_MS));
    addEventListener('pageshow', (e) => {
      if ((e as PageTransitionEvent).persisted) location.reload();
    });
    (globalThis as { __romvisor?: unknown }).__romvisor = {
      hypervisor: () => this.online?.hv,
      consoleText: (vm: string) => [...(this.online?.cards.values() ?? [])].find((c) => c.vm.record.name === vm)?.consoleText(),
      hvConsoleText: () => this.hvTerm.text(),
    };
    if (localStorage.getItem(POWER_KEY) === 'on') void this.powerOn(true);
  }

  /** A problem with the page's address, in view until dismissed (a toast would fade before it is read). */
  private pageProblem(what: string, text: string): HTMLElement {
    const el: HTMLElement = h('div', { class: 'page-problem', role: 'alert', 'data-page-problem': what }, h('span', {}, text), h('button', { class: 'btn small', onclick: () => el.remove() }, 'Dismiss'));
    return el;
  }

  /** Opens or closes the packet panel on the running server's switch. */
  private togglePackets(): void {
    if (this.packets) {
      this.packets.dispose();
      this.packets = undefined;
      return;
    }
    const hv = this.online?.hv;
    if (!hv) return this.toast('error', 'the server is off: no network to watch');
    this.packets = new PacketPanel(hv);
    this.packetSlot.append(this.packets.el);
  }

  /** The server switch's capture (the `capture` command's download). */
  private downloadCapture(): void {
    const hv = this.online?.hv;
    if (!hv) return this.toast('error', 'the server is off: no network to capture');
    const c = hv.capture();
    download(c.blob, c.fileName);
    this.toast('info', `capture: ${c.frames} frames${c.notCaptured ? `, ${c.notCaptured} more past its bound` : ''}`);
  }

  private showOff(): void {
    // The panel watched the switch of the server that went off.
    this.packets?.dispose();
    this.packets = undefined;
    this.chassis.setPower('off');
    this.workspace.dataset.power = 'off';
    this.hvTerm.write('\x1b[2J\x1b[H\x1b[2mThe server is off. Press the power button on the front panel.\x1b[0m\r\n');
  }

  private async togglePower(): Promise<void> {
    if (this.powering) return;
    if (this.online) await this.powerOff();
    else await this.powerOn(false);
  }

  private async powerOn(quick: boolean): Promise<void> {
    this.powering = true;
    this.chassis.setPower('post');
    this.chassis.setReadout('POST');
    this.workspace.dataset.power = 'post';
    this.hvTerm.write('\x1b[2J\x1b[3J\x1b[H');
    const ready = RomHypervisor.boot({ baseUrl: this.opts.baseUrl, coreWasmUrl: this.opts.coreWasmUrl, forceConsoleMessages: this.opts.forceConsoleMessages, jit: this.opts.jit });
    let hv: RomHypervisor;
    try {
      await powerOnSelfTest(ready, {
        write: (t) => this.hvTerm.write(t),
        beatMs: quick ? 40 : 160,
        deviceMemoryGiB: (navigator as Navigator & { deviceMemory?: number }).deviceMemory,
        cores: navigator.hardwareConcurrency ?? 1,
      });
      hv = await ready;
    } catch (e) {
      this.chassis.setPower('halted');
      this.chassis.setReadout('HALT');
      this.workspace.dataset.power = 'off';
      this.powering = false;
      this.toast('error', `power-on failed: ${(e as Error).message}`);
      return;
    }
    localStorage.setItem(POWER_KEY, 'on');
    const shell = new ManagementShell(hv, {
      write: (t) => this.hvTerm.write(t),
      pickFile: () => this.pickFile(),
      download,
      focusVm: (vm) => this.focusVm(vm),
      columns: () => this.hvTerm.term.cols,
    });
    const run = (what: string, action: () => Promise<unknown>) => this.run(what, action);
    const catalog = new CatalogView(hv, { run, pickFile: () => this.pickFile() });
    const storage = new StorageView(hv, run);
    const backup = new BackupView(hv, (level, text) => this.toast(level, text));
    const list = new VmListView(hv, (vm) => this.focusVm(vm), run);
    this.catalogSlot.replaceChildren(catalog.el);
    this.storageSlot.replaceChildren(storage.el, backup.el);
    this.listSlot.replaceChildren(list.el);
    const cards = new Map<string, VmCardView>();
    const views: OnlineViews = { hv, shell, catalog, storage, backup, list, cards, subscription: hv.onEvent((e) => this.onEvent(e)) };
    this.online = views;
    for (const vm of hv.vms()) this.addCard(vm);
    this.chassis.setPower('on');
    this.workspace.dataset.power = 'on';
    this.updateChassis();
    shell.start();
    this.hvTerm.focus();
    this.powering = false;
  }

  private async powerOff(): Promise<void> {
    const v = this.online;
    if (!v) return;
    const live = v.hv.vms().filter((vm) => vm.state === 'running' || vm.state === 'paused' || vm.state === 'starting');
    if (live.length && !(await confirmDialog('Power the server off?', `${live.length} VM(s) are running; they are stopped (committed disk writes are kept).`, 'Power off'))) return;
    this.powering = true;
    this.chassis.setReadout('SHUTDOWN');
    await Promise.allSettled([...live.map((vm) => vm.stop()), this.scenario.stopGuests(), this.kernel.stopRun()]);
    v.subscription.dispose();
    for (const c of v.cards.values()) c.dispose();
    v.catalog.dispose();
    v.storage.dispose();
    v.backup.dispose();
    v.list.dispose();
    v.hv.dispose();
    this.online = undefined;
    localStorage.setItem(POWER_KEY, 'off');
    const offline = (text: string) => h('div', { class: 'offline-note' }, text);
    this.catalogSlot.replaceChildren(offline('The catalog is served by the hypervisor. Power the server on.'));
    this.storageSlot.replaceChildren(offline('—'));
    this.listSlot.replaceChildren(offline('No hypervisor running.'));
    this.chassis.setRunning(0);
    this.showOff();
    this.powering = false;
  }

  private onEvent(e: HypervisorEvent): void {
    const v = this.online;
    if (!v) return;
    switch (e.kind) {
      case 'catalog-changed':
        v.catalog.render();
        // A repository's newer version shows as Update on its VMs' cards.
        for (const card of v.cards.values()) card.update();
        break;
      case 'vm-added':
        this.addCard(e.vm);
        v.list.render();
        v.catalog.render();
        break;
      case 'vm-removed':
        v.cards.get(e.vmId)?.dispose();
        v.cards.delete(e.vmId);
        v.list.render();
        v.catalog.render();
        break;
      case 'vm-state':
        v.cards.get(e.vm.id)?.update();
        v.list.render();
        this.updateChassis();
        if (e.vm.state === 'stopped') v.catalog.render();
        break;
      case 'vm-stats':
        v.cards.get(e.vm.id)?.updateReadout();
        v.list.render();
        this.updateChassis();
        break;
      case 'import-progress':
        v.catalog.showProgress(e.name, e.progress.bytes, e.progress.total);
        this.chassis.diskActivity();
        break;
      case 'storage-changed':
        // A disk reset or deleted from the console as from a card: every card reads its
        // disk again, and a card whose state changed has the catalog redrawn.
        void v.storage.refresh();
        for (const c of v.cards.values()) void c.refreshDisk();
        break;
      case 'notice':
        this.toast(e.level, e.text);
        break;
    }
  }

  private addCard(vm: VmHandle): void {
    const v = this.online!;
    if (v.cards.has(vm.id)) return;
    // The disk's state is read from the store by the card; when it changes, the catalog's
    // line for the VM is read again too, so the two never disagree for long.
    const card = new VmCardView(vm, v.hv, { run: (what, action) => this.run(what, action), diskChanged: () => this.online?.catalog.render() });
    v.cards.set(vm.id, card);
    this.grid.append(card.el);
  }

  private focusVm(vm: VmHandle): void {
    this.online?.cards.get(vm.id)?.focus();
  }

  private updateChassis(): void {
    const v = this.online;
    if (!v) return;
    // Scenario guests are VMs on this server too, though not in its table.
    const running = [...v.hv.vms(), ...this.scenario.liveGuests(), ...this.kernel.liveGuests()].filter((vm) => vm.state === 'running');
    const mips = running.reduce((n, vm) => n + (vm.stats?.mips ?? 0), 0);
    this.chassis.setRunning(running.length);
    this.chassis.setReadout(`${running.length} VM${running.length === 1 ? '' : 'S'} · ${mips.toFixed(0)} MIPS`);
  }

  private async run(what: string, action: () => Promise<unknown>): Promise<void> {
    try {
      await action();
    } catch (e) {
      this.toast('error', `${what}: ${(e as Error).message}`);
    }
  }

  private pickFile(): Promise<File | undefined> {
    return new Promise((resolve) => {
      const input = this.fileInput;
      input.value = '';
      const done = (f: File | undefined) => {
        input.onchange = null;
        input.oncancel = null;
        resolve(f);
      };
      input.onchange = () => done(input.files?.[0]);
      input.oncancel = () => done(undefined);
      input.click();
    });
  }

  toast(level: 'info' | 'error', text: string): void {
    const el = h('div', { class: `toast ${level}`, role: level === 'error' ? 'alert' : 'status' }, text);
    this.toasts.append(el);
    setTimeout(() => el.remove(), level === 'error' ? 8000 : 4000);
  }
}
