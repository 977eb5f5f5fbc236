// The one table of trap causes: for each exception and interrupt code, the privileged
// spec's name ("Machine cause register" table), a short label for a narrow panel
// ("ecall from U") and a kind, so a view can colour all page faults alike.
import type { CauseName, TrapKind } from './Types.ts';

interface CauseEntry {
  /** The spec's name: "Environment call from U-mode". */
  name: string;
  /** A short label: "ecall from U". */
  short: string;
  kind: TrapKind;
}

const entry = (name: string, short: string, kind: TrapKind): CauseEntry => ({ name, short, kind });

/** Exception codes (Interrupt = 0). */
export const EXCEPTION_CAUSES: ReadonlyMap<number, CauseEntry> = new Map([
  [0, entry('Instruction address misaligned', 'misaligned fetch', 'misaligned')],
  [1, entry('Instruction access fault', 'fetch access fault', 'access-fault')],
  [2, entry('Illegal instruction', 'illegal instruction', 'illegal')],
  [3, entry('Breakpoint', 'breakpoint (ebreak)', 'breakpoint')],
  [4, entry('Load address misaligned', 'misaligned load', 'misaligned')],
  [5, entry('Load access fault', 'load access fault', 'access-fault')],
  [6, entry('Store/AMO address misaligned', 'misaligned store', 'misaligned')],
  [7, entry('Store/AMO access fault', 'store access fault', 'access-fault')],
  [8, entry('Environment call from U-mode', 'ecall from U', 'syscall')],
  [9, entry('Environment call from S-mode', 'ecall from S', 'syscall')],
  [11, entry('Environment call from M-mode', 'ecall from M', 'syscall')],
  [12, entry('Instruction page fault', 'fetch page fault', 'page-fault')],
  [13, entry('Load page fault', 'load page fault', 'page-fault')],
  [15, entry('Store/AMO page fault', 'store page fault', 'page-fault')],
  [18, entry('Software check', 'software check', 'other')],
  [19, entry('Hardware error', 'hardware error', 'other')],
]);

/** Interrupt codes (Interrupt = 1); the code is also the interrupt's bit in mip/mie. */
const INTERRUPT_CAUSES: ReadonlyMap<number, CauseEntry> = new Map([
  [1, entry('Supervisor software interrupt', 'S software', 'software')],
  [3, entry('Machine software interrupt', 'M software', 'software')],
  [5, entry('Supervisor timer interrupt', 'S timer', 'timer')],
  [7, entry('Machine timer interrupt', 'M timer', 'timer')],
  [9, entry('Supervisor external interrupt', 'S external', 'external')],
  [11, entry('Machine external interrupt', 'M external', 'external')],
  [13, entry('Counter-overflow interrupt', 'counter overflow', 'other')],
]);

const INTERRUPT_BIT = 1n << 63n;

/** A cause at both lengths, for an mcause/scause value (bit 63 set for interrupts). */
export function nameCause(cause: bigint): CauseName {
  cause = BigInt.asUintN(64, cause);
  const interrupt = (cause & INTERRUPT_BIT) !== 0n;
  const code = Number(cause & ~INTERRUPT_BIT);
  const known = (interrupt ? INTERRUPT_CAUSES : EXCEPTION_CAUSES).get(code);
  if (known) return { cause, interrupt, code, ...known };
  const what = `${interrupt ? 'interrupt' : 'exception'} ${code}`;
  return { cause, interrupt, code, name: `${what} (reserved or custom)`, short: what, kind: 'other' };
}

/** The cause's name for an mcause/scause value, e.g. "Load page fault". */
export function causeName(cause: bigint): string {
  return nameCause(cause).name;
}

/** The cause value for counter index i of Core.trapCounts() flattened (exceptions 0..15, interrupts 16..31). */
export function causeOfCounter(i: number): bigint {
  return i < 16 ? BigInt(i) : INTERRUPT_BIT | BigInt(i - 16);
}
