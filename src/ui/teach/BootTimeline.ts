/**
 * The boot as a chart a student can watch grow: one horizontal bar per stage (reset ROM,
 * firmware, kernel, paging, first user process, shell), laid out as a waterfall on a shared
 * axis of instructions or host time, coloured by the privilege the stage runs in. The bar
 * of the stage running now grows with every update; stages not reached yet wait greyed out.
 *
 * It is drawn in SVG at the container's pixel width (re-laid out when that changes) rather
 * than scaled from a fixed viewBox, so the text stays readable from 400 to 1280+ pixels:
 * below NARROW_PX the labels move above their bars.
 */
import type { BootStage, Timeline, TimelineStage } from '../../machine/index.ts';
import { createSvg } from './createSvg.ts';
import { duration, groupedCount, shortCount, tickCount } from './displayFormat.ts';
import { PRIVILEGE_NAMES, privilegeWho } from './privilegeNames.ts';

export type TimelineAxis = 'instructions' | 'time';

/** What each stage is, in the order a student reads the chart. */
const STAGE_TEXT: Record<BootStage, { title: string; what: string }> = {
  'power-on': { title: 'Reset ROM', what: 'power-on: a0 = hart id, a1 = device tree, jump to the firmware' },
  firmware: { title: 'Firmware · OpenSBI', what: 'sets up M-mode, delegates traps, then mret into the kernel' },
  kernel: { title: 'Linux kernel', what: 'first S-mode instruction: early setup with the MMU off' },
  paging: { title: 'Paging on', what: 'satp written with MODE = Sv39: virtual addresses from here' },
  user: { title: 'First user process', what: 'sret into U-mode: /init runs' },
  shell: { title: 'Shell prompt', what: 'the shell waits for input (the first WFI after user mode)' },
};

/** A bare kernel's stages (QEMU's -bios none): RAM's first instruction is the kernel's, in M-mode. */
const BARE_STAGE_TEXT: Partial<Record<BootStage, { title: string; what: string }>> = {
  'power-on': { title: 'Reset ROM', what: 'power-on: a0 = hart id, a1 = device tree, jump to 0x80000000 (no firmware)' },
  firmware: { title: 'Kernel · M-mode', what: 'the ELF at 0x80000000 runs from its first instruction in M-mode' },
  kernel: { title: 'S-mode', what: 'the first S-mode instruction: a kernel that mret\'d into S' },
  shell: { title: 'Waiting after user mode', what: 'the first WFI after user mode' },
};

const NARROW_PX = 560;
const MIN_BAR_PX = 3;

interface Layout {
  width: number;
  narrow: boolean;
  trackX: number;
  trackW: number;
  rowH: number;
  top: number;
}

export class BootTimeline {
  private readonly root: HTMLElement;
  private readonly svgHost: HTMLElement;
  private readonly summary: HTMLElement;
  private readonly axisButtons: HTMLButtonElement[];
  private readonly resize: ResizeObserver;
  private data: Timeline | undefined;
  private axis: TimelineAxis = 'instructions';

  constructor(
    private readonly container: HTMLElement,
    /** The VM runs a bare kernel (-bios none), not OpenSBI and Linux: the stages say so. */
    private readonly bareKernel = false,
  ) {
    this.root = document.createElement('section');
    this.root.className = 'teach teach-timeline';
    this.root.setAttribute('aria-label', 'Boot timeline');

    const head = document.createElement('header');
    head.className = 'teach-head';
    const title = document.createElement('h2');
    title.textContent = 'Boot timeline';
    this.summary = document.createElement('span');
    this.summary.className = 'teach-muted teach-timeline-now';
    const axis = document.createElement('div');
    axis.className = 'teach-segmented';
    axis.setAttribute('role', 'group');
    axis.setAttribute('aria-label', 'Horizontal axis');
    this.axisButtons = (['instructions', 'time'] as const).map((a) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = a === 'instructions' ? 'instructions' : 'host time';
      b.dataset.axis = a;
      b.addEventListener('click', () => this.setAxis(a));
      axis.append(b);
      return b;
    });
    head.append(title, this.summary, axis, legend(this.bareKernel));
    this.svgHost = document.createElement('div');
    this.svgHost.className = 'teach-timeline-chart';
    this.root.append(head, this.svgHost);
    container.append(this.root);
    this.setAxis('instructions');
    this.resize = new ResizeObserver(() => this.render());
    this.resize.observe(this.svgHost);
  }

  /** Shows a new timeline (from VmInspector.timeline()). */
  update(data: Timeline): void {
    this.data = data;
    this.render();
  }

  /** Puts instructions or host time on the horizontal axis. */
  setAxis(axis: TimelineAxis): void {
    this.axis = axis;
    for (const b of this.axisButtons) b.setAttribute('aria-pressed', String(b.dataset.axis === axis));
    this.render();
  }

  dispose(): void {
    this.resize.disconnect();
    this.root.remove();
  }

  private render(): void {
    const t = this.data;
    const width = Math.floor(this.svgHost.clientWidth);
    if (width <= 0) return;
    const narrow = width < NARROW_PX;
    const layout: Layout = narrow
      ? { width, narrow, trackX: 10, trackW: width - 20, rowH: 62, top: 6 }
      : { width, narrow, trackX: 250, trackW: width - 250 - 24, rowH: 46, top: 8 };
    const stages = t?.stages ?? [];
    const height = layout.top + Math.max(stages.length, 6) * layout.rowH + 34;
    const svg = createSvg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
    svg.append(createSvg('title', {}, 'Boot stages on a shared axis, coloured by privilege mode'));

    const end = t === undefined ? 1 : this.axis === 'instructions' ? Number(t.instructions) : t.wallMs;
    const scale = niceMax(end);
    const x = (v: number) => layout.trackX + (Math.min(v, scale) / scale) * layout.trackW;
    this.drawGrid(svg, layout, height, scale, x);

    stages.forEach((s, i) => this.drawRow(svg, layout, s, stages[i + 1], t!, i, x));

    if (t !== undefined) {
      const nowX = x(end);
      const y0 = layout.top - 4;
      const y1 = layout.top + stages.length * layout.rowH;
      svg.append(createSvg('line', { x1: nowX, x2: nowX, y1: y0, y2: y1, class: 'tl-now' }));
      const anchor = nowX > layout.width - 40 ? 'end' : 'middle';
      svg.append(createSvg('text', { x: nowX, y: y1 + 30, class: 'tl-now-label', 'text-anchor': anchor }, 'now'));
      this.summary.textContent = `${groupedCount(t.instructions)} instructions · ${duration(t.wallMs)} since power-on`;
    }
    this.svgHost.replaceChildren(svg);
  }

  private value(s: TimelineStage): number | undefined {
    return this.axis === 'instructions' ? (s.instructions === undefined ? undefined : Number(s.instructions)) : s.wallMs;
  }

  private drawGrid(svg: SVGSVGElement, l: Layout, height: number, scale: number, x: (v: number) => number): void {
    const axisY = height - 28;
    svg.append(createSvg('line', { x1: l.trackX, x2: l.trackX + l.trackW, y1: axisY, y2: axisY, class: 'tl-axis' }));
    const ticks = l.narrow ? 2 : 5;
    for (let k = 0; k <= ticks; k++) {
      const v = (scale * k) / ticks;
      const tx = x(v);
      svg.append(createSvg('line', { x1: tx, x2: tx, y1: l.top - 4, y2: axisY + 4, class: k === 0 ? 'tl-axis' : 'tl-grid' }));
      const label = k === 0 ? 'power-on' : this.axis === 'instructions' ? tickCount(v) : duration(v);
      const anchor = k === 0 ? 'start' : k === ticks ? 'end' : 'middle';
      svg.append(createSvg('text', { x: tx, y: axisY + 16, class: 'tl-tick', 'text-anchor': anchor }, label));
    }
    const unit = this.axis === 'instructions' ? 'instructions executed' : 'host time';
    if (!l.narrow) svg.append(createSvg('text', { x: l.trackX - 12, y: axisY + 16, class: 'tl-tick', 'text-anchor': 'end' }, unit));
  }

  private drawRow(
    svg: SVGSVGElement, l: Layout, s: TimelineStage, next: TimelineStage | undefined, t: Timeline, i: number,
    x: (v: number) => number,
  ): void {
    const y = l.top + i * l.rowH;
    const text = (this.bareKernel ? BARE_STAGE_TEXT[s.stage] : undefined) ?? STAGE_TEXT[s.stage];
    const reached = s.instructions !== undefined;
    const g = createSvg('g', { class: `tl-row ${reached ? 'reached' : 'pending'} priv-${s.priv}`, 'data-stage': s.stage });
    g.append(createSvg('title', {}, `${text.title} (${PRIVILEGE_NAMES[s.priv].mode} mode): ${text.what}`));
    if (i % 2 === 0) g.append(createSvg('rect', { x: 0, y, width: l.width, height: l.rowH, class: 'tl-stripe' }));

    // Label: the stage and its privilege, then where it starts.
    const labelX = l.narrow ? l.trackX : 12;
    const chip = createSvg('g', { class: 'tl-chip' });
    chip.append(createSvg('rect', { x: labelX, y: y + 7, width: 18, height: 16, rx: 4 }));
    chip.append(createSvg('text', { x: labelX + 9, y: y + 19, 'text-anchor': 'middle' }, s.priv));
    g.append(chip);
    g.append(createSvg('text', { x: labelX + 26, y: y + 20, class: 'tl-name' }, text.title));
    const where = s.stage === 'power-on' && reached
      ? 'at power-on'
      : reached
      ? `at ${shortCount(s.instructions!)} insns · ${s.wallMs === undefined ? '…' : duration(s.wallMs)}`
      : 'not reached yet';
    g.append(createSvg('text', { x: l.narrow ? l.width - 10 : labelX + 26, y: l.narrow ? y + 20 : y + 37, class: 'tl-when', 'text-anchor': l.narrow ? 'end' : 'start' }, where));

    const barY = l.narrow ? y + 32 : y + 14;
    const barH = l.narrow ? 18 : 20;
    if (!reached) {
      g.append(createSvg('rect', { x: l.trackX, y: barY, width: l.trackW, height: barH, rx: 4, class: 'tl-waiting' }));
      svg.append(g);
      return;
    }
    const start = this.value(s) ?? 0;
    const nextStart = next === undefined ? undefined : this.value(next);
    const running = nextStart === undefined;
    const stop = nextStart ?? (this.axis === 'instructions' ? Number(t.instructions) : t.wallMs);
    const x0 = x(start);
    const w = Math.max(MIN_BAR_PX, x(stop) - x0);
    g.append(createSvg('rect', { x: x0, y: barY, width: w, height: barH, rx: 3, class: `tl-bar${running ? ' running' : ''}` }));

    // The stage's length: inside the bar when it fits, else beside it.
    const span = stop - start;
    const len = this.axis === 'instructions' ? `${shortCount(Math.round(span))} insns` : duration(span);
    const label = running ? `${len} so far` : len;
    const textW = label.length * 6.6 + 10;
    let lx = x0 + w + 6;
    let anchor = 'start';
    let cls = 'tl-len';
    if (w >= textW) {
      lx = x0 + w - 6;
      anchor = 'end';
      cls = 'tl-len inside';
    } else if (lx + textW > l.trackX + l.trackW + 20) {
      lx = x0 - 6;
      anchor = 'end';
    }
    g.append(createSvg('text', { x: lx, y: barY + barH / 2 + 4, class: cls, 'text-anchor': anchor }, label));
    svg.append(g);
  }
}

/** An axis end a little past `v` that divides into round ticks: 1, 2, 2.5 or 5 times a power of ten. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function legend(bareKernel: boolean): HTMLElement {
  const el = document.createElement('div');
  el.className = 'teach-legend';
  for (const p of ['M', 'S', 'U'] as const) {
    const item = document.createElement('span');
    item.className = `teach-legend-item priv-${p}`;
    const sw = document.createElement('i');
    item.append(sw, `${p} · ${PRIVILEGE_NAMES[p].mode}`);
    item.title = privilegeWho(p, bareKernel);
    el.append(item);
  }
  return el;
}
