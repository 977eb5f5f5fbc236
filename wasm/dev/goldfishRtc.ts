// The "google,goldfish-rtc" real-time clock at RTC_BASE, PLIC source RTC_IRQ (machineMap.ts),
// as QEMU's virt machine has it: 32-bit registers, time in nanoseconds since 1970. Reading
// TIME_LOW latches the high half, so TIME_LOW then TIME_HIGH (Linux's order) is one instant.
//
// Its time is a function of mtime, as every clock here is: rtcBaseNs + mtime * 100 ns (mtime
// runs at 10 MHz). The host sets rtcBaseNs at power-on: the host's wall clock in realtime, a
// fixed date in deterministic time (so replays print the same `date`). A guest that writes
// TIME_LOW or TIME_HIGH (`hwclock --systohc`) moves the base, as QEMU moves its offset.
//
// The alarm registers hold what the guest writes and ALARM_STATUS says whether one is set,
// but the alarm never raises RTC_IRQ: that would need a second deadline in the run loop
// beside mtimecmp, and nothing the project boots sets an RTC alarm (Linux reads the time
// at boot; `rtcwake` is the user of alarms). The source stays low.
import { TIMEBASE_HZ } from '../machineMap';
import { mtime } from './clint';

const TIME_LOW: u32 = 0x00;
const TIME_HIGH: u32 = 0x04;
const ALARM_LOW: u32 = 0x08;
const ALARM_HIGH: u32 = 0x0c;
const IRQ_ENABLED: u32 = 0x10;
const CLEAR_ALARM: u32 = 0x14;
const ALARM_STATUS: u32 = 0x18;

const NS_PER_TICK: u64 = 1_000_000_000 / TIMEBASE_HZ;

// Exported for the machine state (wasm/machineState.ts) and the host's setRtcBase only.
/** Nanoseconds since 1970 at mtime 0. */
export let rtcBaseNs: u64 = 0;
/** TIME_HIGH as latched by the last TIME_LOW read. */
export let rtcTimeHigh: u32 = 0;
/** The alarm (ns), ALARM_HIGH as written before its ALARM_LOW. */
export let rtcAlarm: u64 = 0;
export let rtcAlarmHigh: u32 = 0;
/** Bit 0: IRQ_ENABLED; bit 1: an alarm is set. */
export let rtcFlags: u32 = 0;

const FLAG_IRQ: u32 = 1;
const FLAG_ARMED: u32 = 2;

function nowNs(): u64 {
  return rtcBaseNs + mtime() * NS_PER_TICK;
}

/** Host: what the clock reads at mtime 0 (power-on, or a realtime restore). */
export function setRtcBase(ns: u64): void {
  rtcBaseNs = ns;
}

export function rtcRead(offset: u32): u32 {
  if (offset == TIME_LOW) {
    const t = nowNs();
    rtcTimeHigh = <u32>(t >> 32);
    return <u32>t;
  }
  if (offset == TIME_HIGH) return rtcTimeHigh;
  if (offset == ALARM_LOW) return <u32>rtcAlarm;
  if (offset == ALARM_HIGH) return <u32>(rtcAlarm >> 32);
  if (offset == IRQ_ENABLED) return rtcFlags & FLAG_IRQ;
  if (offset == ALARM_STATUS) return (rtcFlags & FLAG_ARMED) != 0 ? 1 : 0;
  return 0;
}

export function rtcWrite(offset: u32, value: u32): void {
  if (offset == TIME_LOW || offset == TIME_HIGH) {
    // Replace one half of the current time; the base moves by the difference.
    const now = nowNs();
    const set = offset == TIME_LOW ? (now & 0xffff_ffff_0000_0000) | <u64>value : (now & 0xffff_ffff) | (<u64>value << 32);
    rtcBaseNs += set - now;
  } else if (offset == ALARM_HIGH) {
    rtcAlarmHigh = value;
  } else if (offset == ALARM_LOW) {
    rtcAlarm = (<u64>rtcAlarmHigh << 32) | <u64>value;
    rtcFlags |= FLAG_ARMED;
  } else if (offset == IRQ_ENABLED) {
    rtcFlags = (rtcFlags & ~FLAG_IRQ) | (value & FLAG_IRQ);
  } else if (offset == CLEAR_ALARM) {
    rtcFlags &= ~FLAG_ARMED;
  }
  // CLEAR_INTERRUPT (0x1c): the interrupt is never raised (see above), so there is nothing to clear.
}

export function rtcReset(): void {
  // The base is the host's (setRtcBase), kept across a guest reboot as a wall clock is.
  rtcTimeHigh = 0;
  rtcAlarm = 0;
  rtcAlarmHigh = 0;
  rtcFlags = 0;
}
