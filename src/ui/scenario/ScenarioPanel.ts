/**
 * Scenario links and files in the page. A `#s=` link (or an opened .json file) is decoded
 * and validated; a broken one shows every problem and the page goes on as usual, a valid
 * one shows what it will run and waits for Run. Running powers the server on if needed and
 * boots each guest as a scratch VM (a fresh overlay in its worker's memory over the
 * untouched base appliance, never stored), its console script played by the worker and its
 * steps listed beside its console. Everything shown from a scenario is text nodes.
 */
import { LockstepNetwork, type Disposable, type NetAttachment, type RomHypervisor, type VmHandle } from '../../hypervisor/index.ts';
import {
  decodeScenarioUrl, guestName, parseScenarioJsonBytes, ScenarioError, scenarioToJson,
  SCENARIO_LIMITS, type Scenario, type ScenarioGuest,
  viewPanels,
  viewTrapLog,
} from '../../scenario/index.ts';
import type { Appliance, VmRecord } from '../../store/index.ts';
import type { VmShape } from '../../machine/index.ts';
import { decodeMachineState } from '../../state/MachineStateFile.ts';
import { ScenarioRunError } from './ScenarioRunError.ts';
import type { BareKernelSpec, ScriptProgress, VmBootSpec } from '../../worker/VmWorkerApi.ts';
import { download, h } from '../dom.ts';
import { VmCardView } from '../VmCardView.ts';
import { TEACH_PANELS, type TeachPanel } from '../VmTeachView.ts';
import { applianceRefText } from './applianceRefText.ts';
import { describeStep } from './describeStep.ts';
import { resolveAppliance } from './resolveAppliance.ts';
import { downloadVerified, type DownloadProgress } from './downloadVerified.ts';
import { rememberScenarioGuest } from './scenarioOrigin.ts';
import { ScenarioStepsView } from './ScenarioStepsView.ts';
import './scenario.css';

const POLL_MS = 250;

export interface ScenarioPanelHost {
  /** The running hypervisor, powering the server on first if it is off; undefined if that failed. */
  ensureOnline(): Promise<RomHypervisor | undefined>;
  /** Runs an action, reporting its error to the user. */
  run(what: string, action: () => Promise<unknown>): Promise<void>;
  /** Opens the packet panel on the server's switch (a scenario's view "packets"). */
  showPackets?(): void;
}

interface ScenarioGuestRun {
  guest: ScenarioGuest;
  vm: VmHandle & Disposable;
  card: VmCardView;
  steps: ScenarioStepsView;
  progress?: ScriptProgress;
}

/** What the test hook reports. */
export type ScenarioPhase = 'none' | 'error' | 'preview' | 'starting' | 'running' | 'passed' | 'failed';

export class ScenarioPanel implements Disposable {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private readonly fileInput: HTMLInputElement;
  private scenario: Scenario | undefined;
  private phase: ScenarioPhase = 'none';
  private runs: ScenarioGuestRun[] = [];
  /** Deterministic guests' switches in lockstep (their frames cross at quantum ends). */
  private lockstep: LockstepNetwork[] = [];
  private subscription: Disposable | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly onHash = () => this.loadFromUrl();

  constructor(private readonly host: ScenarioPanelHost) {
    this.fileInput = h('input', { type: 'file', accept: '.json,application/json', hidden: true, 'data-scenario-file': '', onchange: () => void this.openFile() });
    this.body = h('div', { class: 'scenario-body' });
    this.el = h(
      'section',
      { class: 'panel scenario-panel', 'data-phase': 'none', 'aria-label': 'Scenario' },
      h(
        'div',
        { class: 'scenario-bar' },
        h('h2', {}, 'Scenario'),
        h('span', { class: 'muted small' }, 'A boot shared as a link or a file: appliance, memory, time mode and a console script.'),
        h('button', { class: 'btn small', 'data-action': 'open-scenario', onclick: () => this.fileInput.click() }, 'Open scenario file…'),
      ),
      this.body,
      this.fileInput,
    );
    addEventListener('hashchange', this.onHash);
    (globalThis as { __romvisorScenario?: unknown }).__romvisorScenario = {
      phase: () => this.phase,
      progress: () => this.runs.map((r) => r.progress),
      vmNames: () => this.runs.map((r) => r.vm.record.name),
      /** What a guest's console shows (xterm's buffer). */
      consoleText: (i: number) => this.runs[i]?.card.consoleText(),
      /** The deterministic network's capture so far (the first, if several) as latin1 text. */
      capture: async () => {
        const blob = this.lockstep[0]?.capture.blob();
        return blob && latin1(new Uint8Array(await blob.arrayBuffer()));
      },
      /** The guest's raw console bytes as latin1 text, and where the CLI would have stopped. */
      transcript: async (i: number) => {
        const t = await this.runs[i]?.vm.machine?.transcript();
        return t && { text: latin1(t.bytes), atScriptEnd: t.atScriptEnd };
      },
    };
    this.loadFromUrl();
  }

  /** Reads `#s=` from the page's address; anything else in the fragment is not ours. */
  loadFromUrl(): void {
    if (!location.hash.startsWith('#s=')) return;
    try {
      this.showPreview(decodeScenarioUrl(location.href));
    } catch (e) {
      this.showError('This scenario link cannot be opened', e);
    }
  }

  private async openFile(): Promise<void> {
    const file = this.fileInput.files?.[0];
    this.fileInput.value = '';
    if (!file) return;
    try {
      this.showPreview(parseScenarioJsonBytes(new Uint8Array(await file.arrayBuffer()), file.name));
    } catch (e) {
      this.showError(`${file.name} cannot be opened`, e);
    }
  }

  private setPhase(phase: ScenarioPhase): void {
    this.phase = phase;
    this.el.dataset.phase = phase;
  }

  private showError(title: string, e: unknown): void {
    if (!(e instanceof ScenarioError)) throw e;
    this.scenario = undefined;
    this.setPhase('error');
    // Every problem at once, so a link with three mistakes is fixed in one round; each
    // once: with a list, the message above it is a count, not the problems joined again.
    const list = e.problems.length > 1 || e.problems[0] !== e.message;
    const n = e.problems.length;
    const message = !list ? e.message : e.code === 'invalid' ? `The scenario breaks the schema in ${n} place${n === 1 ? '' : 's'}:` : `${n} problem${n === 1 ? '' : 's'}:`;
    this.body.replaceChildren(
      h(
        'div',
        { class: 'scenario-error', role: 'alert', 'data-scenario-error': e.code },
        h('strong', {}, title),
        h('p', { class: 'scenario-message' }, message),
        list ? h('ul', { class: 'scenario-problems' }, ...e.problems.map((p) => h('li', {}, p))) : undefined,
        h('div', { class: 'row' }, h('button', { class: 'btn small', 'data-action': 'dismiss-scenario', onclick: () => this.dismiss() }, 'Dismiss')),
      ),
    );
  }

  private showPreview(scenario: Scenario): void {
    this.scenario = scenario;
    this.setPhase('preview');
    const views = viewPanels(scenario) ?? ['console'];
    this.body.replaceChildren(
      h(
        'div',
        { class: 'scenario-preview' },
        h('h3', { class: 'scenario-title', 'data-scenario-title': '' }, scenario.title ?? 'Untitled scenario'),
        scenario.notes ? h('p', { class: 'scenario-notes' }, scenario.notes) : undefined,
        h('div', { class: 'scenario-guests' }, ...scenario.guests.map((g, i) => this.guestSummary(g, i, scenario.guests.length))),
        h('p', { class: 'muted small' }, `Opens: ${views.join(', ')}. Each guest ${scenario.guests.some((g) => g.state) ? 'boots (or resumes its saved machine)' : 'boots'} on a fresh scratch copy of its disk; nothing it writes is kept.`),
        h(
          'div',
          { class: 'row' },
          h('button', { class: 'btn primary', 'data-action': 'run-scenario', onclick: () => void this.run() }, 'Run ▶'),
          h('button', { class: 'btn', 'data-action': 'download-scenario', onclick: () => this.downloadJson() }, 'Download as JSON'),
          h('button', { class: 'btn', 'data-action': 'scenario-capture', title: "The deterministic guests' network traffic as pcap, stamped with guest time: what romvisor boot SCENARIO.json --pcap writes", onclick: () => this.downloadCapture() }, 'Capture'),
          h('button', { class: 'btn', 'data-action': 'dismiss-scenario', onclick: () => this.dismiss() }, 'Dismiss'),
        ),
        h('div', { class: 'scenario-status', 'aria-live': 'polite', 'data-scenario-status': '' }),
      ),
      h('div', { class: 'scenario-runs' }),
    );
  }

  private guestSummary(g: ScenarioGuest, i: number, n: number): HTMLElement {
    const row = (k: string, v: string | Node) => [h('dt', {}, k), h('dd', {}, v)];
    const script = g.script ?? [];
    return h(
      'div',
      { class: 'scenario-guest-summary' },
      n > 1 ? h('h4', {}, `Guest ${i + 1}`) : undefined,
      h(
        'dl',
        {},
        ...(g.state
          ? row('Saved machine', `${g.state.url} (resumed where it was saved, without a boot; memory, harts and time as saved)`)
          : g.appliance ? row('Appliance', applianceRefText(g.appliance)) : row('Kernel', `${g.kernel?.url ?? '?'} (bios none, ${g.drives?.length ?? 0} drives)`)),
        ...(g.state ? [] : row('Memory', `${g.memoryMiB} MiB`)),
        ...(g.state ? [] : row('Harts', String(g.harts ?? 1))),
        ...(g.state ? [] : row('Time', g.time === 'deterministic' ? 'deterministic (guest time follows instructions: every run is the same)' : 'realtime')),
        ...(g.cmdline ? row('Kernel arguments', g.cmdline) : []),
        ...row(
          'Script',
          script.length
            ? h('ol', { class: 'scenario-script' }, ...script.map((s) => {
                const d = describeStep(s);
                return h('li', {}, h('span', { class: 'step-verb' }, d.verb), ' ', h('code', {}, d.text));
              }))
            : 'none (just the console)',
        ),
      ),
    );
  }

  private status(text: string, level: 'info' | 'error' = 'info'): void {
    const el = this.body.querySelector<HTMLElement>('.scenario-status');
    if (!el) return;
    el.textContent = text;
    el.classList.toggle('error', level === 'error');
    if (level === 'error') el.setAttribute('role', 'alert');
  }

  private async run(): Promise<void> {
    const scenario = this.scenario;
    if (!scenario || this.phase === 'starting') return;
    this.setPhase('starting');
    this.body.querySelector<HTMLButtonElement>('[data-action="run-scenario"]')!.disabled = true;
    try {
      this.status('Powering the server on…');
      const hv = await this.host.ensureOnline();
      if (!hv) throw new Error('the server did not power on');
      await this.stopGuests();
      this.subscription = hv.onEvent((e) => {
        if (e.kind !== 'vm-state' && e.kind !== 'vm-stats') return;
        const r = this.runs.find((x) => x.vm === e.vm);
        if (e.kind === 'vm-state') r?.card.update();
        else r?.card.updateReadout();
      });
      const slot = this.body.querySelector<HTMLElement>('.scenario-runs')!;
      const teach = (viewPanels(scenario) ?? []).filter((v): v is TeachPanel => (TEACH_PANELS as readonly string[]).includes(v));
      // The packet panel watches the server's switch, where realtime guests are.
      if (viewPanels(scenario)?.includes('packets')) this.host.showPackets?.();
      // All guests of a scenario share one time mode. Deterministic ones are on switches in
      // lockstep (LockstepNetwork), as `romvisor boot SCENARIO.json` runs them, so the page
      // prints the CLI's bytes: all on one when every guest is an appliance, else each
      // appliance guest alone on its own, as the CLI boots them one after another then.
      // Realtime ones join the server's switch beside its VMs.
      // A state guest's machine is its state's: fetched and checked first, its time mode counts.
      const states = await Promise.all(scenario.guests.map((g, i) => (g.state ? loadStateGuest(hv, g, i, (url, bytes, total) => this.status(`Guest ${i + 1}: downloading ${url}: ${(bytes / 2 ** 20).toFixed(1)} MiB${total ? ` of ${(total / 2 ** 20).toFixed(1)} MiB` : ''}`)) : undefined)));
      const deterministic = scenario.guests.every((g, i) => (states[i]?.shape.timeMode ?? g.time) === 'deterministic');
      const together = scenario.guests.every((g) => !g.kernel);
      const attachNet = (name: string): NetAttachment => {
        if (!deterministic) return hv.serverNet(name);
        if (!together || this.lockstep.length === 0) this.lockstep.push(new LockstepNetwork());
        return this.lockstep.at(-1)!.attach(name);
      };
      for (const [i, guest] of scenario.guests.entries()) {
        const progress = (url: string, bytes: number, total: number | undefined) =>
          this.status(`Guest ${i + 1}: downloading ${url}: ${(bytes / 2 ** 20).toFixed(1)} MiB${total ? ` of ${(total / 2 ** 20).toFixed(1)} MiB` : ''}`);
        const record: VmRecord = {
          id: `scenario-${crypto.randomUUID()}`,
          // The CLI's name for the guest: its hostname, DNS name and address.
          name: guestName(scenario.guests, i),
          applianceId: '',
          memoryMiB: guest.memoryMiB,
          harts: guest.harts ?? 1,
          extraArgs: guest.cmdline.trim() || undefined,
          createdAt: Date.now(),
        };
        const played = (spec: VmBootSpec): VmBootSpec => ({
          ...spec,
          timeMode: guest.time,
          // Fixed when the scenario says; else the terminal's (realtime) or 80x24 (deterministic).
          consoleSize: guest.consoleSize,
          script: guest.script,
          keepTranscript: true,
        });
        let vm: VmHandle & Disposable;
        const saved = states[i];
        if (saved) {
          // Resumed where it was saved: its overlay over the stored base, its machine from the state.
          const { shape } = saved;
          this.status(`Guest ${i + 1}: resuming its saved machine…`);
          const size = saved.consoleSize;
          vm = hv.scratchVm({ ...record, applianceId: saved.appliance.id, memoryMiB: shape.ramBytes / 2 ** 20, harts: shape.harts, extraArgs: undefined }, (spec) => ({
            ...played(spec),
            timeMode: shape.timeMode,
            consoleSize: size,
            ram: undefined,
            rescue: undefined,
            disk: { scratchOverImageId: saved.baseImageId, overlay: saved.overlay },
            restore: saved.file,
            restoreOnly: true,
            ...(shape.netMac ? { netMac: shape.netMac } : {}),
          }), shape.netMac ? attachNet : undefined);
        } else if (guest.kernel) {
          // As `romvisor boot SCENARIO.json` runs it: -bios none, the drives in order, the cmdline as -append.
          this.status(`Guest ${i + 1}: downloading its kernel…`);
          vm = hv.kernelVm(record, await downloadKernelGuest(guest, progress), played);
        } else {
          this.status(`Guest ${i + 1}: preparing ${applianceRefText(guest.appliance!)}…`);
          const resolved = await resolveAppliance(hv, guest.appliance!, progress);
          vm = hv.scratchVm({ ...record, applianceId: resolved.appliance.id }, (spec) => ({
            ...played(spec),
            ...(resolved.baseImageId ? { ram: undefined, rescue: undefined, disk: { scratchOverImageId: resolved.baseImageId } } : {}),
          }), attachNet);
        }
        rememberScenarioGuest(vm, guest);
        const card = new VmCardView(vm, hv, { run: (what, action) => this.host.run(what, action) });
        const steps = new ScenarioStepsView(guest.script ?? []);
        slot.append(h('div', { class: 'scenario-guest', 'data-scenario-guest': i }, card.el, steps.el));
        // The trap log's filter is remembered per scenario (by title), preset by its view.
        if (teach.length) card.showTeaching(teach, { key: `scenario:${scenario.title ?? 'untitled'}`, preset: viewTrapLog(scenario) });
        this.runs.push({ guest, vm, card, steps });
        await vm.start();
      }
      // Every guest is booted and waits at guest time 0: the quanta start.
      for (const net of this.lockstep) net.start();
      this.setPhase('running');
      this.status(`Running ${scenario.guests.length === 1 ? 'the guest' : `${scenario.guests.length} guests`}.`);
      this.timer = setInterval(() => void this.poll(), POLL_MS);
    } catch (e) {
      this.setPhase('failed');
      this.status(`✗ ${(e as Error).message}`, 'error');
    } finally {
      const button = this.body.querySelector<HTMLButtonElement>('[data-action="run-scenario"]');
      if (button) {
        button.disabled = false;
        button.textContent = 'Run again ▶';
      }
    }
  }

  private async poll(): Promise<void> {
    for (const r of this.runs) {
      const live = r.vm.state === 'running' || r.vm.state === 'paused';
      if (live) r.progress = (await r.vm.machine?.scriptProgress().catch(() => undefined)) ?? r.progress;
      else r.progress = r.vm.finalScript ?? r.progress;
      r.steps.update(r.progress, live);
    }
    const scripted = this.runs.filter((r) => r.guest.script?.length);
    if (scripted.some((r) => r.progress?.failed)) this.finish('failed');
    else if (scripted.every((r) => r.progress?.done)) this.finish('passed');
  }

  private finish(result: 'passed' | 'failed'): void {
    if (this.phase === result) return;
    this.setPhase(result);
    const failed = this.runs.flatMap((r) => (r.progress?.results ?? []).filter((s) => s.status === 'failed').map((s) => `${r.vm.record.name} step ${s.index + 1}: ${s.detail ?? 'failed'}`));
    this.status(result === 'passed' ? '✓ Every script step passed. The guests keep running: try the console.' : `✗ ${failed.join('; ')}`, result === 'passed' ? 'info' : 'error');
  }

  private slug(): string {
    return (this.scenario?.title ?? 'scenario').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 48) || 'scenario';
  }

  private downloadJson(): void {
    if (!this.scenario) return;
    download(new Blob([scenarioToJson(this.scenario)], { type: 'application/json' }), `${this.slug()}.json`);
  }

  /** Each deterministic network's capture (one per guest when the scenario has kernel guests, as in the CLI). */
  private downloadCapture(): void {
    if (this.lockstep.length === 0) {
      this.status('Only a running deterministic scenario has a switch of its own; realtime guests are on the server\'s switch (its Capture button).');
      return;
    }
    const many = this.lockstep.length > 1;
    for (const [i, net] of this.lockstep.entries()) download(net.capture.blob(), `${this.slug()}${many ? `-${i + 1}` : ''}.pcap`);
    const frames = this.lockstep.reduce((n, net) => n + net.capture.stats().frames, 0);
    this.status(`Captured ${frames} frames.`);
  }

  private dismiss(): void {
    void this.stopGuests();
    this.scenario = undefined;
    this.setPhase('none');
    this.body.replaceChildren();
    if (location.hash.startsWith('#s=')) history.replaceState(null, '', location.pathname + location.search);
  }

  /** The scenario's guests that are powered on (the front panel counts them with the VMs). */
  liveGuests(): VmHandle[] {
    return this.runs.map((r) => r.vm).filter((vm) => vm.state === 'running' || vm.state === 'paused');
  }

  /** Stops and forgets the scenario's VMs (before the hypervisor powers off, or before a new run). */
  async stopGuests(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.subscription?.dispose();
    this.subscription = undefined;
    const runs = this.runs;
    this.runs = [];
    for (const net of this.lockstep) net.dispose();
    this.lockstep = [];
    await Promise.allSettled(runs.map((r) => r.vm.stop()));
    for (const r of runs) {
      r.card.dispose();
      r.steps.el.closest('.scenario-guest')?.remove();
      r.vm.dispose();
    }
  }

  dispose(): void {
    removeEventListener('hashchange', this.onHash);
    void this.stopGuests();
    this.el.remove();
  }
}

/** A kernel guest's ELF and drives, each checked against its sha256. */
async function downloadKernelGuest(guest: ScenarioGuest, progress: DownloadProgress): Promise<BareKernelSpec> {
  const kernel = guest.kernel!;
  const elf = await downloadVerified(kernel, SCENARIO_LIMITS.kernelBytes, progress);
  const drives = [];
  for (const d of guest.drives ?? []) {
    const bytes = await downloadVerified(d, SCENARIO_LIMITS.driveBytes, progress);
    drives.push({ name: lastPart(d.url), format: d.format, readOnly: d.readonly, bytes });
  }
  return { name: lastPart(kernel.url), elf, bootargs: guest.cmdline.trim(), drives };
}

/** A URL's file name, for the card and messages. */
function lastPart(url: string): string {
  const path = new URL(url).pathname;
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1)) || url;
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

/** A state guest's state, downloaded and checked, with the stored base its overlay stands on. */
interface StateGuest {
  file: Uint8Array;
  shape: VmShape;
  consoleSize: { cols: number; rows: number } | undefined;
  overlay: Uint8Array;
  appliance: Appliance;
  baseImageId: string;
}

/**
 * A state guest's file (checked against its sha256, then decoded and checked whole), the
 * built-in appliance whose unpacked disk is the base the state names by sha256, and that
 * base in the store. Refused with a message when the state is not self-contained or its base
 * is none of this site's built-ins.
 */
async function loadStateGuest(hv: RomHypervisor, guest: ScenarioGuest, i: number, progress: DownloadProgress): Promise<StateGuest> {
  const where = `guest ${i + 1}: state`;
  const file = await downloadVerified(guest.state!, SCENARIO_LIMITS.stateBytes, progress);
  let decoded;
  try {
    decoded = await decodeMachineState(file);
  } catch (e) {
    throw new ScenarioRunError('bad-state', `${where}: ${(e as Error).message}`);
  }
  const { meta, embedded } = decoded;
  const chain = meta.disks[0]?.chain ?? [];
  const [top, base] = chain;
  if (meta.disks.length !== 1 || chain.length !== 2 || !top?.embedded || !base || base.embedded) {
    throw new ScenarioRunError('bad-state', `${where}: not a self-contained state with one disk (romvisor boot --save-state FILE --self-contained writes one)`);
  }
  if (meta.shape.share) throw new ScenarioRunError('bad-state', `${where}: the machine had a shared folder, which a scenario guest cannot have`);
  const builtins = hv.appliances().filter((a) => a.origin === 'builtin' && a.boot === 'disk');
  const appliance = builtins.find((a) => a.diskSha256 === base.sha256);
  if (!appliance) {
    throw new ScenarioRunError('bad-state', `${where}: its base disk (sha256 ${base.sha256}) is none of this site's built-in appliances (${builtins.map((a) => a.name).join(', ') || 'none'}): it was saved over another disk`);
  }
  const resolved = await resolveAppliance(hv, { builtin: appliance.name }, progress);
  const size = decoded.state.devices.find((d) => d.console)?.console?.size;
  return { file, shape: meta.shape, consoleSize: size, overlay: embedded.get(top.sha256)!, appliance, baseImageId: resolved.baseImageId! };
}
