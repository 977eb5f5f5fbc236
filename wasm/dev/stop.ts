// Why run() returned. Devices set a stop request; the hot loop notices it after the
// out-of-line MMIO access that caused it, so the check costs nothing on the fast path.

export const STOP_BUDGET: u32 = 0; // the instruction budget is spent
export const STOP_WFI: u32 = 1; // the hart waits for an interrupt and none is pending
export const STOP_POWEROFF: u32 = 2; // sifive test device: pass / poweroff
export const STOP_REBOOT: u32 = 3; // sifive test device: reset
export const STOP_FAIL: u32 = 4; // sifive test device: fail with a code
export const STOP_HTIF: u32 = 5; // the program wrote its tohost word
export const STOP_CONSOLE: u32 = 6; // the UART transmit ring needs draining
export const STOP_BREAKPOINT: u32 = 7; // pc reached the breakpoint
export const STOP_TRAP: u32 = 8; // a trap was taken while trap-stepping
export const STOP_PRIV: u32 = 9; // the privilege mode changed while priv-stepping
export const STOP_DEVICE: u32 = 10; // a host device asked for service (e.g. a virtqueue kick)

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
