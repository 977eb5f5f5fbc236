/** A console step in one short line for the step list, control keys made visible. */
import { describeExpect, type ConsoleStep } from '../../scenario/index.ts';

/** JSON quoting shows "\n" and "\u0003" as such instead of sending them to the page raw. */
export function describeStep(step: ConsoleStep): { verb: string; text: string } {
  if ('send' in step) return { verb: 'send', text: JSON.stringify(step.send) };
  if ('wait' in step) return { verb: 'wait', text: `${step.wait} s of guest time` };
  const timeout = step.timeout !== undefined ? ` (up to ${step.timeout} s)` : '';
  return { verb: 'expect', text: `${describeExpect(step.expect)}${timeout}` };
}
