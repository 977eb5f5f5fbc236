// Boot stages as the machine sees them, for the boot timeline: each is recorded once, at
// the instruction count where it is first reached, from events the hart itself produces
// (never from console text). All hooks sit on slow paths: a privilege change, a fetch-page
// refill, a satp write, a WFI.
import { STAGE_COUNT, STAGE_OFFSET } from '../layout';
import { BootStageId } from '../machineMap';
import { icount } from './state';

export const STAGE_POWER_ON: u32 = BootStageId.PowerOn; // reset: the first instruction, in the reset ROM
export const STAGE_FIRMWARE: u32 = BootStageId.Firmware; // the first instruction fetched from RAM (M-mode firmware)
export const STAGE_KERNEL: u32 = BootStageId.Kernel; // the first S-mode instruction
export const STAGE_PAGING: u32 = BootStageId.Paging; // the first satp write that turns translation on
export const STAGE_USER: u32 = BootStageId.User; // the first U-mode instruction (init)
export const STAGE_IDLE_USER: u32 = BootStageId.IdleUser; // the first WFI after user mode started (the shell waits for input)

/** Stages not yet reached, as a bit mask, so a hook costs one test once all are in. */
export let stagesPending: u32 = 0;

export function resetStages(): void {
  for (let i: u32 = 0; i < STAGE_COUNT; i++) store<u64>(STAGE_OFFSET + (i << 3), <u64>-1);
  store<u64>(STAGE_OFFSET + (STAGE_POWER_ON << 3), 0);
  stagesPending = ((1 << STAGE_COUNT) - 1) & ~(1 << STAGE_POWER_ON);
}

@inline export function markStage(stage: u32): void {
  if (stagesPending & (1 << stage)) {
    stagesPending &= ~(1 << stage);
    store<u64>(STAGE_OFFSET + (stage << 3), icount);
  }
}

export function stageReached(stage: u32): bool {
  return (stagesPending & (1 << stage)) == 0;
}
