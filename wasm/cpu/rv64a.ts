// RV64A (unprivileged spec ch. 8): LR/SC with a reservation, and the AMOs. Atomics must be
// naturally aligned and in RAM (mmu.ts atomicHost). One hart, so every AMO is trivially
// atomic; the aq/rl bits need no action.
import { reservation, reservationValue } from './state';
import { atomicHost, memFault } from './mmu';
import { funct3, funct5, rd as rdOf, rs1, rs2 as rs2Of } from './fields';
import { getX, setX } from './regs';

const LR: u32 = 0x02;
const SC: u32 = 0x03;
const AMOSWAP: u32 = 0x01;
const AMOADD: u32 = 0x00;
const AMOXOR: u32 = 0x04;
const AMOAND: u32 = 0x0c;
const AMOOR: u32 = 0x08;
const AMOMIN: u32 = 0x10;
const AMOMAX: u32 = 0x14;
const AMOMINU: u32 = 0x18;
const AMOMAXU: u32 = 0x1c;

export const AMO_OK: u32 = 0;
export const AMO_TRAP: u32 = 1;
export const AMO_ILLEGAL: u32 = 2;

function amoOp(f5: u32, old: u64, src: u64, word: bool): u64 {
  // For .W forms old and src arrive sign-extended from 32 bits, so signed and unsigned
  // comparisons of the 64-bit values order the 32-bit values correctly.
  switch (f5) {
    case AMOSWAP: return src;
    case AMOADD: return old + src;
    case AMOXOR: return old ^ src;
    case AMOAND: return old & src;
    case AMOOR: return old | src;
    case AMOMIN: return <i64>old < <i64>src ? old : src;
    case AMOMAX: return <i64>old > <i64>src ? old : src;
    case AMOMINU: return (word ? <u32>old < <u32>src : old < src) ? old : src;
    case AMOMAXU: return (word ? <u32>old > <u32>src : old > src) ? old : src;
  }
  return 0;
}

export function execAmo(insn: u32): u32 {
  const f3 = funct3(insn);
  if (f3 != 2 && f3 != 3) return AMO_ILLEGAL;
  const word = f3 == 2;
  const size: u32 = word ? 4 : 8;
  const f5 = funct5(insn);
  const rd = rdOf(insn);
  const va = getX(rs1(insn));
  const rs2 = rs2Of(insn);

  if (f5 == LR) {
    if (rs2 != 0) return AMO_ILLEGAL;
    const h = atomicHost(va, size, true);
    if (memFault) return AMO_TRAP;
    const v = word ? <u64><i64>load<i32>(h) : load<u64>(h);
    reservation = va;
    reservationValue = v;
    setX(rd, v);
    return AMO_OK;
  }
  if (f5 == SC) {
    // As QEMU: the SC succeeds when it names the reserved address and memory still holds
    // the value the LR read. A failed SC performs no access, so it cannot fault.
    if (va != reservation) {
      reservation = <u64>-1;
      setX(rd, 1);
      return AMO_OK;
    }
    const h = atomicHost(va, size, false);
    if (memFault) return AMO_TRAP;
    const cur = word ? <u64><i64>load<i32>(h) : load<u64>(h);
    reservation = <u64>-1;
    if (cur != reservationValue) {
      setX(rd, 1);
      return AMO_OK;
    }
    if (word) store<u32>(h, <u32>getX(rs2));
    else store<u64>(h, getX(rs2));
    setX(rd, 0);
    return AMO_OK;
  }
  switch (f5) {
    case AMOSWAP: case AMOADD: case AMOXOR: case AMOAND: case AMOOR:
    case AMOMIN: case AMOMAX: case AMOMINU: case AMOMAXU:
      break;
    default:
      return AMO_ILLEGAL;
  }
  const h = atomicHost(va, size, false);
  if (memFault) return AMO_TRAP;
  const src = word ? <u64><i64><i32>getX(rs2) : getX(rs2);
  const old = word ? <u64><i64>load<i32>(h) : load<u64>(h);
  const v = amoOp(f5, old, src, word);
  if (word) store<u32>(h, <u32>v);
  else store<u64>(h, v);
  setX(rd, old);
  return AMO_OK;
}
