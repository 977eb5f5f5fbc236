/**
 * Traps as they happen: which privilege mode the hart is in right now, how many traps of
 * each cause came in the last second and since boot, and a log of the latest ones (where,
 * why, the faulting value, and which handler took it). The log scrolls like a console;
 * "Freeze" holds it still so a student can read a burst while the counters stay live.
 */
import type { NamedTrap, Privilege, TrapCounter, TrapKind, TrapLogFilter, TrapStats } from '../../machine/index.ts';
import { DEFAULT_TRAP_LOG_FILTER, formatTranslation, parseTrapLogFilter, PRIVILEGES, TRAP_KINDS } from '../../inspect/index.ts';
import { duration, groupedCount, hex } from './displayFormat.ts';
import { PRIVILEGE_NAMES, privilegeWho } from './privilegeNames.ts';
import { createHtml as el } from './createHtml.ts';

/** Where the filter is kept and how it reaches the machine. */
export interface TrapPanelOptions {
  /** localStorage key the filter is remembered under (one per VM or scenario view). */
  key?: string;
  /** The filter when nothing is remembered under `key` (a scenario's preset). */
  preset?: TrapLogFilter;
  /** Tells the machine (the inspector filters as it collects). */
  apply?: (filter: TrapLogFilter) => unknown;
  /** The VM runs a bare kernel (-bios none): who runs in M-mode is the kernel, not OpenSBI. */
  bareKernel?: boolean;
  /** Step back to just after this trap was taken (a ◀ on each trap's row); absent: no such buttons. */
  backTo?: (trap: NamedTrap) => void;
}

/** Linux's RISC-V system call numbers (asm-generic) a shell's commands make most. */
const SYSCALLS: Record<number, string> = {
  17: 'getcwd', 25: 'fcntl', 29: 'ioctl', 48: 'faccessat', 56: 'openat', 57: 'close', 61: 'getdents64', 62: 'lseek',
  63: 'read', 64: 'write', 66: 'writev', 73: 'ppoll', 78: 'readlinkat', 79: 'fstatat', 80: 'fstat', 93: 'exit',
  94: 'exit_group', 96: 'set_tid_address', 124: 'sched_yield', 134: 'rt_sigaction', 135: 'rt_sigprocmask', 139: 'rt_sigreturn',
  172: 'getpid', 173: 'getppid', 174: 'getuid', 175: 'geteuid', 178: 'gettid', 214: 'brk', 215: 'munmap', 220: 'clone',
  221: 'execve', 222: 'mmap', 226: 'mprotect', 260: 'wait4', 261: 'prlimit64',
};

const KIND_LABEL: Record<TrapKind, string> = {
  syscall: 'ecalls', 'page-fault': 'page faults', 'access-fault': 'access faults', illegal: 'illegal insns',
  misaligned: 'misaligned', breakpoint: 'breakpoints', timer: 'timers', external: 'external', software: 'software', other: 'other',
};

const storage = (): Storage | undefined => {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined; // storage disabled
  }
};

export class TrapPanel {
  private readonly root: HTMLElement;
  private readonly privBadge: HTMLElement;
  private readonly privText: HTMLElement;
  private readonly counterBody: HTMLTableSectionElement;
  private readonly windowHead: HTMLElement;
  private readonly totals: HTMLElement;
  private readonly log: HTMLElement;
  private readonly logBody: HTMLTableSectionElement;
  private readonly freezeButton: HTMLButtonElement;
  private readonly freezeNote: HTMLElement;
  private frozen = false;
  private lastSeq = -1;
  private lastSignature = '';
  private readonly filterBar: HTMLElement;
  private readonly walkBox: HTMLElement;
  private readonly lostNote: HTMLElement;
  private readonly storageKey: string | undefined;
  private readonly applyFilter: ((filter: TrapLogFilter) => unknown) | undefined;
  /** The filter the log is collected with: remembered, else the scenario's, else everything. */
  filter: TrapLogFilter;
  private appliedTo: unknown;
  /** The log as last drawn, and the page fault whose walk is shown (undefined: the newest). */
  private shown: NamedTrap[] = [];
  private selectedFault: number | undefined;

  private readonly bareKernel: boolean;
  private readonly backTo: ((trap: NamedTrap) => void) | undefined;

  constructor(private readonly container: HTMLElement, options: TrapPanelOptions = {}) {
    this.storageKey = options.key === undefined ? undefined : `romvisor.trapLog.${options.key}`;
    this.applyFilter = options.apply;
    this.bareKernel = options.bareKernel ?? false;
    this.backTo = options.backTo;
    const saved = this.storageKey ? parseTrapLogFilter(storage()?.getItem(this.storageKey)) : undefined;
    this.filter = structuredClone(saved ?? options.preset ?? DEFAULT_TRAP_LOG_FILTER);
    this.root = el('section', 'teach teach-traps');
    this.root.setAttribute('aria-label', 'Traps');

    const head = el('header', 'teach-head');
    head.append(el('h2', '', 'Traps'));
    this.totals = el('span', 'teach-muted');
    head.append(this.totals);

    const now = el('div', 'teach-priv-now');
    this.privBadge = el('div', 'teach-priv-badge', '–');
    this.privBadge.setAttribute('aria-live', 'polite');
    this.privText = el('div', 'teach-priv-text');
    now.append(el('div', 'teach-muted teach-caption', 'the hart runs in'), this.privBadge, this.privText);

    const counters = el('table', 'teach-table teach-counters');
    const ch = counters.createTHead().insertRow();
    this.windowHead = el('th', 'num', 'last 1 s');
    ch.append(el('th', '', 'cause'), this.windowHead, el('th', 'num', 'since boot'));
    this.counterBody = counters.createTBody();
    const countersWrap = el('div', 'teach-counters-wrap');
    countersWrap.append(counters);

    const top = el('div', 'teach-traps-top');
    top.append(now, countersWrap);

    const logHead = el('div', 'teach-log-head');
    this.freezeButton = el('button', 'teach-button', 'Freeze log') as HTMLButtonElement;
    this.freezeButton.type = 'button';
    this.freezeButton.addEventListener('click', () => this.setFrozen(!this.frozen));
    this.freezeNote = el('span', 'teach-muted');
    logHead.append(el('h3', '', 'Latest traps'), this.freezeNote, this.freezeButton);
    this.filterBar = el('div', 'teach-trap-filter');
    this.filterBar.setAttribute('role', 'group');
    this.filterBar.setAttribute('aria-label', 'Which traps the log keeps');
    this.lostNote = el('span', 'teach-muted teach-lost');
    this.renderFilterBar();

    const table = el('table', 'teach-table teach-log-table');
    const lh = table.createTHead().insertRow();
    lh.append(el('th', 'num', '#'), el('th', '', 'cause'), el('th', '', 'pc'), el('th', '', 'tval'), el('th', '', 'handler (mode)'));
    this.logBody = table.createTBody();
    this.log = el('div', 'teach-log');
    this.log.tabIndex = 0;
    this.log.append(table);

    this.walkBox = el('div', 'teach-walks');
    this.walkBox.hidden = true;
    this.root.append(head, top, logHead, this.filterBar, this.log, this.walkBox);
    container.append(this.root);
  }

  /** Shows new numbers (from VmInspector.traps()); the log keeps still while frozen. */
  update(data: TrapStats): void {
    const p = PRIVILEGE_NAMES[data.priv];
    this.privBadge.textContent = data.priv;
    this.privBadge.dataset.priv = data.priv;
    this.privText.textContent = `${p.mode} mode: ${privilegeWho(data.priv, this.bareKernel)}`;
    this.totals.textContent = `${groupedCount(data.totalSinceBoot)} since boot`;
    this.windowHead.textContent = data.windowMs >= 950 && data.windowMs < 1500 ? 'last 1 s' : `last ${duration(data.windowMs)}`;
    this.renderCounters(data.counters);
    this.lostNote.textContent = data.lost > 0 ? `${groupedCount(data.lost)} records came too fast to filter` : '';
    if (!this.frozen) this.renderLog(data.recent);
  }

  /** True when `machine` has not been given this panel's filter yet. */
  needsApply(machine: unknown): boolean {
    return this.appliedTo !== machine;
  }

  /** `machine` now collects with this panel's filter. */
  applied(machine: unknown): void {
    this.appliedTo = machine;
  }

  /** Changes the filter: remembered for this view, and applied where the machine collects traps. */
  setFilter(filter: TrapLogFilter): void {
    this.filter = structuredClone(filter);
    if (this.storageKey) {
      try {
        storage()?.setItem(this.storageKey, JSON.stringify(this.filter));
      } catch {
        // quota or privacy mode: the filter still applies, it is just not remembered
      }
    }
    this.renderFilterBar();
    void Promise.resolve(this.applyFilter?.(this.filter)).catch(() => undefined);
  }

  private renderFilterBar(): void {
    const f = this.filter;
    const chip = (label: string, on: boolean, name: string, title: string, toggle: () => TrapLogFilter) => {
      const b = el('button', 'teach-chip', label) as HTMLButtonElement;
      b.type = 'button';
      b.title = title;
      b.dataset.trapFilter = name;
      b.setAttribute('aria-pressed', String(on));
      b.addEventListener('click', () => this.setFilter(toggle()));
      return b;
    };
    const toggled = <T>(list: readonly T[], v: T): T[] => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);
    const from = el('span', 'teach-chip-group');
    from.append(el('span', 'teach-muted', 'from'), ...PRIVILEGES.map((p: Privilege) =>
      chip(p, f.from.includes(p), `from-${p}`, `Keep traps taken from ${p}-mode`, () => ({ ...f, from: PRIVILEGES.filter((x) => toggled(f.from, p).includes(x)) }))));
    const kinds = el('span', 'teach-chip-group');
    kinds.append(el('span', 'teach-muted', 'cause'), ...TRAP_KINDS.filter((k) => k !== 'other' && k !== 'software').map((k) =>
      chip(KIND_LABEL[k], f.kinds.includes(k), `kind-${k}`, `Keep ${KIND_LABEL[k]}`, () => ({ ...f, kinds: TRAP_KINDS.filter((x) => toggled(f.kinds, k).includes(x)) }))));
    const opts = el('span', 'teach-chip-group');
    opts.append(
      chip('hide timers', f.hideTimer, 'hide-timer', 'Drop timer interrupts (about a thousand a second)', () => ({ ...f, hideTimer: !f.hideTimer })),
      chip('returns', f.returns, 'returns', 'Also log the sret/mret that returns from each kept ecall or page fault', () => ({ ...f, returns: !f.returns })),
    );
    const reset = el('button', 'teach-chip teach-chip-reset', 'all') as HTMLButtonElement;
    reset.type = 'button';
    reset.title = 'Keep every trap again';
    reset.dataset.trapFilter = 'reset';
    reset.addEventListener('click', () => this.setFilter(structuredClone(DEFAULT_TRAP_LOG_FILTER)));
    this.filterBar.replaceChildren(from, kinds, opts, reset, this.lostNote);
  }

  /** Holds the log still (true) or lets it follow the machine again (false). */
  setFrozen(frozen: boolean): void {
    this.frozen = frozen;
    this.freezeButton.textContent = frozen ? 'Unfreeze' : 'Freeze log';
    this.freezeButton.setAttribute('aria-pressed', String(frozen));
    this.freezeNote.textContent = frozen ? `frozen at trap #${this.lastSeq}` : '';
    this.root.classList.toggle('frozen', frozen);
  }

  dispose(): void {
    this.root.remove();
  }

  private renderCounters(counters: TrapCounter[]): void {
    const max = Math.max(1, ...counters.map((c) => c.lastSecond));
    const rows = counters.map((c) => {
      const tr = document.createElement('tr');
      tr.dataset.kind = c.kind;
      tr.title = `${c.name} (cause ${c.interrupt ? 'interrupt' : 'exception'} ${c.code})`;
      const name = el('td', 'cause');
      name.append(el('i', `teach-dot kind-${c.kind}`), c.short);
      const rate = el('td', 'num rate');
      const track = el('span', 'teach-rate-track');
      const bar = el('span', `teach-rate kind-${c.kind}`);
      bar.style.width = `${(c.lastSecond / max) * 100}%`;
      track.append(bar);
      const inner = el('div', 'rate-cell');
      inner.append(track, el('span', 'rate-n', groupedCount(c.lastSecond)));
      rate.append(inner);
      tr.append(name, rate, el('td', 'num', groupedCount(c.sinceBoot)));
      return tr;
    });
    if (rows.length === 0) {
      const tr = document.createElement('tr');
      const td = el('td', 'teach-muted', 'no traps yet');
      td.colSpan = 3;
      tr.append(td);
      rows.push(tr);
    }
    this.counterBody.replaceChildren(...rows);
  }

  private renderLog(recent: NamedTrap[]): void {
    const newest = recent.at(-1);
    const signature = `${recent.length}:${newest?.seq ?? -1}:${newest?.returnTo ?? ''}`;
    if (signature === this.lastSignature) return;
    this.lastSignature = signature;
    this.lastSeq = newest?.seq ?? -1;
    // Follow the newest entry unless the student has scrolled up to read.
    const atBottom = this.log.scrollTop + this.log.clientHeight >= this.log.scrollHeight - 8;
    this.shown = recent;
    this.logBody.replaceChildren(...recent.map((t) => this.logRow(t)));
    if (atBottom) this.log.scrollTop = this.log.scrollHeight;
    this.renderWalks(recent);
  }

  private logRow(t: NamedTrap): HTMLTableRowElement {
    const tr = document.createElement('tr');
    tr.dataset.kind = t.kind;
    tr.dataset.from = t.from;
    // On a machine with several harts each row names the hart that took the trap.
    const hartTag = () => (t.hart === undefined ? [] : [el('span', 'teach-muted teach-hart', `h${t.hart} `)]);
    if (t.hart !== undefined) tr.dataset.hart = String(t.hart);
    tr.title = t.name;
    const cause = el('td', 'cause');
    const handler = el('td', 'mono');
    if (t.returnTo !== undefined) {
      tr.dataset.return = t.returnTo;
      tr.classList.add('teach-return');
      cause.append(...hartTag(), el('span', 'teach-return-mark', '↩ '), t.short);
      handler.append(hex(t.handler), el('span', `teach-to priv-${t.returnTo}`, t.returnTo));
      // a0 is a system call's result; after a page fault it is whatever the program had there.
      const a0 = t.kind === 'syscall' ? `a0=${t.tval > 0xffff_ffffn ? hex(t.tval) : String(t.tval)}` : '';
      tr.append(el('td', 'num teach-muted', ''), cause, el('td', 'mono', hex(t.pc)), el('td', 'mono', a0), handler);
      return tr;
    }
    cause.append(...hartTag(), el('i', `teach-dot kind-${t.kind}`), t.short);
    if (t.walk) {
      // A page fault with its walk: a click shows that walk below (the newest is shown until then).
      tr.dataset.walkable = String(t.seq);
      tr.tabIndex = 0;
      tr.title = `${t.name}: click for the page walk of stval before and after`;
      const select = () => {
        this.selectedFault = t.seq;
        this.renderWalks(this.shown);
      };
      tr.addEventListener('click', select);
      tr.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') select();
      });
    }
    if (t.a7 !== undefined && t.from === 'U') {
      const n = Number(t.a7);
      cause.append(el('span', 'teach-muted teach-syscall', ` ${SYSCALLS[n] ?? 'a7='}${SYSCALLS[n] ? '' : n}`));
      tr.title = `${t.name}: system call ${n}${SYSCALLS[n] ? ` (${SYSCALLS[n]})` : ''}`;
    }
    handler.append(hex(t.handler));
    if (t.handledIn) handler.append(el('span', `teach-to priv-${t.handledIn}`, t.handledIn));
    const seq = el('td', 'num teach-muted', String(t.seq));
    if (this.backTo) {
      // Step back to it: the machine as it was right after this trap was taken, to watch it again.
      const back = el('button', 'teach-back-here', '◀');
      back.type = 'button';
      back.dataset.action = 'back-to-trap';
      back.title = `Go back to just after trap #${t.seq} was taken (step back), to watch it again`;
      back.setAttribute('aria-label', `Go back to trap ${t.seq}`);
      const backTo = this.backTo;
      back.addEventListener('click', (e) => {
        e.stopPropagation();
        backTo(t);
      });
      seq.prepend(back);
    }
    tr.append(seq, cause, el('td', 'mono', hex(t.pc)), el('td', 'mono', hex(t.tval)), handler);
    return tr;
  }

  /** The latest page fault the log kept with a walk: its walk of stval at the fault, and at its return. */
  private renderWalks(recent: NamedTrap[]): void {
    const isFault = (t: NamedTrap) => t.kind === 'page-fault' && t.returnTo === undefined && t.walk !== undefined;
    let i = recent.findIndex((t) => isFault(t) && t.seq === this.selectedFault);
    if (i < 0) {
      i = recent.length - 1;
      while (i >= 0 && !isFault(recent[i])) i--;
    }
    for (const row of this.logBody.querySelectorAll<HTMLElement>('tr[data-walkable]')) {
      row.classList.toggle('teach-selected', i >= 0 && row.dataset.walkable === String(recent[i].seq));
    }
    if (i < 0) {
      this.walkBox.hidden = true;
      return;
    }
    const fault = recent[i];
    const ret = recent.slice(i + 1).find((t) => t.returnTo === fault.from);
    const box = (when: 'before' | 'after', title: string, t: NamedTrap | undefined) => {
      const b = el('div', 'teach-walk');
      b.dataset.walk = when;
      b.append(el('h4', '', title));
      if (t?.walk) {
        b.dataset.result = t.walk.fault ? 'fault' : 'mapped';
        b.append(el('pre', 'teach-walk-text', formatTranslation(t.walk)));
      } else b.append(el('p', 'teach-muted', 'not yet: the kernel has not returned to the faulting instruction'));
      return b;
    };
    this.walkBox.hidden = false;
    this.walkBox.replaceChildren(
      el('h3', '', `Page walk of stval ${hex(fault.tval)} (trap #${fault.seq})`),
      box('before', 'at the fault', fault),
      box('after', 'when the kernel returns to it', ret),
    );
  }
}
