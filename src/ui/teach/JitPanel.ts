/**
 * The JIT tier, opened up: where the hart's pc runs when the guest goes on (the interpreter
 * or a wasm function translated from its page, and why), how much of the guest's work ran
 * compiled lately, the pages warming up towards the threshold, the pages with code and
 * their blocks, and the counters behind it (compiles and their time, the code cache and its
 * caps, evictions, pages discarded by writes). Fed with the worker's `JitView` a few times a
 * second; it only reads.
 */
import type { JitView } from '../../machine/index.ts';
import { formatBytes } from '../../format/formatBytes.ts';
import { createHtml as el } from './createHtml.ts';
import { groupedCount, hex, shortCount } from './displayFormat.ts';

/** Pages listed in each table. */
const ROWS = 8;
/** Block offsets shown per compiled page (the count says how many there are). */
const OFFSETS = 6;

/** A share of instructions: of the last interval the guest ran in, or of all since power-on. */
interface Share {
  compiled: number;
  of: number;
}

export class JitPanel {
  private readonly root: HTMLElement;
  private readonly status: HTMLElement;
  private readonly intro: HTMLElement;
  private readonly body: HTMLElement;
  private readonly tier: HTMLElement;
  private readonly share: HTMLElement;
  private readonly counters: HTMLElement;
  private readonly hot: HTMLElement;
  private readonly compiled: HTMLElement;
  private last: { instructions: bigint; jitInsns: number } | undefined;
  private lastShare: Share | undefined;

  constructor(private readonly container: HTMLElement) {
    this.root = el('section', 'teach teach-jit');
    this.root.setAttribute('aria-label', 'JIT tier');
    const head = el('header', 'teach-head');
    this.status = el('span', 'teach-status');
    head.append(el('h2', '', 'JIT tier'), this.status);
    this.intro = el('p', 'teach-jit-intro teach-muted');
    this.tier = el('div', 'teach-jit-tier');
    this.share = el('div', 'teach-jit-share');
    this.counters = el('dl', 'teach-jit-counters');
    this.hot = el('div', 'teach-jit-pages');
    this.compiled = el('div', 'teach-jit-pages');
    this.body = el('div', 'teach-jit-grid');
    const left = el('div', 'teach-col');
    left.append(card('Where the pc runs next', this.tier, this.share), card('Counters', this.counters));
    const right = el('div', 'teach-col');
    right.append(card('Pages warming up (heat towards the threshold)', this.hot), card('Pages with compiled code', this.compiled));
    this.body.append(left, right);
    this.root.append(head, this.intro, this.body);
    container.append(this.root);
  }

  /** Shows a view from the worker; "lately" is the share of the instructions run since the previous one. */
  update(v: JitView): void {
    const s = v.stats;
    this.root.dataset.mode = v.mode;
    this.status.textContent = v.mode === 'off' ? 'off' : `${v.mode} · ${s.pages} page${s.pages === 1 ? '' : 's'} compiled · ${s.blocks} block${s.blocks === 1 ? '' : 's'}`;
    if (v.mode === 'off') {
      this.intro.textContent = 'The JIT is off for this VM: the interpreter decodes and runs every instruction. Turn it on in the VM\'s ⋯ menu (JIT) while it is stopped, or open the page with ?jit=auto.';
      this.body.hidden = true;
      return;
    }
    this.body.hidden = false;
    this.intro.textContent = v.mode === 'eager'
      ? 'eager: every 4 KiB page of guest RAM is translated to a WebAssembly function the first time it runs (slow to start; for tests). Compiled code is dropped when its page is written.'
      : `auto: the interpreter counts heat per 4 KiB page of guest RAM (arrivals and taken jumps); at ${groupedCount(v.threshold)} the page is translated to a WebAssembly function and runs compiled until the guest or a device writes it.`;
    this.showTier(v);
    this.showShare(v);
    this.showCounters(v);
    this.showHot(v);
    this.showCompiled(v);
  }

  private showTier(v: JitView): void {
    const p = v.pc;
    const chip = el('span', `teach-jit-chip tier-${p.tier}`, p.tier === 'compiled' ? 'compiled (wasm)' : 'interpreter');
    const where = el('div', 'mono small');
    where.textContent = `pc ${hex(p.pc)}${p.pa !== undefined && p.pa !== p.pc ? ` → physical ${hex(p.pa)}` : ''}${p.block ? ` · block ${p.block.index + 1} of ${p.block.of}` : ''}`;
    const parts: HTMLElement[] = [el('div', 'teach-jit-tier-line'), el('p', 'teach-jit-why', p.why)];
    parts[0]!.append(chip, where);
    if (p.heat !== undefined && v.threshold > 1) parts.push(heatBar(p.heat, v.threshold));
    parts.push(el('p', 'teach-muted small', 'Step and the other debugger buttons always run in the interpreter; Continue runs compiled code again.'));
    this.tier.replaceChildren(...parts);
    this.tier.dataset.tier = p.tier;
  }

  private showShare(v: JitView): void {
    const prev = this.last;
    this.last = { instructions: v.instructions, jitInsns: v.stats.jitInsns };
    if (prev && v.instructions > prev.instructions) {
      this.lastShare = { compiled: v.stats.jitInsns - prev.jitInsns, of: Number(v.instructions - prev.instructions) };
    }
    const all: Share = { compiled: v.stats.jitInsns, of: Number(v.instructions) };
    const row = (label: string, s: Share | undefined, key: string) => {
      const pct = s && s.of > 0 ? Math.min(100, (100 * s.compiled) / s.of) : undefined;
      const r = el('div', 'teach-jit-share-row');
      r.dataset.share = key;
      const bar = el('div', 'teach-jit-bar');
      const fill = el('i');
      fill.style.width = `${pct ?? 0}%`;
      bar.append(fill);
      r.append(el('span', 'small', label), bar, el('b', 'small', pct === undefined ? '—' : `${pct.toFixed(0)}%`));
      return r;
    };
    this.share.replaceChildren(
      el('h4', 'teach-jit-sub', 'Instructions run compiled'),
      row('lately', this.lastShare, 'recent'),
      row('since power-on', all, 'total'),
    );
  }

  private showCounters(v: JitView): void {
    const s = v.stats;
    const perPage = s.compiles > 0 ? ` · ${(s.compileMs / s.compiles).toFixed(1)} ms and ${formatBytes(s.totalBytes / s.compiles)} a page` : '';
    const rows: [string, string, string, string][] = [
      ['compiles', 'Pages translated (a page translated again counts again)', groupedCount(s.compiles), `${groupedCount(s.translatedInsns)} guest instructions translated`],
      ['compile-time', 'Host time spent translating and compiling', `${s.compileMs.toFixed(1)} ms`, `translator ${s.translateMs.toFixed(1)} ms, the rest V8${perPage}`],
      ['cache-pages', 'Pages with a module alive, and the cap', `${groupedCount(s.pages)} / ${groupedCount(v.maxPages)}`, `${groupedCount(s.blocks)} blocks`],
      ['cache-bytes', 'Module bytes alive, and the cap', `${formatBytes(s.bytes)} / ${formatBytes(v.maxBytes)}`, `${formatBytes(s.totalBytes)} compiled in all`],
      ['evictions', 'Times the full cache was dropped at once', groupedCount(s.evictions), 'hot pages come back after their threshold'],
      ['invalidations', 'Pages whose code went because the guest or a device wrote them', groupedCount(s.invalidations), 'self-modifying code, loaders, disk reads'],
      ['entries', 'Calls from the interpreter into compiled code', shortCount(s.entries), `${shortCount(s.misses)} at an offset the code did not know`],
      ['jit-insns', 'Guest instructions compiled code ran', shortCount(s.jitInsns), `${shortCount(s.steps)} of them handed back one at a time`],
    ];
    this.counters.replaceChildren(...rows.flatMap(([key, title, value, note]) => {
      const dt = el('dt', '', title);
      const dd = el('dd');
      dd.dataset.counter = key;
      dd.append(el('b', 'mono', value), el('span', 'teach-muted small', ` · ${note}`));
      return [dt, dd];
    }));
  }

  private showHot(v: JitView): void {
    if (v.hot.length === 0) {
      this.hot.replaceChildren(el('p', 'teach-muted small', v.mode === 'eager' ? 'None: eager translates a page on its first run.' : 'None yet: no page without code has run lately.'));
      return;
    }
    const table = el('table', 'teach-jit-table');
    table.append(headRow('physical page', 'heat', `of ${shortCount(v.threshold)}`));
    for (const h of v.hot.slice(0, ROWS)) {
      const tr = el('tr');
      if (v.pc.pa !== undefined && v.pc.pa >> 12n === h.pa >> 12n) tr.className = 'pc-page';
      const cell = el('td');
      cell.append(heatBar(h.heat, v.threshold));
      tr.append(el('td', 'mono', hex(h.pa)), el('td', 'mono', shortCount(h.heat)), cell);
      table.append(tr);
    }
    const more = v.warmingPages > ROWS ? el('p', 'teach-muted small', `The ${ROWS} hottest of ${groupedCount(v.warmingPages)}.`) : undefined;
    this.hot.replaceChildren(table, ...(more ? [more] : []));
  }

  private showCompiled(v: JitView): void {
    if (v.compiled.length === 0) {
      this.compiled.replaceChildren(el('p', 'teach-muted small', 'None yet: no page has reached the threshold.'));
      return;
    }
    const table = el('table', 'teach-jit-table');
    table.dataset.compiled = String(v.compiled.length);
    table.append(headRow('physical page', 'blocks', 'block starts (offset in the page)', 'module'));
    for (const c of v.compiled.slice(0, ROWS)) {
      const tr = el('tr');
      const pcHere = v.pc.pa !== undefined && v.pc.pa >> 12n === c.pa >> 12n;
      if (pcHere) tr.className = 'pc-page';
      const starts = c.blocks.slice(0, OFFSETS).map((o) => `+${o.toString(16).padStart(3, '0')}`).join(' ') + (c.blocks.length > OFFSETS ? ' …' : '');
      tr.append(el('td', 'mono', `${hex(c.pa)}${pcHere ? ' ◀ pc' : ''}`), el('td', 'mono', String(c.blocks.length)), el('td', 'mono small', starts), el('td', 'mono small', formatBytes(c.bytes)));
      table.append(tr);
    }
    const more = v.stats.pages > ROWS ? el('p', 'teach-muted small', `The ${ROWS} with the most blocks of ${groupedCount(v.stats.pages)}.`) : undefined;
    this.compiled.replaceChildren(table, ...(more ? [more] : []));
  }

  dispose(): void {
    this.root.remove();
    this.container.replaceChildren();
  }
}

function card(title: string, ...body: HTMLElement[]): HTMLElement {
  const c = el('div', 'teach-card');
  c.append(el('h3', '', title), ...body);
  return c;
}

function headRow(...names: string[]): HTMLElement {
  const tr = el('tr');
  for (const n of names) tr.append(el('th', '', n));
  return tr;
}

/** Heat as a bar towards the threshold, with its percentage. */
function heatBar(heat: number, threshold: number): HTMLElement {
  const pct = Math.min(100, (100 * heat) / threshold);
  const wrap = el('div', 'teach-jit-heat');
  const bar = el('div', 'teach-jit-bar heat');
  const fill = el('i');
  fill.style.width = `${pct}%`;
  bar.append(fill);
  wrap.title = `${groupedCount(heat)} of ${groupedCount(threshold)}`;
  wrap.append(bar, el('span', 'small mono', `${pct < 10 ? pct.toFixed(1) : pct.toFixed(0)}%`));
  return wrap;
}
