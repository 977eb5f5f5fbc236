/**
 * Traps as they happen: which privilege mode the hart is in right now, how many traps of
 * each cause came in the last second and since boot, and a log of the latest ones (where,
 * why, the faulting value, and which handler took it). The log scrolls like a console;
 * "Freeze" holds it still so a student can read a burst while the counters stay live.
 */
import type { NamedTrap, TrapCounter, TrapStats } from '../../machine/index.ts';
import { duration, groupedCount, hex } from './displayFormat.ts';
import { PRIVILEGE_NAMES } from './privilegeNames.ts';
import { createHtml as el } from './createHtml.ts';

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

  constructor(private readonly container: HTMLElement) {
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

    const table = el('table', 'teach-table teach-log-table');
    const lh = table.createTHead().insertRow();
    lh.append(el('th', 'num', '#'), el('th', '', 'cause'), el('th', '', 'pc'), el('th', '', 'tval'), el('th', '', 'handler (mode)'));
    this.logBody = table.createTBody();
    this.log = el('div', 'teach-log');
    this.log.tabIndex = 0;
    this.log.append(table);

    this.root.append(head, top, logHead, this.log);
    container.append(this.root);
  }

  /** Shows new numbers (from VmInspector.traps()); the log keeps still while frozen. */
  update(data: TrapStats): void {
    const p = PRIVILEGE_NAMES[data.priv];
    this.privBadge.textContent = data.priv;
    this.privBadge.dataset.priv = data.priv;
    this.privText.textContent = `${p.mode} mode: ${p.who}`;
    this.totals.textContent = `${groupedCount(data.totalSinceBoot)} since boot`;
    this.windowHead.textContent = data.windowMs >= 950 && data.windowMs < 1500 ? 'last 1 s' : `last ${duration(data.windowMs)}`;
    this.renderCounters(data.counters);
    if (!this.frozen) this.renderLog(data.recent);
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
    const newest = recent.at(-1)?.seq ?? -1;
    if (newest === this.lastSeq) return;
    this.lastSeq = newest;
    // Follow the newest entry unless the student has scrolled up to read.
    const atBottom = this.log.scrollTop + this.log.clientHeight >= this.log.scrollHeight - 8;
    this.logBody.replaceChildren(...recent.map((t) => {
      const tr = document.createElement('tr');
      tr.dataset.kind = t.kind;
      tr.title = t.name;
      const cause = el('td', 'cause');
      cause.append(el('i', `teach-dot kind-${t.kind}`), t.short);
      const handler = el('td', 'mono');
      handler.append(hex(t.handler));
      if (t.handledIn) handler.append(el('span', `teach-to priv-${t.handledIn}`, t.handledIn));
      tr.append(el('td', 'num teach-muted', String(t.seq)), cause, el('td', 'mono', hex(t.pc)), el('td', 'mono', hex(t.tval)), handler);
      return tr;
    }));
    if (atBottom) this.log.scrollTop = this.log.scrollHeight;
  }
}
