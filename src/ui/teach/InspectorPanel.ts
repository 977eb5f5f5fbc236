/**
 * The paused machine, opened up: the code at pc, the integer and floating-point registers,
 * the main CSRs split into their fields, the TLB, and "where does this address go?" — the
 * Sv39 page walk level by level down to a physical address or to the exact fault. Its
 * buttons (pause, continue, step, step to the next trap, run to the next privilege change,
 * breakpoint) call an `InspectorControls` the page implements over its worker.
 *
 * While the guest runs the panel shows the last state greyed out: registers change a
 * million times a second, so only a paused machine has values worth reading.
 */
import type {
  AccessType, AddressReport, ControlResult, CsrView, MachineSnapshot, Privilege, RegisterValue, TlbEntryView, Translation,
} from '../../machine/index.ts';
import { createHtml as el } from './createHtml.ts';
import { groupedCount, hex, hex64, parseAddress } from './displayFormat.ts';
import type { InspectorControls } from './InspectorControls.ts';
import { PRIVILEGE_NAMES } from './privilegeNames.ts';

export interface InspectorState {
  paused: boolean;
  /** The state to show; when paused without one, the panel asks the controls for it. */
  snapshot?: MachineSnapshot;
  /** Why the guest paused, when the page knows ("breakpoint at 0x80200000"). */
  note?: string;
}

const PTE_FLAGS = ['V', 'R', 'W', 'X', 'U', 'G', 'A', 'D'] as const;
const FLAG_MEANING: Record<(typeof PTE_FLAGS)[number], string> = {
  V: 'valid', R: 'readable', W: 'writable', X: 'executable', U: 'user-accessible', G: 'global (all address spaces)', A: 'accessed', D: 'dirty',
};
/** Sv39's virtual address: sign extension, three 9-bit VPNs, the 12-bit page offset. */
const SV39_FIELDS = [
  { name: 'VPN[2]', hi: 38, lo: 30 },
  { name: 'VPN[1]', hi: 29, lo: 21 },
  { name: 'VPN[0]', hi: 20, lo: 12 },
  { name: 'offset', hi: 11, lo: 0 },
] as const;
const TLB_ROWS = 96;

export class InspectorPanel {
  private readonly root: HTMLElement;
  private readonly status: HTMLElement;
  private readonly result: HTMLElement;
  private readonly buttons: Record<'pause' | 'resume' | 'step' | 'trap' | 'priv' | 'back' | 'backTrap' | 'backPriv', HTMLButtonElement>;
  /** Why step back is not offered for this machine (undefined: it is, or not known yet). */
  private noStepBack: string | undefined = 'pause to step back';
  private readonly bpInput: HTMLInputElement;
  private readonly bpSet: HTMLButtonElement;
  private readonly bpClear: HTMLButtonElement;
  private readonly code: HTMLElement;
  private readonly xRegs: HTMLElement;
  private readonly fRegs: HTMLElement;
  private readonly csrs: HTMLElement;
  private readonly tlb: HTMLElement;
  private readonly tlbSummary: HTMLElement;
  private readonly vaInput: HTMLInputElement;
  private readonly accessSelect: HTMLSelectElement;
  private readonly privSelect: HTMLSelectElement;
  private readonly walk: HTMLElement;
  private paused = false;
  private busy = false;
  private snap: MachineSnapshot | undefined;
  private previous: MachineSnapshot | undefined;
  private disposed = false;

  constructor(private readonly container: HTMLElement, private readonly controls: InspectorControls) {
    this.root = el('section', 'teach teach-inspector');
    this.root.setAttribute('aria-label', 'Machine inspector');

    // Toolbar: run control, then the breakpoint.
    const head = el('header', 'teach-head');
    head.append(el('h2', '', 'Inspector'));
    this.status = el('span', 'teach-status');
    this.status.setAttribute('aria-live', 'polite');
    head.append(this.status);

    const bar = el('div', 'teach-toolbar');
    const button = (label: string, title: string, action: () => Promise<void>, cls = ''): HTMLButtonElement => {
      const b = el('button', `teach-button ${cls}`, label);
      b.type = 'button';
      b.title = title;
      b.addEventListener('click', () => void this.run(action));
      return b;
    };
    this.buttons = {
      pause: button('Pause', 'Stop the guest between two slices', () => this.pause(), 'primary'),
      resume: button('Continue ▶', 'Run on (past the breakpoint if stopped at it)', () => this.resume(), 'primary'),
      step: button('Step', 'Execute one instruction', () => this.control(() => this.controls.step())),
      trap: button('Step to trap', 'Run until the next trap is taken; stop at its handler', () => this.control(() => this.controls.stepUntilTrap())),
      priv: button('Run to mode change', 'Run until the privilege mode changes (trap or xRET)', () => this.control(() => this.controls.runUntilPrivChange())),
      // Step back: the worker restores a checkpoint and replays to the point before (deterministic VMs).
      back: button('◀ Step back', 'Go back one instruction (the machine is replayed from its last checkpoint)', () => this.control(() => this.controls.stepBack())),
      backTrap: button('◀ Back to trap', 'Go back to the last trap taken before this point (pc at its handler)', () => this.control(() => this.controls.runBackToTrap())),
      backPriv: button('◀ Back to mode change', 'Go back to the last privilege change before this point', () => this.control(() => this.controls.runBackToPrivChange())),
    };
    for (const k of ['back', 'backTrap', 'backPriv'] as const) this.buttons[k].dataset.stepBack = k;
    const bp = el('div', 'teach-bp');
    this.bpInput = el('input', 'teach-input mono');
    this.bpInput.placeholder = 'breakpoint pc, e.g. 0x80200000';
    this.bpInput.setAttribute('aria-label', 'Breakpoint address');
    this.bpInput.addEventListener('keydown', (e) => e.key === 'Enter' && void this.run(() => this.setBreakpoint(this.bpInput.value)));
    this.bpSet = button('Set breakpoint', 'Stop before the instruction at this address', () => this.setBreakpoint(this.bpInput.value));
    this.bpClear = button('Clear', 'Remove the breakpoint', () => this.setBreakpoint(undefined));
    bp.append(this.bpInput, this.bpSet, this.bpClear);
    bar.append(this.buttons.pause, this.buttons.resume, el('span', 'teach-sep'), this.buttons.step, this.buttons.trap, this.buttons.priv, el('span', 'teach-sep'), this.buttons.back, this.buttons.backTrap, this.buttons.backPriv, el('span', 'teach-sep'), bp);
    this.result = el('div', 'teach-result');

    // Body: code and registers | CSRs; then the address walk and the TLB.
    this.code = el('ol', 'teach-code mono');
    this.xRegs = el('div', 'teach-regs mono');
    this.fRegs = el('div', 'teach-regs teach-fregs mono');
    const fp = el('details', 'teach-details');
    fp.append(el('summary', '', 'Floating-point registers f0–f31'), this.fRegs);
    this.csrs = el('div', 'teach-csrs');

    const left = el('div', 'teach-col');
    left.append(card('Code at pc (memory order)', this.code), card('Integer registers x0–x31', this.xRegs, fp));
    const right = el('div', 'teach-col');
    right.append(card('Control and status registers', this.csrs));

    // "Where does this address go?"
    const form = el('form', 'teach-walk-form');
    this.vaInput = el('input', 'teach-input mono');
    this.vaInput.placeholder = 'virtual address, e.g. 0xffffffff80000000';
    this.vaInput.setAttribute('aria-label', 'Virtual address');
    this.vaInput.name = 'va';
    this.accessSelect = select('access', [['load', 'load'], ['store', 'store'], ['fetch', 'fetch']]);
    this.privSelect = select('priv', [['', 'as the hart now'], ['U', 'as U-mode'], ['S', 'as S-mode']]);
    const go = el('button', 'teach-button primary', 'Walk');
    go.type = 'submit';
    const presets = el('div', 'teach-presets');
    for (const [label, pick] of [
      ['pc', () => this.snap?.pc],
      ['sp', () => this.snap?.x[2].value],
      ['kernel base', () => 0xffff_ffff_8000_0000n],
      ['null', () => 0n],
    ] as const) {
      const b = el('button', 'teach-chip-button', label);
      b.type = 'button';
      b.addEventListener('click', () => {
        const v = pick();
        if (v === undefined) return;
        this.vaInput.value = hex(v);
        void this.run(() => this.explain());
      });
      presets.append(b);
    }
    form.append(this.vaInput, this.accessSelect, this.privSelect, go);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.run(() => this.explain());
    });
    this.walk = el('div', 'teach-walk');
    const walkCard = card('Where does this address go?', form, presets, this.walk);
    walkCard.classList.add('teach-walk-card');

    this.tlb = el('div', 'teach-tlb mono');
    this.tlbSummary = el('p', 'teach-muted small');
    const tlbCard = card('TLB: translations the hart has cached', this.tlbSummary, this.tlb);

    const grid = el('div', 'teach-inspector-grid');
    grid.append(left, right, walkCard, tlbCard);
    this.root.append(head, bar, this.result, grid);
    container.append(this.root);
    this.render();
  }

  /** Tells the panel whether the guest runs, and (when paused) what it looks like. */
  update(state: InspectorState): void {
    this.paused = state.paused;
    if (state.note !== undefined) this.showResult(state.note);
    if (state.snapshot) this.setSnapshot(state.snapshot);
    else if (state.paused && !this.busy) void this.run(() => this.refresh());
    this.render();
  }

  dispose(): void {
    this.disposed = true;
    this.root.remove();
  }

  // --- actions ---

  /** One control call at a time; the buttons are disabled until it finishes. */
  private async run(action: () => Promise<void>): Promise<void> {
    if (this.busy || this.disposed) return;
    this.busy = true;
    this.render();
    try {
      await action();
    } catch (e) {
      this.showResult(`✗ ${(e as Error).message}`, 'error');
    } finally {
      this.busy = false;
      if (!this.disposed) this.render();
    }
  }

  private async pause(): Promise<void> {
    await this.controls.pause();
    this.paused = true;
    await this.refresh();
    this.showResult(`Paused at ${hex(this.snap!.pc)} in ${this.snap!.priv}-mode.`);
  }

  private async resume(): Promise<void> {
    await this.controls.resume();
    this.paused = false;
    this.showResult('Running.');
  }

  private async control(op: () => Promise<ControlResult>): Promise<void> {
    const r = await op();
    this.paused = true;
    await this.refresh();
    this.showResult(describeResult(r), r.stop === 'trap' || r.stop === 'breakpoint' ? 'stop' : '');
  }

  private async setBreakpoint(text: string | undefined): Promise<void> {
    let pc: bigint | undefined;
    if (text !== undefined) {
      pc = parseAddress(text);
      if (pc === undefined) {
        this.showResult(`✗ "${text}" is not an address: type hex digits, e.g. 0x80200000`, 'error');
        return;
      }
    }
    await this.controls.setBreakpoint(pc);
    if (this.snap) {
      this.snap = { ...this.snap };
      if (pc === undefined) delete this.snap.breakpoint;
      else this.snap.breakpoint = pc;
      this.renderCode();
    }
    this.bpInput.value = pc === undefined ? '' : hex(pc);
    this.showResult(pc === undefined ? 'Breakpoint cleared.' : `Breakpoint at ${hex(pc)}: the guest stops before that instruction runs.`);
  }

  private async explain(): Promise<void> {
    const va = parseAddress(this.vaInput.value);
    if (va === undefined) {
      this.walk.replaceChildren(el('p', 'teach-fault', `"${this.vaInput.value}" is not an address: type hex digits, e.g. 0xffffffff80000000`));
      return;
    }
    const priv = (this.privSelect.value || undefined) as Privilege | undefined;
    const report = await this.controls.explain(va, this.accessSelect.value as AccessType, priv);
    this.renderWalk(report);
  }

  private async refresh(): Promise<void> {
    const [snap, info] = await Promise.all([this.controls.snapshot(), this.controls.stepBackInfo().catch((e: Error) => ({ unavailable: e.message }))]);
    this.noStepBack = info.unavailable;
    this.setSnapshot(snap);
  }

  private setSnapshot(s: MachineSnapshot): void {
    this.previous = this.snap;
    this.snap = s;
    if (s.breakpoint !== undefined && document.activeElement !== this.bpInput) this.bpInput.value = hex(s.breakpoint);
    if (this.vaInput.value === '') this.vaInput.value = hex(s.pc);
    this.renderCode();
    this.renderRegisters();
    this.renderCsrs();
    this.renderTlb();
  }

  // --- rendering ---

  private render(): void {
    const b = this.buttons;
    const idle = !this.busy;
    b.pause.disabled = !idle || this.paused;
    b.resume.disabled = !idle || !this.paused;
    b.step.disabled = b.trap.disabled = b.priv.disabled = !idle || !this.paused;
    b.back.disabled = b.backTrap.disabled = b.backPriv.disabled = !idle || !this.paused || this.noStepBack !== undefined;
    for (const k of ['back', 'backTrap', 'backPriv'] as const) {
      b[k].dataset.unavailable = this.noStepBack ?? '';
      if (this.noStepBack !== undefined && this.paused) b[k].title = `Not available: ${this.noStepBack}`;
    }
    this.bpSet.disabled = this.bpClear.disabled = !idle;
    this.root.classList.toggle('running', !this.paused);
    this.root.classList.toggle('busy', this.busy);
    const s = this.snap;
    if (this.paused && s) {
      // Several harts: each one's mode, the shown one (whose registers follow) marked.
      const harts = s.harts.length > 1 ? ` · harts ${s.harts.map((h) => `${h.id === s.hart ? '*' : ''}${h.id}:${h.priv}${h.sleeping ? ' (wfi)' : ''}`).join(' ')}` : '';
      this.status.textContent = `paused · ${s.priv}-mode (${PRIVILEGE_NAMES[s.priv].mode}) · pc ${hex(s.pc)} · ${groupedCount(s.instructions)} instructions${harts}`;
    } else {
      this.status.textContent = this.paused ? 'paused' : 'running — pause to read registers';
    }
    this.status.dataset.state = this.paused ? 'paused' : 'running';
  }

  private showResult(text: string, kind: '' | 'stop' | 'error' = ''): void {
    this.result.textContent = text;
    this.result.dataset.kind = kind;
  }

  private renderCode(): void {
    const s = this.snap;
    if (!s) return;
    const lines = s.code.map((c, i) => {
      const li = el('li', i === 0 ? 'current' : '');
      const isBp = c.pc === s.breakpoint;
      const gutter = el('button', `teach-gutter${isBp ? ' bp' : ''}`, isBp ? '●' : '');
      gutter.type = 'button';
      gutter.title = isBp ? 'Clear the breakpoint here' : 'Set a breakpoint here';
      gutter.addEventListener('click', () => void this.run(() => this.setBreakpoint(isBp ? undefined : hex(c.pc))));
      const bits = c.length === 2 ? c.bits.toString(16).padStart(4, '0') : c.bits.toString(16).padStart(8, '0');
      li.append(
        gutter,
        el('span', 'arrow', i === 0 ? '→' : ''),
        el('span', 'addr', hex(c.pc)),
        el('span', 'bits', bits),
        el('span', 'insn', c.text),
      );
      return li;
    });
    if (lines.length === 0) lines.push(el('li', 'teach-muted', `pc ${hex(s.pc)} cannot be fetched now (its page is not mapped)`));
    this.code.replaceChildren(...lines);
  }

  private renderRegisters(): void {
    const s = this.snap!;
    const prev = this.previous;
    const cell = (r: RegisterValue, before: RegisterValue | undefined, extra?: string): HTMLElement => {
      const changed = before !== undefined && before.value !== r.value;
      const d = el('div', `teach-reg${changed ? ' changed' : ''}`);
      d.title = `x${r.index}${extra ? ` · ${extra}` : ''}${changed ? ` · was ${hex(before!.value)}` : ''}`;
      d.append(el('span', 'name', r.name), el('span', 'value', hex64(r.value)));
      return d;
    };
    const pc = el('div', 'teach-reg pc');
    pc.append(el('span', 'name', 'pc'), el('span', 'value', hex64(s.pc)));
    this.xRegs.replaceChildren(pc, ...s.x.map((r) => cell(r, prev?.x[r.index])));
    this.fRegs.replaceChildren(...s.f.map((r) => {
      const d = cell(r, prev?.f[r.index], `as double ${r.double}`);
      d.title = `f${r.index}: double ${r.double}${r.single !== undefined ? `, NaN-boxed single ${r.single}` : ''}`;
      d.append(el('span', 'fp', r.single !== undefined ? `${fmtFloat(r.single)} (single)` : fmtFloat(r.double)));
      return d;
    }));
  }

  private renderCsrs(): void {
    const prev = new Map(this.previous?.csrs.map((c) => [c.name, c.value]));
    this.csrs.replaceChildren(...this.snap!.csrs.map((c) => renderCsr(c, prev.get(c.name))));
  }

  private renderTlb(): void {
    const entries = this.snap!.tlb;
    const counts = { fetch: 0, load: 0, store: 0 };
    for (const e of entries) counts[e.tlb]++;
    this.tlbSummary.textContent = `${entries.length} entries: ${counts.fetch} fetch, ${counts.load} load, ${counts.store} store. Each maps one 4 KiB virtual page to a physical page; a change of privilege, satp or mstatus/sstatus (SUM, MXR, MPRV), or an sfence.vma, empties them.`;
    const table = el('table', 'teach-table');
    const h = table.createTHead().insertRow();
    h.append(el('th', '', 'TLB'), el('th', '', 'virtual page'), el('th', '', ''), el('th', '', 'physical page'));
    const body = table.createTBody();
    const sorted = [...entries].sort((a, b) => (a.tlb === b.tlb ? (a.vpage < b.vpage ? -1 : 1) : a.tlb < b.tlb ? -1 : 1));
    for (const e of sorted.slice(0, TLB_ROWS)) body.append(tlbRow(e));
    this.tlb.replaceChildren(table);
    if (sorted.length > TLB_ROWS) this.tlb.append(el('p', 'teach-muted small', `… and ${sorted.length - TLB_ROWS} more`));
  }

  private renderWalk(r: AddressReport): void {
    const t = r.translation;
    const out: HTMLElement[] = [];
    out.push(el('p', 'teach-walk-title', `${t.access} ${hex(t.va)} as ${t.effectivePriv}-mode · satp.MODE = ${t.mode}`));
    if (t.bareReason !== undefined) {
      out.push(el('p', 'teach-walk-note', `${t.bareReason}: the physical address is the virtual address.`));
    } else {
      if (t.mode === 'Sv39') out.push(vaFields(t.va));
      const ol = el('ol', 'teach-walk-levels');
      for (const l of t.levels) ol.append(walkLevel(l, t));
      out.push(ol);
    }
    if (t.fault) {
      const f = t.fault;
      const box = el('div', 'teach-fault');
      box.append(
        el('strong', '', `✗ ${f.causeName} (cause ${f.cause})`),
        el('div', '', f.detail),
        el('div', 'teach-muted', `spec step ${f.step} of the translation algorithm · the handler would see ${t.effectivePriv === 'U' || t.effectivePriv === 'S' ? 'stval' : 'mtval'} = ${hex(f.tval)}`),
      );
      out.push(box);
    } else if (t.pa !== undefined) {
      const ok = el('div', 'teach-pa');
      ok.append(el('strong', '', `→ physical ${hex(t.pa)}`));
      if (r.region) ok.append(el('span', `teach-region ${r.region.kind}`, r.region.name));
      if (t.pageSize !== undefined) ok.append(el('span', 'teach-muted', pageKind(t.pageSize)));
      if (r.value !== undefined) ok.append(el('div', 'teach-muted mono', `8 bytes there: ${hex64(r.value)}`));
      const sets = [t.setsA ? 'A' : '', t.setsD ? 'D' : ''].filter(Boolean);
      if (sets.length) ok.append(el('div', 'teach-muted', `the hart would set ${sets.join(' and ')} in the leaf PTE on this access`));
      out.push(ok);
    }
    this.walk.replaceChildren(...out);
  }
}

function card(title: string, ...body: HTMLElement[]): HTMLElement {
  const c = el('div', 'teach-card');
  c.append(el('h3', '', title), ...body);
  return c;
}

function select(name: string, options: readonly (readonly [string, string])[]): HTMLSelectElement {
  const s = el('select', 'teach-input');
  s.name = name;
  s.setAttribute('aria-label', name);
  for (const [value, label] of options) {
    const o = el('option', '', label);
    o.value = value;
    s.append(o);
  }
  return s;
}

function fmtFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === 0 || (Math.abs(v) >= 1e-4 && Math.abs(v) < 1e9)) return String(Number(v.toPrecision(8)));
  return v.toExponential(4);
}

function renderCsr(c: CsrView, before: bigint | undefined): HTMLElement {
  const row = el('div', `teach-csr${before !== undefined && before !== c.value ? ' changed' : ''}`);
  const head = el('div', 'teach-csr-head');
  head.append(el('span', 'name mono', c.name), el('span', 'value mono', hex64(c.value)));
  row.append(head);
  row.title = `CSR ${hex(c.number)}`;
  const shown = c.fields.filter((f) => f.value !== 0n || f.name === 'MODE' || f.name === 'MPP' || f.name === 'SPP');
  if (shown.length) {
    const fields = el('div', 'teach-fields');
    for (const f of shown) {
      const one = f.hi === f.lo && f.meaning === undefined;
      const text = one ? f.name : `${f.name}=${f.meaning ?? hex(f.value)}`;
      const chip = el('span', `teach-field${f.value === 0n ? ' zero' : ''}`, text);
      chip.title = `bits ${f.hi === f.lo ? f.hi : `${f.hi}:${f.lo}`} = ${hex(f.value)}${f.meaning ? ` (${f.meaning})` : ''}`;
      fields.append(chip);
    }
    row.append(fields);
  } else if (c.fields.length) {
    row.append(el('div', 'teach-fields teach-muted', 'all fields zero'));
  }
  return row;
}

function tlbRow(e: TlbEntryView): HTMLTableRowElement {
  const tr = document.createElement('tr');
  tr.dataset.tlb = e.tlb;
  tr.append(el('td', `tlb-kind ${e.tlb}`, e.tlb), el('td', '', hex(e.vpage)), el('td', 'teach-muted', '→'), el('td', '', e.ppage === undefined ? 'ROM / device' : hex(e.ppage)));
  return tr;
}

/** The virtual address split into the fields the walk indexes with. */
function vaFields(va: bigint): HTMLElement {
  const row = el('div', 'teach-va');
  const ext = el('div', 'teach-va-field ext');
  ext.append(el('span', 'bits', '63:39'), el('span', 'v', (va >> 63n) & 1n ? 'all 1' : 'all 0'), el('span', 'n', 'sign ext.'));
  row.append(ext);
  for (const f of SV39_FIELDS) {
    const v = (va >> BigInt(f.lo)) & ((1n << BigInt(f.hi - f.lo + 1)) - 1n);
    const d = el('div', `teach-va-field ${f.name === 'offset' ? 'off' : `l${f.name[4]}`}`);
    d.append(el('span', 'bits', `${f.hi}:${f.lo}`), el('span', 'v', hex(v)), el('span', 'n', f.name));
    row.append(d);
  }
  return row;
}

function walkLevel(l: Translation['levels'][number], t: Translation): HTMLElement {
  const li = el('li', `teach-level ${l.kind} l${l.level}`);
  const head = el('div', 'teach-level-head');
  head.append(
    el('strong', '', `Level ${l.level}`),
    el('span', 'mono', `VPN[${l.level}] = ${hex(l.vpn)} → PTE at ${hex(l.pteAddress)}`),
  );
  li.append(head);
  if (l.pte === undefined) {
    li.append(el('div', 'teach-muted', 'the PTE address is not RAM: the read itself faults'));
    return li;
  }
  const body = el('div', 'teach-level-body');
  body.append(el('span', 'mono', `PTE = ${hex64(l.pte)}`));
  const flags = el('span', 'teach-flags');
  for (const f of PTE_FLAGS) {
    const on = l.flags![f];
    const chip = el('span', `teach-flag${on ? ' on' : ''}`, f);
    chip.title = `${f}: ${FLAG_MEANING[f]} = ${on ? 1 : 0}`;
    flags.append(chip);
  }
  body.append(flags);
  li.append(body);
  const next = (l.ppn ?? 0n) << 12n;
  let what: string;
  if (l.kind === 'pointer') what = `R = W = X = 0: a pointer to the next table at ${hex(next)}`;
  else if (l.kind === 'leaf') what = `leaf (R/X set): ${pageKind(1n << BigInt(12 + 9 * l.level))} at physical ${hex(next)}`;
  else what = t.fault?.detail ?? 'the walk stops here';
  li.append(el('div', `teach-level-what${l.kind === 'fault' ? ' fault' : ''}`, what));
  return li;
}

function pageKind(size: bigint): string {
  if (size === 1n << 12n) return '4 KiB page';
  if (size === 1n << 21n) return '2 MiB megapage (superpage)';
  if (size === 1n << 30n) return '1 GiB gigapage (superpage)';
  return `${size} byte page`;
}

/** One line on what a control operation did, naming the stop reason. */
export function describeResult(r: ControlResult): string {
  const at = (p: { pc: bigint; priv: Privilege }) => `${hex(p.pc)} (${p.priv})`;
  switch (r.stop) {
    case 'step':
      return `Stepped: ${r.disassembly ?? '?'} at ${at(r.from)} → now at ${at(r.to)}.`;
    case 'trap': {
      const t = r.trap;
      const what = t ? `${t.short} at ${hex(t.pc)}${t.tval ? `, tval ${hex(t.tval)}` : ''}` : 'a trap';
      const ran = r.disassembly !== undefined && r.executed > 0n ? `${r.disassembly} trapped: ` : '';
      return `Stopped on a trap after ${groupedCount(r.executed)} instruction(s): ${ran}${what} → handler ${at(r.to)}.`;
    }
    case 'priv':
      return `Stopped: privilege ${r.from.priv} → ${r.to.priv} after ${groupedCount(r.executed)} instructions, now at ${at(r.to)}.`;
    case 'breakpoint':
      return `Stopped at the breakpoint ${at(r.to)} after ${groupedCount(r.executed)} instructions (it has not run yet).`;
    case 'watchpoint':
      return `Stopped before an access to the watched address ${r.watchAddress === undefined ? '?' : hex(r.watchAddress)} at ${at(r.to)} after ${groupedCount(r.executed)} instructions (it has not happened yet).`;
    case 'budget':
      return `Ran ${groupedCount(r.executed)} instructions without stopping; now at ${at(r.to)}.`;
    case 'wfi':
      return `The hart is waiting for an interrupt with no timer armed (type in the console to wake it); at ${at(r.to)}.`;
    case 'poweroff':
    case 'reboot':
      return `The guest asked to ${r.stop === 'poweroff' ? 'power off' : 'reboot'}.`;
    case 'back': {
      const back = `${groupedCount(-r.executed)} instruction(s)`;
      if (r.back === 'trap') {
        const t = r.trap;
        return `Went back ${back} to the last trap${t ? `: ${t.short} at ${hex(t.pc)}${t.tval ? `, tval ${hex(t.tval)}` : ''}` : ''} → handler ${at(r.to)}. Step forward to watch it again.`;
      }
      if (r.back === 'priv') return `Went back ${back} to the last privilege change (now ${r.to.priv}-mode at ${at(r.to)}).`;
      return `Stepped back ${back}: now at ${at(r.to)}, as it was before it ran.`;
    }
  }
}
