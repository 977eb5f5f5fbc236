// The "sifive,test" finisher at TEST_BASE (machineMap.ts): one 32-bit register. Writing
// 0x5555 powers off (pass), 0x7777 resets, (code << 16) | 0x3333 powers off with a failure.
import { requestStop, STOP_FAIL, STOP_POWEROFF, STOP_REBOOT } from '../stop';

const FINISHER_FAIL: u32 = 0x3333;
const FINISHER_PASS: u32 = 0x5555;
const FINISHER_RESET: u32 = 0x7777;

export function sysconWrite(offset: u32, value: u64): void {
  if (offset != 0) return;
  const v = <u32>value;
  const status = v & 0xffff;
  if (status == FINISHER_PASS) requestStop(STOP_POWEROFF, 0);
  else if (status == FINISHER_RESET) requestStop(STOP_REBOOT, 0);
  else if (status == FINISHER_FAIL) requestStop(STOP_FAIL, <u64>(v >> 16));
}
