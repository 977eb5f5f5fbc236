// The module's exports: the host's whole view of the core (src/machine/Core.ts).
export {
  REGS_OFFSET, FREGS_OFFSET, TLB_OFFSET, TLB_ENTRIES, TLB_LOAD, TLB_STORE, UART_RX_OFFSET, UART_RX_SIZE,
  UART_TX_OFFSET, UART_TX_SIZE, ROM_OFFSET, RAM_OFFSET, RAM_GUARD,
  STAGE_OFFSET, STAGE_COUNT, TRAP_COUNT_OFFSET, TRAP_LOG_OFFSET, TRAP_LOG_ENTRIES,
} from './layout';
export {
  init, reset, run, skipToTimer, syncTime, timerDistance, getMtime, getMtimecmp, setRealtimeClock, getInsnsPerTick, getPc, setPc,
  getPriv, getIcount, getLastTrapCause, getLastTrapPc, getLastTrapTval, getTrapCount,
  stopSoon, setBreakpoint, resumeFromBreakpoint, setStopOnTrap, setStopOnPrivChange, getTrapLogHead,
  setTrapReturnMask, setTrapRingMask, setHostTrigger, getHartCount, getCurrentHart, getHartPc, getHartPriv,
  isHartSleeping, setHartPc, setHartX, setRunnableHarts, setInterruptsHeld, takeHartIdled, peekHartCsr, pokeHartCsr, getHartX, getHartF, setHartF,
  setHartPriv, peekCsrFailed,
} from './machine';
export { stopValue } from './stop';
export { uartPush, uartRxFree, uartRxReady, uartTxConsume, txHead, txTail } from './dev/uart16550';
export { plicSetLevel } from './dev/plic';
export { setRtcBase } from './dev/goldfishRtc';
export { setTohost } from './bus';
export { ROM_BASE, ROM_END, RAM_BASE, TIMEBASE_HZ, INSNS_PER_TICK } from './machineMap';
export { decodeFieldsForTest, decodedRd, decodedRs1, decodedRs2, decodedRs3, decodedImm } from './cpu/decodeForTest';
// The JIT tier (wasm/cpu/jit.ts): the host's controls, and what compiled modules import.
export { JIT_PAGE_RECORD } from './layout';
export {
  jitConfigure, jitRecordBytes, jitInvalidateRange, jitForgetAll, jitPageSlot, jitEntries, jitInsns,
  jitInvalidations, jitSteps, jitMisses, jitExit,
} from './cpu/jit';
export { pc as hartPc, icount as hartIcount, mstatus as hartMstatus } from './cpu/state';
export { memFault, loadSlow, storeSlow } from './cpu/mmu';
export { jitStep, jitFp } from './cpu/run';
export { blockEnd } from './stop';
export { mulh, mulhsu, mulhu, div, divu, rem, remu, divw, divuw, remw, remuw } from './cpu/rv64m';
// Machine state save and restore (src/state/): the core's scalars and regions besides RAM.
export { STATE_SCALARS, STATE_REGIONS, stateScalar, setStateScalar, stateRegion, stateRestored, statePageZero } from './machineState';
