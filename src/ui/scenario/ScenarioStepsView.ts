/**
 * A guest's console script beside its console: every step, what it waits for or types,
 * and once played whether it passed and how long it took (host time).
 */
import type { ConsoleStep, StepResult } from '../../scenario/index.ts';
import type { ScriptProgress } from '../../worker/VmWorkerApi.ts';
import { h } from '../dom.ts';
import { describeStep } from './describeStep.ts';

const MARK = { pending: '○', running: '◌', passed: '✓', failed: '✗' } as const;
type StepState = keyof typeof MARK;

export class ScenarioStepsView {
  readonly el: HTMLElement;
  private readonly items: HTMLElement[];
  private readonly summary: HTMLElement;

  constructor(private readonly steps: readonly ConsoleStep[]) {
    this.items = steps.map((step, i) => {
      const d = describeStep(step);
      return h(
        'li',
        { class: 'step', 'data-step': i, 'data-status': 'pending' },
        h('span', { class: 'step-mark', 'aria-hidden': 'true' }, MARK.pending),
        h('span', { class: 'step-verb' }, d.verb),
        h('code', { class: 'step-text' }, d.text),
        h('span', { class: 'step-time' }),
        h('div', { class: 'step-detail', hidden: true }),
      );
    });
    this.summary = h('div', { class: 'steps-summary', 'data-steps-summary': '' }, steps.length ? 'waiting for the guest to boot…' : 'no console script');
    this.el = h('aside', { class: 'scenario-steps', 'aria-label': 'Console script' }, h('h3', {}, 'Console script'), h('ol', {}, ...this.items), this.summary);
  }

  /** Shows the worker's progress; `running` is false once the VM stopped. */
  update(progress: ScriptProgress | undefined, running: boolean): void {
    const results = new Map<number, StepResult>((progress?.results ?? []).map((r) => [r.index, r]));
    this.items.forEach((li, i) => {
      const r = results.get(i);
      const state: StepState = r ? r.status : progress && i === progress.current && !progress.done && running ? 'running' : 'pending';
      li.dataset.status = state;
      li.querySelector('.step-mark')!.textContent = MARK[state];
      li.querySelector('.step-time')!.textContent = r ? `${(r.ms / 1000).toFixed(r.ms < 10_000 ? 2 : 1)} s` : '';
      const detail = li.querySelector<HTMLElement>('.step-detail')!;
      detail.hidden = !r?.detail;
      detail.textContent = r?.detail ?? '';
    });
    if (!progress) return;
    const passed = progress.results.filter((r) => r.status === 'passed').length;
    const failed = progress.results.find((r) => r.status === 'failed');
    this.el.dataset.result = failed ? 'failed' : progress.done ? 'passed' : 'running';
    this.summary.textContent = failed
      ? `step ${failed.index + 1} failed`
      : progress.done
        ? `all ${this.steps.length} steps passed`
        : running
          ? `${passed} of ${this.steps.length} steps passed`
          : `stopped after ${passed} of ${this.steps.length} steps`;
  }
}
