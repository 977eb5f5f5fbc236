// What the teaching views show of traps: a counter per cause and a ring of the last
// TRAP_LOG_ENTRIES traps. Written from takeTrap, which is already off the hot path.
import { TRAP_COUNT_OFFSET, TRAP_LOG_ENTRIES, TRAP_LOG_OFFSET } from '../layout';
import { TRAP_RECORD_SIZE } from '../machineMap';

/** Index of the next ring slot to write (free-running). */
export let trapLogHead: u32 = 0;

export function resetTrapLog(): void {
  memory.fill(TRAP_COUNT_OFFSET, 0, 32 * 8);
  memory.fill(TRAP_LOG_OFFSET, 0, TRAP_LOG_ENTRIES * TRAP_RECORD_SIZE);
  trapLogHead = 0;
}

export function logTrap(pc: u64, cause: u64, tval: u64, handler: u64): void {
  const counter = TRAP_COUNT_OFFSET + ((<u32>(cause >> 63) << 4) + (<u32>cause & 15)) * 8;
  store<u64>(counter, load<u64>(counter) + 1);
  const e = TRAP_LOG_OFFSET + (trapLogHead & (TRAP_LOG_ENTRIES - 1)) * TRAP_RECORD_SIZE;
  store<u64>(e, pc);
  store<u64>(e, cause, 8);
  store<u64>(e, tval, 16);
  store<u64>(e, handler, 24);
  trapLogHead++;
}
