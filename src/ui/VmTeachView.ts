/**
 * A VM card's teaching panels ("Watch"): the boot timeline, the trap panel and the machine
 * inspector for that VM, fed from its worker's VmInspector. The timeline and traps are
 * polled a few times a second while the worker runs; the inspector's buttons pause the VM
 * through its handle (so the card shows it paused) and step it through the worker.
 */
import type { Disposable, VmHandle } from '../hypervisor/index.ts';
import type { ViewPanel } from '../scenario/index.ts';
import type { TrapLogFilter } from '../machine/index.ts';
import { BootTimeline, describeResult, InspectorPanel, JitPanel, TrapPanel, type InspectorControls } from './teach/index.ts';
import './teach/teach.css';
import './VmTeachView.css';
import { h } from './dom.ts';

const POLL_MS = 250;
/** Recent traps the trap panel's log shows. */
const RECENT_TRAPS = 64;

/**
 * Where the trap log's filter is remembered (localStorage, under `key`: one per VM or
 * scenario), and the filter a scenario presets for a view the user has not changed.
 */
export interface TrapLogSettings {
  key: string;
  preset?: TrapLogFilter;
}

/** The panels a card can show; the console is the card's own. */
export type TeachPanel = Exclude<ViewPanel, 'console'>;
export const TEACH_PANELS: readonly TeachPanel[] = ['timeline', 'traps', 'inspector'];

export class VmTeachView implements Disposable {
  readonly el: HTMLElement;
  private readonly timeline: BootTimeline | undefined;
  private readonly traps: TrapPanel | undefined;
  private readonly inspector: InspectorPanel | undefined;
  /** The JIT tier's panel comes with the inspector. */
  private readonly jit: JitPanel | undefined;
  private readonly timer: ReturnType<typeof setInterval>;
  private polling = false;
  private shownPaused: boolean | undefined;

  constructor(
    private readonly vm: VmHandle,
    panels: readonly TeachPanel[] = TEACH_PANELS,
    trapLog: TrapLogSettings = { key: `vm:${vm.record.name}` },
  ) {
    const host = (name: TeachPanel) => (panels.includes(name) ? h('div', { class: `vm-teach-${name}` }) : undefined);
    const timelineHost = host('timeline');
    const trapsHost = host('traps');
    const inspectorHost = host('inspector');
    const jitHost = inspectorHost && h('div', { class: 'vm-teach-jit' });
    this.el = h('div', { class: 'vm-teach', 'data-teach': panels.join(' ') }, timelineHost, trapsHost, inspectorHost, jitHost);
    const bareKernel = vm.kernel !== undefined;
    if (timelineHost) this.timeline = new BootTimeline(timelineHost, bareKernel);
    if (trapsHost) {
      this.traps = new TrapPanel(trapsHost, { ...trapLog, bareKernel, apply: (f) => this.vm.machine?.setTrapLogFilter(f), ...(inspectorHost ? { backTo: (t) => void this.backToTrap(t.seq) } : {}) });
    }
    if (inspectorHost) this.inspector = new InspectorPanel(inspectorHost, this.controls());
    if (jitHost) this.jit = new JitPanel(jitHost);
    this.timer = setInterval(() => void this.poll(), POLL_MS);
    this.update();
    void this.poll();
  }

  /** The machine behind the inspector's buttons: run control through the VM's handle, the rest through its worker. */
  private controls(): InspectorControls {
    const vm = this.vm;
    const machine = () => {
      const m = vm.machine;
      if (!m) throw new Error(`VM ${vm.record.name} is not running`);
      return m;
    };
    return {
      pause: () => vm.pause(),
      resume: () => vm.resume(),
      snapshot: () => machine().snapshot(),
      step: () => machine().step(),
      stepUntilTrap: () => machine().stepUntilTrap(),
      runUntilPrivChange: () => machine().runUntilPrivChange(),
      stepBack: () => machine().stepBack(),
      runBackToTrap: () => machine().runBackToTrap(),
      runBackToPrivChange: () => machine().runBackToPrivChange(),
      stepBackInfo: () => machine().stepBackInfo(),
      backToTrap: (seq) => machine().backToTrap(seq),
      setBreakpoint: (pc) => machine().setBreakpoint(pc),
      explain: (va, access, priv) => machine().explain(va, access, priv),
    };
  }

  /** A trap log row's ◀: pause, go back to just after that trap, and show it in the inspector. */
  private async backToTrap(seq: number): Promise<void> {
    const m = this.vm.machine;
    if (!m) return;
    try {
      if (this.vm.state === 'running') await this.vm.pause();
      const r = await m.backToTrap(seq);
      this.shownPaused = true;
      this.inspector?.update({ paused: true, note: describeResult(r) });
      void this.poll();
    } catch (e) {
      this.inspector?.update({ paused: this.vm.state === 'paused', note: `✗ ${(e as Error).message}` });
    }
  }

  /** The VM's state changed: tell the inspector whether it may step. */
  update(): void {
    const paused = this.vm.state === 'paused';
    if (paused === this.shownPaused || !this.vm.machine) return;
    this.shownPaused = paused;
    const detail = this.vm.stateDetail;
    this.inspector?.update({ paused, note: paused && detail && detail !== 'paused by you' ? detail : undefined });
  }

  private async poll(): Promise<void> {
    const m = this.vm.machine;
    if (this.polling || !m || !this.el.isConnected) return;
    this.polling = true;
    try {
      // A worker started after the panel (or restarted) collects with the default filter: give it the panel's.
      if (this.traps?.needsApply(m)) {
        await m.setTrapLogFilter(this.traps.filter); // throws until the worker has booted its VM: tried again next poll
        this.traps.applied(m);
      }
      const [t, s, j] = await Promise.all([this.timeline ? m.timeline() : undefined, this.traps ? m.traps(RECENT_TRAPS) : undefined, this.jit ? m.jitView() : undefined]);
      if (t) this.timeline?.update(t);
      if (s) this.traps?.update(s);
      if (j) this.jit?.update(j);
    } catch {
      // The worker went away between two polls (stop, crash); the next start brings a new one.
    } finally {
      this.polling = false;
    }
  }

  dispose(): void {
    clearInterval(this.timer);
    this.timeline?.dispose();
    this.traps?.dispose();
    this.inspector?.dispose();
    this.jit?.dispose();
    this.el.remove();
  }
}
