// The core's side of a machine state file (src/state/MachineStateFile.ts): the scalars that
// live in wasm globals (CoreScalar in machineMap.ts, one u64 each) and the linear-memory
// regions that hold the rest of the machine besides RAM. The host reads both between two
// run() calls and writes them into a freshly initialised core of the same shape, then
// calls stateRestored().
//
// What is left out, and why it may be: the TLBs, the fetch-page cache and the fill log are
// caches (a hart may drop a translation at any time; stateRestored flushes them); the
// decoded triggers are recomputed from tdata1/tdata2; host triggers, breakpoints and the
// trap log's masks are the debugger's, not the machine's; the JIT's page records are
// dropped by the host. The instruction-expansion table and static data are the build's.
import {
  CLINT_STATE_OFFSET, CLINT_STATE_SIZE, HART_SAVE_COUNT, HART_SAVE_OFFSET, HART_SAVE_SIZE,
  RAM_OFFSET, REGS_OFFSET, ROM_OFFSET, TRAP_LOG_ENTRIES, TRAP_LOG_OFFSET, TRIGGER_DECODED_OFFSET, TRIGGER_DECODED_SIZE,
  UART_RX_OFFSET, UART_RX_SIZE, UART_TX_OFFSET, UART_TX_SIZE,
} from './layout';
import { CoreScalar, ROM_END, TRAP_RECORD_SIZE } from './machineMap';
import * as st from './cpu/state';
import { fflags } from './cpu/softfloat';
import { tselect, triggersReload } from './cpu/triggers';
import { tlbFlush } from './cpu/mmu';
import { hartIdled, hartSwitches, quantumLeft, sleeping } from './cpu/harts';
import { stagesPending } from './cpu/bootStages';
import { trapLogHead } from './cpu/trapLog';
import { mtimeBias, mtimecmp } from './dev/clint';
import { rtcAlarm, rtcAlarmHigh, rtcBaseNs, rtcFlags, rtcTimeHigh } from './dev/goldfishRtc';
import { claimed, levels, pending, plicMip } from './dev/plic';
import {
  dll, dlm, fcr, ier, lcr, mcr, rxHead, rxTail, scr, threPending, txHead, txTail,
} from './dev/uart16550';
import { ramSize, tohostAddr } from './bus';

export const STATE_SCALARS: u32 = CoreScalar.Count;

/** Scalar i (CoreScalar) of the running machine. */
export function stateScalar(i: u32): u64 {
  switch (i) {
    case CoreScalar.HartCount: return st.hartCount;
    case CoreScalar.CurrentHart: return st.currentHart;
    case CoreScalar.Pc: return st.pc;
    case CoreScalar.Priv: return st.priv;
    case CoreScalar.Mstatus: return st.mstatus;
    case CoreScalar.Mtvec: return st.mtvec;
    case CoreScalar.Mepc: return st.mepc;
    case CoreScalar.Mcause: return st.mcause;
    case CoreScalar.Mtval: return st.mtval;
    case CoreScalar.Mscratch: return st.mscratch;
    case CoreScalar.Medeleg: return st.medeleg;
    case CoreScalar.Mideleg: return st.mideleg;
    case CoreScalar.Mie: return st.mie;
    case CoreScalar.Mip: return st.mip;
    case CoreScalar.Mcounteren: return st.mcounteren;
    case CoreScalar.Scounteren: return st.scounteren;
    case CoreScalar.Menvcfg: return st.menvcfg;
    case CoreScalar.Stimecmp: return st.stimecmp;
    case CoreScalar.Senvcfg: return st.senvcfg;
    case CoreScalar.Mcountinhibit: return st.mcountinhibit;
    case CoreScalar.Stvec: return st.stvec;
    case CoreScalar.Sepc: return st.sepc;
    case CoreScalar.Scause: return st.scause;
    case CoreScalar.Stval: return st.stval;
    case CoreScalar.Sscratch: return st.sscratch;
    case CoreScalar.Satp: return st.satp;
    case CoreScalar.Icount: return st.icount;
    case CoreScalar.CycleDelta: return st.cycleDelta;
    case CoreScalar.InstretDelta: return st.instretDelta;
    case CoreScalar.Frm: return st.frm;
    case CoreScalar.Fflags: return fflags;
    case CoreScalar.Reservation: return st.reservation;
    case CoreScalar.ReservationValue: return st.reservationValue;
    case CoreScalar.Pmpcfg0: return st.pmpcfg0;
    case CoreScalar.Pmpcfg2: return st.pmpcfg2;
    case CoreScalar.PendingCause: return st.pendingCause;
    case CoreScalar.PendingTval: return st.pendingTval;
    case CoreScalar.LastTrapCause: return st.lastTrapCause;
    case CoreScalar.LastTrapPc: return st.lastTrapPc;
    case CoreScalar.LastTrapTval: return st.lastTrapTval;
    case CoreScalar.TrapCount: return st.trapCount;
    case CoreScalar.Tselect: return tselect;
    case CoreScalar.MtimeBias: return mtimeBias;
    case CoreScalar.Mtimecmp: return mtimecmp;
    case CoreScalar.PlicLevels: return levels;
    case CoreScalar.PlicPending: return pending;
    case CoreScalar.PlicClaimed: return claimed;
    case CoreScalar.PlicMip: return plicMip;
    case CoreScalar.UartIer: return ier;
    case CoreScalar.UartLcr: return lcr;
    case CoreScalar.UartMcr: return mcr;
    case CoreScalar.UartScr: return scr;
    case CoreScalar.UartFcr: return fcr;
    case CoreScalar.UartDll: return dll;
    case CoreScalar.UartDlm: return dlm;
    case CoreScalar.UartThrePending: return threPending ? 1 : 0;
    case CoreScalar.UartRxHead: return rxHead;
    case CoreScalar.UartRxTail: return rxTail;
    case CoreScalar.UartTxHead: return txHead;
    case CoreScalar.UartTxTail: return txTail;
    case CoreScalar.Sleeping: return sleeping;
    case CoreScalar.QuantumLeft: return quantumLeft;
    case CoreScalar.HartSwitches: return hartSwitches;
    case CoreScalar.HartIdled: return hartIdled ? 1 : 0;
    case CoreScalar.StagesPending: return stagesPending;
    case CoreScalar.TrapLogHead: return trapLogHead;
    case CoreScalar.Tohost: return tohostAddr;
    case CoreScalar.RtcBaseNs: return rtcBaseNs;
    case CoreScalar.RtcTimeHigh: return rtcTimeHigh;
    case CoreScalar.RtcAlarm: return rtcAlarm;
    case CoreScalar.RtcAlarmHigh: return rtcAlarmHigh;
    case CoreScalar.RtcFlags: return rtcFlags;
    default: return 0;
  }
}

/**
 * Sets scalar i (CoreScalar). HartCount is the machine's shape, fixed at init(): the host
 * checks it and it is not written. Only between run() calls, followed by stateRestored().
 */
export function setStateScalar(i: u32, v: u64): void {
  switch (i) {
    case CoreScalar.CurrentHart: st.currentHart = <u32>v; break;
    case CoreScalar.Pc: st.pc = v; break;
    case CoreScalar.Priv: st.priv = <u32>v; break;
    case CoreScalar.Mstatus: st.mstatus = v; break;
    case CoreScalar.Mtvec: st.mtvec = v; break;
    case CoreScalar.Mepc: st.mepc = v; break;
    case CoreScalar.Mcause: st.mcause = v; break;
    case CoreScalar.Mtval: st.mtval = v; break;
    case CoreScalar.Mscratch: st.mscratch = v; break;
    case CoreScalar.Medeleg: st.medeleg = v; break;
    case CoreScalar.Mideleg: st.mideleg = v; break;
    case CoreScalar.Mie: st.mie = v; break;
    case CoreScalar.Mip: st.mip = v; break;
    case CoreScalar.Mcounteren: st.mcounteren = <u32>v; break;
    case CoreScalar.Scounteren: st.scounteren = <u32>v; break;
    case CoreScalar.Menvcfg: st.menvcfg = v; break;
    case CoreScalar.Stimecmp: st.stimecmp = v; break;
    case CoreScalar.Senvcfg: st.senvcfg = v; break;
    case CoreScalar.Mcountinhibit: st.mcountinhibit = <u32>v; break;
    case CoreScalar.Stvec: st.stvec = v; break;
    case CoreScalar.Sepc: st.sepc = v; break;
    case CoreScalar.Scause: st.scause = v; break;
    case CoreScalar.Stval: st.stval = v; break;
    case CoreScalar.Sscratch: st.sscratch = v; break;
    case CoreScalar.Satp: st.satp = v; break;
    case CoreScalar.Icount: st.icount = v; break;
    case CoreScalar.CycleDelta: st.cycleDelta = v; break;
    case CoreScalar.InstretDelta: st.instretDelta = v; break;
    case CoreScalar.Frm: st.frm = <u32>v; break;
    case CoreScalar.Fflags: fflags = <u32>v; break;
    case CoreScalar.Reservation: st.reservation = v; break;
    case CoreScalar.ReservationValue: st.reservationValue = v; break;
    case CoreScalar.Pmpcfg0: st.pmpcfg0 = v; break;
    case CoreScalar.Pmpcfg2: st.pmpcfg2 = v; break;
    case CoreScalar.PendingCause: st.pendingCause = v; break;
    case CoreScalar.PendingTval: st.pendingTval = v; break;
    case CoreScalar.LastTrapCause: st.lastTrapCause = v; break;
    case CoreScalar.LastTrapPc: st.lastTrapPc = v; break;
    case CoreScalar.LastTrapTval: st.lastTrapTval = v; break;
    case CoreScalar.TrapCount: st.trapCount = v; break;
    case CoreScalar.Tselect: tselect = <u32>v; break;
    case CoreScalar.MtimeBias: mtimeBias = v; break;
    case CoreScalar.Mtimecmp: mtimecmp = v; break;
    case CoreScalar.PlicLevels: levels = v; break;
    case CoreScalar.PlicPending: pending = v; break;
    case CoreScalar.PlicClaimed: claimed = v; break;
    case CoreScalar.PlicMip: plicMip = v; break;
    case CoreScalar.UartIer: ier = <u32>v; break;
    case CoreScalar.UartLcr: lcr = <u32>v; break;
    case CoreScalar.UartMcr: mcr = <u32>v; break;
    case CoreScalar.UartScr: scr = <u32>v; break;
    case CoreScalar.UartFcr: fcr = <u32>v; break;
    case CoreScalar.UartDll: dll = <u32>v; break;
    case CoreScalar.UartDlm: dlm = <u32>v; break;
    case CoreScalar.UartThrePending: threPending = v != 0; break;
    case CoreScalar.UartRxHead: rxHead = <u32>v; break;
    case CoreScalar.UartRxTail: rxTail = <u32>v; break;
    case CoreScalar.UartTxHead: txHead = <u32>v; break;
    case CoreScalar.UartTxTail: txTail = <u32>v; break;
    case CoreScalar.Sleeping: sleeping = <u32>v; break;
    case CoreScalar.QuantumLeft: quantumLeft = v; break;
    case CoreScalar.HartSwitches: hartSwitches = v; break;
    case CoreScalar.HartIdled: hartIdled = v != 0; break;
    case CoreScalar.StagesPending: stagesPending = <u32>v; break;
    case CoreScalar.TrapLogHead: trapLogHead = <u32>v; break;
    case CoreScalar.Tohost: tohostAddr = v; break;
    case CoreScalar.RtcBaseNs: rtcBaseNs = v; break;
    case CoreScalar.RtcTimeHigh: rtcTimeHigh = <u32>v; break;
    case CoreScalar.RtcAlarm: rtcAlarm = v; break;
    case CoreScalar.RtcAlarmHigh: rtcAlarmHigh = <u32>v; break;
    case CoreScalar.RtcFlags: rtcFlags = <u32>v; break;
    default: break;
  }
}

// The linear-memory regions of the state besides RAM, as (offset, length) pairs.
const REGION_COUNT: u32 = 7;
export const STATE_REGIONS: u32 = REGION_COUNT;

/** Region i: offset << 32 | length. */
export function stateRegion(i: u32): u64 {
  let offset: u32 = 0;
  let length: u32 = 0;
  switch (i) {
    // Register files, PLIC priorities, pmpaddr, trigger CSRs, boot stages, trap counters:
    // everything from the registers up to the decoded triggers (recomputed on restore).
    case 0: offset = REGS_OFFSET; length = TRIGGER_DECODED_OFFSET - REGS_OFFSET; break;
    // PLIC contexts and hart lines, CLINT per hart: from the PLIC's state to the CLINT's end.
    case 1:
      offset = TRIGGER_DECODED_OFFSET + TRIGGER_DECODED_SIZE;
      length = CLINT_STATE_OFFSET + CLINT_STATE_SIZE - offset;
      break;
    case 2: offset = UART_RX_OFFSET; length = UART_RX_SIZE; break;
    case 3: offset = HART_SAVE_OFFSET; length = HART_SAVE_SIZE * HART_SAVE_COUNT; break;
    case 4: offset = UART_TX_OFFSET; length = UART_TX_SIZE; break;
    case 5: offset = ROM_OFFSET; length = <u32>ROM_END; break;
    case 6: offset = TRAP_LOG_OFFSET; length = TRAP_LOG_ENTRIES * TRAP_RECORD_SIZE; break;
    default: break;
  }
  return (<u64>offset << 32) | <u64>length;
}

/**
 * After the host wrote every scalar and region: rebuild what is derived (the decoded guest
 * triggers) and drop the caches (TLBs, fetch page). Host triggers and breakpoints stay as
 * the host set them on this core.
 */
export function stateRestored(): void {
  triggersReload();
  tlbFlush();
}

/**
 * Whether RAM page `page` (4 KiB, from RAM's start) is all zero: the host leaves such pages
 * out of a state. Eight bytes at a time, here rather than in JavaScript, where a 128 MiB
 * scan costs ten times as long.
 */
export function statePageZero(page: u32): bool {
  const start = <usize>RAM_OFFSET + (<usize>page << 12);
  if ((<u64>page << 12) >= ramSize) return true;
  let acc: u64 = 0;
  for (let p = start; p < start + 4096; p += 64) {
    acc |= load<u64>(p) | load<u64>(p, 8) | load<u64>(p, 16) | load<u64>(p, 24) | load<u64>(p, 32) | load<u64>(p, 40) | load<u64>(p, 48) | load<u64>(p, 56);
    if (acc != 0) return false;
  }
  return true;
}
