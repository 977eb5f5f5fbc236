// Why run() returned. Devices set a stop request; the hot loop notices it after the
// out-of-line MMIO access that caused it, so the check costs nothing on the fast path.

// The reasons are StopReason in machineMap.ts, which the host imports too.
import { StopReason } from './machineMap';

export const STOP_BUDGET: u32 = StopReason.Budget;
export const STOP_WFI: u32 = StopReason.Wfi;
export const STOP_POWEROFF: u32 = StopReason.Poweroff;
export const STOP_REBOOT: u32 = StopReason.Reboot;
export const STOP_FAIL: u32 = StopReason.Fail;
export const STOP_HTIF: u32 = StopReason.Htif;
export const STOP_CONSOLE: u32 = StopReason.Console;
export const STOP_BREAKPOINT: u32 = StopReason.Breakpoint;
export const STOP_TRAP: u32 = StopReason.Trap;
export const STOP_PRIV: u32 = StopReason.Priv;
export const STOP_DEVICE: u32 = StopReason.Device;
export const STOP_WATCHPOINT: u32 = StopReason.Watchpoint;

export let stopReason: u32 = STOP_BUDGET;
export let stopRequested: bool = false;
/** Set by any device write or stop request: the running block must end after this
 *  instruction, because a deadline, an interrupt line or the stop state may have changed. */
export let blockEnd: bool = false;
/** The value that came with the stop: test device code, tohost value. */
export let stopValue: u64 = 0;

export function requestStop(reason: u32, value: u64): void {
  stopReason = reason;
  stopValue = value;
  stopRequested = true;
  blockEnd = true;
}
