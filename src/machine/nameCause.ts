/**
 * A trap cause as a student reads it: the spec's full name (from the inspector's table)
 * plus a short label and a kind, so a narrow panel can say "ecall from U" and colour all
 * page faults alike.
 */
import { causeName } from '../inspect/index.ts';
import type { CauseName, TrapKind } from './InspectorTypes.ts';

const INTERRUPT_BIT = 1n << 63n;

const EXCEPTIONS: Record<number, [string, TrapKind]> = {
  0: ['misaligned fetch', 'misaligned'],
  1: ['fetch access fault', 'access-fault'],
  2: ['illegal instruction', 'illegal'],
  3: ['breakpoint (ebreak)', 'breakpoint'],
  4: ['misaligned load', 'misaligned'],
  5: ['load access fault', 'access-fault'],
  6: ['misaligned store', 'misaligned'],
  7: ['store access fault', 'access-fault'],
  8: ['ecall from U', 'syscall'],
  9: ['ecall from S', 'syscall'],
  11: ['ecall from M', 'syscall'],
  12: ['fetch page fault', 'page-fault'],
  13: ['load page fault', 'page-fault'],
  15: ['store page fault', 'page-fault'],
};

const INTERRUPTS: Record<number, [string, TrapKind]> = {
  1: ['S software', 'software'],
  3: ['M software', 'software'],
  5: ['S timer', 'timer'],
  7: ['M timer', 'timer'],
  9: ['S external', 'external'],
  11: ['M external', 'external'],
  13: ['counter overflow', 'other'],
};

export function nameCause(cause: bigint): CauseName {
  cause = BigInt.asUintN(64, cause);
  const interrupt = (cause & INTERRUPT_BIT) !== 0n;
  const code = Number(cause & ~INTERRUPT_BIT);
  const known = (interrupt ? INTERRUPTS : EXCEPTIONS)[code];
  const [short, kind] = known ?? [`${interrupt ? 'interrupt' : 'exception'} ${code}`, 'other' as const];
  return { cause, interrupt, code, name: causeName(cause), short, kind };
}

/** The cause value for counter index i of Core.trapCounts() flattened (exceptions 0..15, interrupts 16..31). */
export function causeOfCounter(i: number): bigint {
  return i < 16 ? BigInt(i) : INTERRUPT_BIT | BigInt(i - 16);
}
