/**
 * One VM on the page: its header (state, MIPS, uptime, disk), the same actions the
 * management console has, its console, and why it crashed when it did.
 */
import { formatUptime, type Disposable, type Hypervisor, type VmHandle } from '../hypervisor/index.ts';
import { formatBytes } from '../format/formatBytes.ts';
import { describeRemoteDisk } from '../repo/index.ts';
import { SMP_MAX_HARTS } from '../hypervisor/index.ts';
import { JIT_MODES, type JitMode } from '../jit/Jit.ts';
import { confirmDialog } from './confirmDialog.ts';
import { download, h } from './dom.ts';
import { TerminalView } from './TerminalView.ts';
import { SharedFolderView } from './SharedFolderView.ts';
// The helpers directly, not the scenario/ index: its ScenarioPanel builds VmCardViews.
import { scenarioGuestOf } from './scenario/scenarioOrigin.ts';
import { shareVm } from './scenario/shareVm.ts';
import { VmTeachView, type TeachPanel, type TrapLogSettings } from './VmTeachView.ts';
import { GuestWebView } from './GuestWebView.ts';
import { SnapshotTreeView } from './SnapshotTreeView.ts';

interface VmCardActions {
  /** Runs an action, reporting its error to the user. */
  run(what: string, action: () => Promise<unknown>): Promise<void>;
  /** The disk's state read anew differs from what the card showed (the catalog shows it too). */
  diskChanged?(): void;
}

const STATE_LABEL: Record<VmHandle['state'], string> = {
  stopped: 'stopped',
  starting: 'starting…',
  running: 'running',
  paused: 'paused',
  stopping: 'stopping…',
  crashed: 'crashed',
  'in-use': 'in use elsewhere',
};

const JIT_LABEL: Record<JitMode, string> = {
  off: 'off (interpreter)',
  auto: 'auto (hot code)',
  eager: 'eager (all code)',
};

export class VmCardView implements Disposable {
  readonly el: HTMLElement;
  private readonly terminal: TerminalView;
  private readonly stateBadge: HTMLElement;
  private readonly readout: HTMLElement;
  private readonly meta: HTMLElement;
  private readonly metaText: HTMLElement;
  /** What a repository disk fetched this run: the line, its bar, and the figures as data attributes. */
  private readonly stream: HTMLElement;
  private readonly streamBar: HTMLProgressElement;
  private readonly streamText: HTMLElement;
  /** The harts setting: a VM of the table, changed while it is off. */
  private readonly hartsSelect: HTMLSelectElement | undefined;
  /** The JIT setting (in the menu): a VM of the table, changed while it is off. */
  private readonly jitSelect: HTMLSelectElement | undefined;
  private readonly banner: HTMLElement;
  private readonly buttons: Record<string, HTMLButtonElement> = {};
  private readonly subscription: Disposable;
  private diskText = '';
  private readonly diskTimer: ReturnType<typeof setInterval>;
  private readonly teachSlot: HTMLElement;
  private teach: VmTeachView | undefined;
  private readonly webSlot: HTMLElement;
  private web: GuestWebView | undefined;
  /** A scenario's scratch guest has no shared folder: nothing of it outlives the page. */
  private readonly shareView: SharedFolderView | undefined;

  constructor(
    readonly vm: VmHandle,
    private readonly hv: Hypervisor,
    private readonly actions: VmCardActions,
  ) {
    const button = (name: string, label: string, title: string, onclick: () => void, cls = 'btn small') =>
      (this.buttons[name] = h('button', { class: cls, 'data-action': name, title, onclick }, label));
    this.stateBadge = h('span', { class: 'badge vm-state' });
    this.readout = h('span', { class: 'readout' });
    this.metaText = h('span', {});
    // A VM of the table keeps its machine in its record; a scratch guest (a scenario's, a
    // dropped kernel) runs the machine it was started with.
    const settable = !scenarioGuestOf(vm) && !vm.kernel;
    this.hartsSelect = settable
      ? h('select', { class: 'vm-setting', 'data-setting': 'harts', title: 'Harts of the machine (QEMU\'s -smp); change it while the VM is off', 'aria-label': 'harts', onchange: () => void this.setHarts() },
          ...Array.from({ length: SMP_MAX_HARTS }, (_, i) => h('option', { value: i + 1 }, `${i + 1} hart${i ? 's' : ''}`)))
      : undefined;
    this.jitSelect = settable
      ? h('select', { class: 'vm-setting', 'data-setting': 'jit', 'aria-label': 'JIT tier', onchange: () => void this.setJit() },
          ...JIT_MODES.map((m) => h('option', { value: m }, JIT_LABEL[m])))
      : undefined;
    this.meta = h('div', { class: 'vm-meta' }, this.metaText, this.hartsSelect);
    this.streamBar = h('progress', { max: 1, value: 0 });
    this.streamText = h('span', {});
    this.stream = h('div', { class: 'vm-stream', 'data-remote-disk': '', hidden: true }, this.streamBar, this.streamText);
    this.banner = h('div', { class: 'vm-banner', hidden: true });
    const termHost = h('div', { class: 'term vm-term' });
    this.el = h(
      'article',
      { class: 'vm-card', 'data-vm': vm.record.name, 'data-vm-id': vm.id },
      h(
        'header',
        { class: 'vm-head' },
        h('div', { class: 'vm-title' }, h('span', { class: 'led' }), h('strong', {}, vm.record.name), this.stateBadge),
        this.readout,
        h(
          'div',
          { class: 'vm-actions' },
          button('start', 'Start', 'Power on', () => {
            // The keyboard goes to the console at once: what is typed while it boots is kept.
            this.terminal.focus();
            void this.actions.run(`start ${vm.record.name}`, () => vm.start());
          }, 'btn small primary'),
          button('pause', 'Pause', 'Freeze the guest', () => void this.actions.run('pause', () => (vm.state === 'paused' ? vm.resume() : vm.pause()))),
          button('reset', 'Reset', 'Hard reset', () => void this.actions.run('reset', () => vm.reset())),
          button('suspend', 'Suspend', 'Save the running machine and its screen, then stop; Resume brings it back without booting', () => void this.actions.run('suspend', () => vm.suspend())),
          button('stop', 'Stop', 'Power off', () => void this.actions.run('stop', () => vm.stop())),
          button('update', 'Update', 'Move the system disk to the newest version of the appliance (the data disk stays)', () => void this.moveVersion('update')),
          button('roll-back', 'Roll back', 'Move the system disk back to the version it had before the last update (the data disk stays)', () => void this.moveVersion('roll-back')),
          h(
            'details',
            { class: 'menu' },
            h('summary', { class: 'btn small', title: 'More' }, '⋯'),
            h(
              'div',
              { class: 'menu-items' },
              button('info', 'Where is the hart?', 'pc, privilege, last trap', () => void this.showInfo(), 'menu-item'),
              this.jitSelect && h('label', { class: 'menu-item menu-setting', 'data-menu-setting': 'jit' }, 'JIT ', this.jitSelect),
              button('open-port', 'Open port…', "The guest's web server (port 80 by default), shown here in a sandboxed frame", () => this.openPort(), 'menu-item'),
              button('share', 'Share as a link…', 'A scenario link that boots the same appliance, memory and command line', () => void this.share(), 'menu-item'),
              button('snapshots', 'Snapshots…', 'Take a snapshot of the disk (and the running machine); the tree of them; revert or delete', () => void this.openSnapshots(), 'menu-item'),
              button('export', 'Export disk (.vhd)', 'Download the disk as one VHD', () => void this.exportDisk(), 'menu-item'),
              button('reset-disk', 'Reset disk to base…', 'Throw away every change', () => void this.resetDisk(), 'menu-item'),
              button('delete', 'Delete VM…', 'Remove the VM and its disk', () => void this.deleteVm(), 'menu-item danger'),
            ),
          ),
        ),
      ),
      this.meta,
      this.stream,
      this.tryFirst(),
      this.banner,
      termHost,
      (this.webSlot = h('div', { class: 'vm-web-slot' })),
      (this.teachSlot = h('div', { class: 'vm-teach-slot' })),
    );
    if (!scenarioGuestOf(vm) && !vm.kernel) {
      this.shareView = new SharedFolderView(vm, (what, action) => this.actions.run(what, action), this.el);
      termHost.after(this.shareView.el);
    }
    this.terminal = new TerminalView(termHost, {
      rows: 20,
      convertEol: vm.kernel !== undefined,
      onData: (d) => vm.sendInput(new TextEncoder().encode(d)),
      onResize: (size) => vm.resizeConsole(size),
    });
    // The guest's console starts at this size; the fit to the card's width follows.
    vm.resizeConsole(this.terminal.size);
    const history = vm.consoleHistory;
    if (history.length) this.terminal.write(history);
    this.subscription = vm.onConsole((bytes) => this.terminal.write(bytes));
    this.el.querySelector('.vm-actions')!.prepend(button('watch', 'Watch', 'Boot timeline, traps and the machine inspector', () => this.toggleTeaching()));
    this.update();
    void this.refreshDisk();
    // The disk's committed state while the guest runs (after its syncs).
    this.diskTimer = setInterval(() => {
      if (this.vm.state === 'running') void this.refreshDisk();
    }, 10_000);
  }

  /** The appliance's suggested commands; a click types one into the running guest. */
  private tryFirst(): HTMLElement | undefined {
    const hints = (this.vm.appliance?.tryFirst ?? []).map((t) => t.split(/\s{2,}/)[0]!.trim()).filter((t) => t && t !== 'poweroff');
    if (hints.length === 0) return undefined;
    return h(
      'div',
      { class: 'try-first' },
      h('span', { class: 'muted small' }, 'Try'),
      ...hints.map((cmd) =>
        h('button', { class: 'chip cmd', title: 'Type this into the console', onclick: () => {
          if (this.vm.state !== 'running') return;
          this.vm.sendInput(new TextEncoder().encode(`${cmd}\r`));
          this.terminal.focus();
        } }, cmd),
      ),
    );
  }

  focus(): void {
    this.el.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    this.terminal.focus();
  }

  /** The console's text (tests read it through the page's debug hook). */
  consoleText(): string {
    return this.terminal.text();
  }

  update(): void {
    const vm = this.vm;
    const s = vm.state;
    this.el.dataset.state = s;
    this.el.dataset.suspended = String(vm.suspended);
    this.stateBadge.textContent = s === 'stopped' && vm.suspended ? 'suspended' : STATE_LABEL[s];
    this.stateBadge.className = `badge vm-state state-${s}`;
    const live = s === 'running' || s === 'paused' || s === 'stopping';
    this.buttons.start!.hidden = live || s === 'starting';
    this.buttons.start!.disabled = s === 'in-use';
    this.buttons.start!.textContent = vm.suspended ? 'Resume' : 'Start';
    this.buttons.start!.title = vm.suspended ? 'Resume the suspended machine where it was (it boots if its disk was written since)' : 'Power on';
    // A scenario's guest or a bare kernel is not suspended (its machine is the page's only).
    this.buttons.suspend!.hidden = s !== 'running' || scenarioGuestOf(vm) !== undefined || vm.kernel !== undefined;
    this.buttons.pause!.hidden = !live;
    this.buttons.pause!.textContent = s === 'paused' ? 'Resume' : 'Pause';
    this.buttons.reset!.hidden = !live;
    this.buttons.stop!.hidden = !live && s !== 'crashed';
    const hasDisk = vm.record.diskImageId !== undefined;
    const off = !live && s !== 'starting' && s !== 'in-use';
    this.buttons.export!.disabled = !hasDisk || !off;
    this.buttons['reset-disk']!.disabled = !hasDisk || !off;
    this.buttons.delete!.disabled = !off;
    // A scenario's or a bare kernel's disk is scratch: nothing of it is kept to go back to.
    this.buttons.snapshots!.hidden = !hasDisk || scenarioGuestOf(vm) !== undefined || vm.kernel !== undefined;
    this.buttons.snapshots!.disabled = s === 'in-use';
    this.buttons['open-port']!.disabled = s !== 'running';
    // Versions move a stopped VM only: its system disk is replaced under it.
    const versions = scenarioGuestOf(vm) || vm.kernel ? undefined : this.hv.updateInfo(vm.id);
    this.buttons.update!.hidden = !versions?.update || !off;
    if (versions?.update) this.buttons.update!.textContent = `Update to ${versions.update.version}`;
    this.buttons['roll-back']!.hidden = !versions?.rollBack || !off;
    if (versions?.rollBack) this.buttons['roll-back']!.textContent = `Roll back to ${versions.rollBack.version}`;
    this.updateReadout();
    this.buttons.watch!.textContent = this.teach ? 'Hide watch' : 'Watch';
    this.buttons.watch!.setAttribute('aria-pressed', String(this.teach !== undefined));
    this.teach?.update();
    this.showMeta();
    if (this.hartsSelect) {
      this.hartsSelect.value = String(vm.record.harts ?? 1);
      this.hartsSelect.disabled = !(s === 'stopped' || s === 'crashed');
    }
    if (this.jitSelect) {
      this.jitSelect.value = this.jitMode();
      // The worker is made with its tier: a change applies from the next start.
      this.jitSelect.disabled = !(s === 'stopped' || s === 'crashed');
      this.jitSelect.title = this.jitSelect.disabled
        ? 'The JIT tier this VM runs with; power it off to change it'
        : 'off: the interpreter alone; auto: hot guest code is translated to WebAssembly; eager: every page on its first run (slow start, for tests)';
    }
    this.buttons.share!.disabled = vm.kernel !== undefined && !scenarioGuestOf(vm);
    if (s === 'crashed' && vm.crash) {
      const i = vm.crash.info;
      this.banner.hidden = false;
      this.banner.className = 'vm-banner error';
      this.banner.replaceChildren(
        h('strong', {}, 'Crashed: '),
        vm.crash.reason,
        i ? h('div', { class: 'mono' }, `pc ${i.pc} in ${i.priv}-mode after ${i.instructions.toLocaleString('en')} instructions; last trap: ${i.lastTrap.kind} ${i.lastTrap.cause} at ${i.lastTrap.pc} (tval ${i.lastTrap.tval}), ${i.lastTrap.count} traps`) : h('div', {}, 'The worker could not be asked where the hart was.'),
      );
    } else if (s === 'paused' && vm.stateDetail && vm.stateDetail !== 'paused by you') {
      this.banner.hidden = false;
      this.banner.className = 'vm-banner warn';
      this.banner.textContent = vm.stateDetail;
    } else if ((s === 'in-use' || s === 'stopped' || s === 'running') && vm.stateDetail) {
      this.banner.hidden = false;
      this.banner.className = 'vm-banner';
      this.banner.textContent = vm.stateDetail;
    } else {
      this.banner.hidden = true;
    }
    if (s === 'stopped') void this.refreshDisk();
    // The live folder is the worker's while it runs, the store's once it is off.
    if (s === 'running' || s === 'stopped') void this.shareView?.refresh();
  }

  updateReadout(): void {
    const st = this.vm.stats;
    const s = this.vm.state;
    const running = s === 'running';
    // Uptime counts only while the VM is powered on; once off, the last run's length, as "ran".
    const live = running || s === 'paused' || s === 'stopping';
    this.readout.replaceChildren(
      h('span', { class: 'metric', title: 'million instructions per second' }, h('b', { 'data-metric': 'mips' }, st && running ? st.mips.toFixed(1) : '—'), ' MIPS'),
      h('span', { class: 'metric', title: live ? 'uptime' : 'how long the last run lasted' }, live || !st ? 'up ' : 'ran ', h('b', { 'data-metric': 'uptime' }, st && (live || s === 'stopped' || s === 'crashed') ? formatUptime(st.uptimeMs) : '—')),
      ...this.netReadout(),
    );
    this.showStream();
  }

  /**
   * A repository disk's streaming: bytes fetched of the image (the bar), requests, what came
   * from this browser's copy. The figures stay after the VM stops, until its next start.
   */
  private showStream(): void {
    const r = this.vm.remoteDisk;
    this.stream.hidden = !r;
    if (!r) return;
    this.streamBar.hidden = r.fetchedBytes === 0;
    this.streamBar.max = Math.max(1, r.imageBytes);
    this.streamBar.value = Math.min(r.fetchedBytes, r.imageBytes);
    this.streamText.textContent = describeRemoteDisk(r);
    Object.assign(this.stream.dataset, {
      fetchedBytes: String(r.fetchedBytes),
      imageBytes: String(r.imageBytes),
      requests: String(r.requests),
      storeBytes: String(r.storeBytes),
      offline: String(r.offline),
    });
  }

  /** The VM on the server's switch: its DHCP address, frames in and out, and what was dropped. */
  private netReadout(): HTMLElement[] {
    const n = this.vm.net;
    if (!n) return [];
    const dropped = n.rxDropped + n.txDropped + n.switchDropped;
    return [
      h('span', { class: 'metric', title: "the address the server's DHCP gave this VM" }, h('b', { 'data-metric': 'address' }, n.address ?? '—')),
      h(
        'span',
        { class: 'metric', title: `frames received / sent; dropped: ${n.rxDropped} in, ${n.txDropped} out, ${n.switchDropped} at the switch` },
        'rx ', h('b', { 'data-metric': 'rx' }, String(n.rxFrames)),
        ' tx ', h('b', { 'data-metric': 'tx' }, String(n.txFrames)),
        ' drop ', h('b', { 'data-metric': 'dropped' }, String(dropped)),
      ),
    ];
  }

  /** Reads the disk's committed state anew (also after a change made elsewhere, e.g. the console's reset-disk). */
  async refreshDisk(): Promise<void> {
    const before = this.diskText;
    const k = this.vm.kernel;
    if (k) {
      this.diskText = k.drives.length ? ` · ${k.drives.map((d) => `${d.name} (${d.format}${d.readOnly ? ', read-only' : ''})`).join(', ')}; written in this page, not to your file` : ' · no drives';
    } else if (scenarioGuestOf(this.vm)) {
      this.diskText = this.vm.appliance?.boot === 'disk' ? ' · scratch disk (nothing is kept)' : ' · RAM only';
    } else if (!this.vm.record.diskImageId) {
      this.diskText = ' · no disk (RAM only)';
    } else {
      try {
        const d = await this.vm.diskState();
        this.diskText = d ? ` · disk ${d.modified ? `modified (+${formatBytes(d.changedBytes)})` : 'pristine'}` : '';
      } catch {
        this.diskText = '';
      }
    }
    this.showMeta();
    if (this.diskText !== before) this.actions.diskChanged?.();
  }

  /** What the VM runs and on what machine; a VM of the table shows its harts as the setting. */
  private showMeta(): void {
    const vm = this.vm;
    const what = vm.kernel ? `kernel ${vm.kernel.name} (-bios none)` : (vm.appliance?.title ?? vm.record.applianceId);
    const harts = vm.record.harts ?? 1;
    const jit = this.jitMode();
    this.metaText.textContent = `${what} · ${vm.record.memoryMiB} MiB RAM${this.hartsSelect ? '' : ` · ${harts} hart${harts > 1 ? 's' : ''}`}${jit === 'off' ? '' : ` · JIT ${jit}`}${this.diskText}${this.hartsSelect ? ' · ' : ''}`;
  }

  /** The tier the VM runs with: its own setting, else the page's. */
  private jitMode(): JitMode {
    return this.vm.record.jit ?? this.hv.firmware.jit;
  }

  private async setJit(): Promise<void> {
    const jit = this.jitSelect!.value as JitMode;
    await this.actions.run(`JIT of ${this.vm.record.name}`, () => this.hv.configureVm(this.vm.id, { jit }));
    this.update();
  }

  private async setHarts(): Promise<void> {
    const harts = Number(this.hartsSelect!.value);
    await this.actions.run(`harts of ${this.vm.record.name}`, () => this.hv.configureVm(this.vm.id, { harts }));
    this.update();
  }

  private async showInfo(): Promise<void> {
    this.closeMenu();
    const info = await this.vm.inspect();
    const text = info
      ? `pc ${info.pc} in ${info.priv}-mode after ${info.instructions.toLocaleString('en')} instructions; last trap: ${info.lastTrap.kind} ${info.lastTrap.cause} at ${info.lastTrap.pc} (tval ${info.lastTrap.tval})`
      : 'not running';
    this.terminal.write(`\r\n\x1b[2m[romvisor] ${text}\x1b[0m\r\n`);
  }

  private async exportDisk(): Promise<void> {
    this.closeMenu();
    await this.actions.run('export', async () => {
      const { blob, fileName } = await this.hv.exportDisk(this.vm.id);
      download(blob, fileName);
    });
  }

  private async openSnapshots(): Promise<void> {
    this.closeMenu();
    await new SnapshotTreeView(this.vm).open();
  }

  /**
   * Update or Roll back: says first what changes, what it downloads, that the system disk's
   * changes are discarded and that /data stays, then moves the stopped VM's system disk.
   */
  private async moveVersion(which: 'update' | 'roll-back'): Promise<void> {
    const info = this.hv.updateInfo(this.vm.id);
    const move = which === 'update' ? info?.update : info?.rollBack;
    if (!info || !move) return;
    const name = this.vm.record.name;
    const download = move.downloadBytes === 0 ? 'Nothing to download.' : `It downloads at most ${formatBytes(move.downloadBytes)}${move.patch ? ' (a patch)' : ''}, only as the guest reads it.`;
    const data = info.dataDisk ? 'Its data disk (/data) is kept.' : 'It has no data disk: nothing of the old system disk is kept.';
    const title = which === 'update' ? `Update ${name} from version ${info.current} to ${move.version}?` : `Roll ${name} back from version ${info.current} to ${move.version}?`;
    const body = `The system disk becomes version ${move.version} of ${this.vm.appliance?.title ?? 'the appliance'}: every change made to it since it was installed or last updated is discarded. ${data} ${download}`;
    if (!(await confirmDialog(title, body, which === 'update' ? 'Update' : 'Roll back'))) return;
    await this.actions.run(which === 'update' ? 'update' : 'roll back', () => this.hv.updateVm(this.vm.id, move.version));
    this.update();
    void this.refreshDisk();
  }

  private async resetDisk(): Promise<void> {
    this.closeMenu();
    if (!(await confirmDialog(`Reset ${this.vm.record.name}'s disk?`, 'Every change since the appliance was installed (or since the snapshot it stands on) is thrown away. The base image and the snapshots stay.', 'Reset disk'))) return;
    await this.actions.run('reset disk', () => this.hv.resetDisk(this.vm.id));
    void this.refreshDisk();
  }

  private async deleteVm(): Promise<void> {
    this.closeMenu();
    if (!(await confirmDialog(`Delete ${this.vm.record.name}?`, 'The VM and its disk are removed from this browser.', 'Delete'))) return;
    await this.actions.run('delete', () => this.hv.deleteVm(this.vm.id));
  }

  private closeMenu(): void {
    this.el.querySelector('details.menu')?.removeAttribute('open');
  }

  /** Opens the teaching panels (all, or the ones a scenario's `view` names); with none, closes them. */
  showTeaching(panels?: readonly TeachPanel[], trapLog?: TrapLogSettings): void {
    this.teach?.dispose();
    this.teach = panels?.length === 0 ? undefined : new VmTeachView(this.vm, panels, trapLog);
    if (this.teach) this.teachSlot.append(this.teach.el);
    this.update();
  }

  /** Shows the guest's web server (port 80 first; the view's port field changes it). */
  openPort(port = 80): void {
    this.closeMenu();
    this.web?.dispose();
    this.web = new GuestWebView(this.vm, this.hv, port, () => {
      this.web?.dispose();
      this.web = undefined;
    });
    this.webSlot.append(this.web.el);
  }

  private toggleTeaching(): void {
    this.showTeaching(this.teach ? [] : undefined);
  }

  private async share(): Promise<void> {
    this.closeMenu();
    await this.actions.run('share', () => shareVm(this.vm));
  }

  dispose(): void {
    this.web?.dispose();
    this.shareView?.dispose();
    this.teach?.dispose();
    clearInterval(this.diskTimer);
    this.subscription.dispose();
    this.terminal.dispose();
    this.el.remove();
  }
}
