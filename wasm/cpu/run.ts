// The interpreter's hot loop. One function, one dense switch on the major opcode, the
// base integer ISA and M inline; A, F/D arithmetic and SYSTEM out of line (rare, or
// heavy enough that a call does not matter).
//
// Tricks, all for speed:
// - Compressed instructions are expanded through a 64K-entry table (rvc.ts), so there is
//   one decoder; ilen remembers the real length.
// - The current fetch page is cached in two locals (virtual page, host page); a fetch is
//   a compare and a load. Any call that may change translation reloads them.
// - Loads and stores go through the TLB inline (see mmu.ts for the tag trick); a miss,
//   a device, a fault or a misaligned access goes to the slow path.
// - x0 is written like any register (setXAny) and zeroed again before every instruction,
//   which is cheaper than testing rd on every write.
// - Fields are extracted with the accessors of fields.ts, which the JIT shares.
// - The budget and interrupts are checked per block, not per instruction: a block ends at
//   the budget, at the next timer deadline, or after any instruction that may change
//   interrupt state (machine.ts runs blocks).
// - A fault never unwinds: the slow path sets pendingCause/pendingTval and returns, and the
//   loop takes the trap and continues at the handler.
// - With the JIT on (jit.ts), runBlock alternates between compiled code and the
//   interpreter within one block: the interpreter stops after a taken jump inside a page
//   that has code (or just became hot), or before the first instruction of such a page it
//   arrives at from elsewhere (a fetch that leaves the cached fetch page); compiled code
//   returns where it cannot go on. The interpreter keeps the fetch page's JIT record in a
//   local (0 with the JIT off, or off RAM), so a taken jump costs one test of a local.
import { TLB_LOAD, TLB_STORE } from '../layout';
import {
  CAUSE_HOST_STOP, CAUSE_ILLEGAL_INSTRUCTION, MSTATUS_FS, icount, mstatus, pc as hartPc, pendingCause,
  pendingTval,
} from './state';
import { JIT_ENDED, JIT_TRAP, jitSteps, jitArrive, jitEnter, jitExit, jitHotJump, jitOn, jitRecordAt, jitYielded } from './jit';
import { breakHit, breakpointPc, fetchPageHost, fetchPageVa, fetchSlow, loadSlow, memFault, storeSlow, TLB_MASK } from './mmu';
import { takeTrap } from './trap';
import { div, divu, divuw, divw, mulh, mulhsu, mulhu, rem, remu, remuw, remw } from './rv64m';
import { AMO_OK, execAmo } from './rv64a';
import { execSystem, SYS_JUMP, SYS_NEXT, SYS_TRAP, sysTarget } from './system';
import { execFma, execOpFp, fpEnabled, FP_OK } from './fpu';
import { blockEnd } from '../stop';
import {
  funct3, funct6, funct7, ILLEGAL, immB, immI, immJ, immS, immU, opcode, rd as rdOf, rs1 as rs1Of,
  rs2 as rs2Of, shamt, shamtW,
} from './fields';
import { clearX0, getF, getX, setF, setXAny } from './regs';
import { expanded } from './rvc';

@inline function sext32(v: u64): u64 {
  return <u64><i64><i32>v;
}

/** Host address for an access of (sizeMask + 1) bytes at va if the TLB maps it, else 0. */
@inline function tlbHit(tlb: u32, va: u64, sizeMask: u64): usize {
  const e = tlb + ((<u32>(va >> 12) & TLB_MASK) << 4);
  if (load<u64>(e) == (va & ~(<u64>0xfff ^ sizeMask))) return <usize>(va + load<u64>(e, 8));
  return 0;
}

/**
 * Executes at most `limit` instructions from hartPc, stopping early after an instruction
 * that ends the block or requests a stop. Returns the number executed (each counts
 * whether it retired or trapped) and leaves hartPc and icount up to date.
 */
export function runBlock(limit: u64): u64 {
  if (!jitOn) return interpret(limit);
  let n: u64 = 0;
  // The breakpoint's page never runs compiled code: its fetches must reach fetchSlow.
  const bpPage = breakpointPc >> 12;
  let resume = true;
  while (true) {
    const base = icount;
    const k = jitEnter(limit - n, bpPage, resume);
    resume = false;
    n += k;
    icount = base + k;
    if (jitExit == JIT_TRAP) {
      memFault = false;
      // A debugger's watchpoint: the instruction has not run and does not count.
      if (pendingCause == CAUSE_HOST_STOP) break;
      // As the interpreter's trap exit: the faulting instruction counts.
      hartPc = takeTrap(pendingCause, pendingTval, hartPc);
      n++;
      icount = base + k + 1;
      if (blockEnd) break;
    } else if (jitExit == JIT_ENDED) {
      break;
    }
    if (n >= limit) break;
    // Compiled code left its page (a call, a return, a jump) or trapped: the next page
    // may have code too, so try it before the interpreter.
    if (k != 0 || jitExit == JIT_TRAP) continue;
    jitYielded = false;
    n += interpret(limit - n);
    if (!jitYielded || n >= limit) break;
  }
  return n;
}

/** Set where the interpreter ends its block after an instruction (a store that set
 *  blockEnd, SYSTEM): jitStep tells compiled code to end its block there too. */
let stepEnded: bool = false;

/**
 * Compiled code hands the one instruction at pc that it does not translate (A, F/D, SYSTEM)
 * to the interpreter. The caller has set icount and written its registers back. Returns
 * 1 if the block ends after it, as the interpreter's would; hartPc is where to go on.
 */
export function jitStep(pc: u64): u32 {
  jitSteps++;
  hartPc = pc;
  stepEnded = false;
  interpret(1);
  return stepEnded || blockEnd ? 1 : 0;
}

/**
 * Compiled code's OP-FP and FMA: executes insn (registers are in memory). 0 if it is
 * illegal (nothing changed): compiled code then returns and the interpreter raises it.
 */
export function jitFp(insn: u32): u32 {
  // The interpreter may have left x0 written (it zeroes it before each instruction, not
  // after), and fcvt/fmv from x0 read it from memory.
  clearX0();
  const r = opcode(insn) == 0x53 ? execOpFp(insn) : execFma(insn);
  return r == FP_OK ? 1 : 0;
}

/** The interpreter: runBlock's contract. With the JIT on it also stops (jitYielded) after
 *  a taken jump to code that compiled code should run. */
function interpret(limit: u64): u64 {
  let pc = hartPc;
  let fva = fetchPageVa;
  let fhost = fetchPageHost;
  // The JIT record of the fetch page (0: no JIT, not RAM, or pc is not in it).
  let jrec = jitRecordAt(pc, fva, fhost);
  const base = icount;
  let end = limit;
  let n: u64 = 0;
  for (; n < end; n++) {
    clearX0();

    // --- fetch ---
    let insn: u32;
    const off = <u32>pc & 0xfff;
    if ((pc & ~<u64>0xfff) == fva && off != 0xffe) {
      insn = load<u32>(fhost + off);
    } else {
      icount = base + n;
      insn = fetchSlow(pc);
      if (breakHit) {
        breakHit = false;
        break; // stop before the instruction at the breakpoint runs
      }
      // On a fetch fault insn is ILLEGAL, which no case matches: it goes to the trap exit.
      fva = fetchPageVa;
      fhost = fetchPageHost;
      jrec = jitRecordAt(pc, fva, fhost);
      // Arrived in a page from elsewhere: if it has code (or just became hot), stop before
      // its first instruction and let compiled code run it. Not as the first instruction
      // (runBlock's compiled code just declined it: no progress otherwise), nor on a fault.
      if (jrec != 0 && n != 0 && !memFault && jitArrive(jrec, pc)) {
        jitYielded = true;
        break;
      }
    }
    let ilen: u64 = 4;
    const raw = insn;
    if ((insn & 3) != 3) {
      insn = expanded(insn);
      ilen = 2;
    }

    // --- decode: fields every format shares ---
    const rd = rdOf(insn);
    const rs1 = rs1Of(insn);
    const rs2 = rs2Of(insn);
    const f3 = funct3(insn);
    const iImm = <u64>immI(insn);

    switch (opcode(insn)) {
      case 0x37: // LUI
        setXAny(rd, <u64>immU(insn));
        pc += ilen;
        continue;
      case 0x17: // AUIPC
        setXAny(rd, pc + <u64>immU(insn));
        pc += ilen;
        continue;
      case 0x6f: // JAL
        setXAny(rd, pc + ilen);
        pc += <u64>immJ(insn);
        if (jrec != 0 && (pc & ~<u64>0xfff) == fva && jitHotJump(jrec)) { jitYielded = true; end = n + 1; }
        continue;
      case 0x67: { // JALR
        if (f3 != 0) break; // falls to illegal below
        const target = (getX(rs1) + iImm) & ~<u64>1;
        setXAny(rd, pc + ilen);
        pc = target;
        if (jrec != 0 && (pc & ~<u64>0xfff) == fva && jitHotJump(jrec)) { jitYielded = true; end = n + 1; }
        continue;
      }
      case 0x63: { // BRANCH
        const a = getX(rs1), b = getX(rs2);
        let taken: bool;
        switch (f3) {
          case 0: taken = a == b; break; // BEQ
          case 1: taken = a != b; break; // BNE
          case 4: taken = <i64>a < <i64>b; break; // BLT
          case 5: taken = <i64>a >= <i64>b; break; // BGE
          case 6: taken = a < b; break; // BLTU
          case 7: taken = a >= b; break; // BGEU
          default: insn = ILLEGAL; taken = false; // reserved: illegal below
        }
        if (insn == ILLEGAL) break;
        if (taken) {
          pc += <u64>immB(insn);
          if (jrec != 0 && (pc & ~<u64>0xfff) == fva && jitHotJump(jrec)) { jitYielded = true; end = n + 1; }
          continue;
        }
        pc += ilen;
        continue;
      }
      case 0x03: { // LOAD
        const va = getX(rs1) + iImm;
        let v: u64;
        const h = tlbHit(TLB_LOAD, va, (<u64>1 << (f3 & 3)) - 1);
        if (h != 0) {
          switch (f3) {
            case 0: v = <u64><i64>load<i8>(h); break; // LB
            case 1: v = <u64><i64>load<i16>(h); break; // LH
            case 2: v = <u64><i64>load<i32>(h); break; // LW
            case 3: v = load<u64>(h); break; // LD
            case 4: v = <u64>load<u8>(h); break; // LBU
            case 5: v = <u64>load<u16>(h); break; // LHU
            case 6: v = <u64>load<u32>(h); break; // LWU
            default: insn = ILLEGAL; v = 0;
          }
        } else {
          if (f3 == 7) {
            insn = ILLEGAL;
            break;
          }
          icount = base + n;
          v = loadSlow(va, 1 << (f3 & 3));
          if (memFault) break;
          if (f3 == 0) v = <u64><i64><i8>v;
          else if (f3 == 1) v = <u64><i64><i16>v;
          else if (f3 == 2) v = sext32(v);
        }
        if (insn == ILLEGAL) break;
        setXAny(rd, v);
        pc += ilen;
        continue;
      }
      case 0x23: { // STORE
        if (f3 > 3) break;
        const va = getX(rs1) + <u64>immS(insn);
        const v = getX(rs2);
        const h = tlbHit(TLB_STORE, va, (<u64>1 << f3) - 1);
        if (h != 0) {
          switch (f3) {
            case 0: store<u8>(h, <u8>v); break; // SB
            case 1: store<u16>(h, <u16>v); break; // SH
            case 2: store<u32>(h, <u32>v); break; // SW
            default: store<u64>(h, v); // SD
          }
        } else {
          icount = base + n;
          storeSlow(va, 1 << f3, v);
          if (memFault) break;
          if (blockEnd) {
            blockEnd = false;
            end = n + 1;
            stepEnded = true;
          }
        }
        pc += ilen;
        continue;
      }
      case 0x13: { // OP-IMM
        const a = getX(rs1);
        switch (f3) {
          case 0: setXAny(rd, a + iImm); break; // ADDI
          case 2: setXAny(rd, <i64>a < <i64>iImm ? 1 : 0); break; // SLTI
          case 3: setXAny(rd, a < iImm ? 1 : 0); break; // SLTIU
          case 4: setXAny(rd, a ^ iImm); break; // XORI
          case 6: setXAny(rd, a | iImm); break; // ORI
          case 7: setXAny(rd, a & iImm); break; // ANDI
          case 1: // SLLI
            if (funct6(insn) != 0) { insn = ILLEGAL; break; }
            setXAny(rd, a << shamt(insn));
            break;
          default: { // SRLI / SRAI
            const f6 = funct6(insn);
            if (f6 == 0) setXAny(rd, a >> shamt(insn));
            else if (f6 == 0x10) setXAny(rd, <u64>(<i64>a >> <i64>shamt(insn)));
            else insn = ILLEGAL;
          }
        }
        if (insn == ILLEGAL) break;
        pc += ilen;
        continue;
      }
      case 0x1b: { // OP-IMM-32
        const a = getX(rs1);
        const sh = shamtW(insn);
        const f7 = funct7(insn);
        if (f3 == 0) setXAny(rd, sext32(a + iImm)); // ADDIW
        else if (f3 == 1 && f7 == 0) setXAny(rd, sext32(a << sh)); // SLLIW
        else if (f3 == 5 && f7 == 0) setXAny(rd, <u64><i64><i32>(<u32>a >> sh)); // SRLIW
        else if (f3 == 5 && f7 == 0x20) setXAny(rd, <u64><i64>(<i32>a >> sh)); // SRAIW
        else break;
        pc += ilen;
        continue;
      }
      case 0x33: { // OP
        const a = getX(rs1), b = getX(rs2);
        const f7 = funct7(insn);
        let v: u64 = 0;
        if (f7 == 0) {
          switch (f3) {
            case 0: v = a + b; break; // ADD
            case 1: v = a << (b & 63); break; // SLL
            case 2: v = <i64>a < <i64>b ? 1 : 0; break; // SLT
            case 3: v = a < b ? 1 : 0; break; // SLTU
            case 4: v = a ^ b; break; // XOR
            case 5: v = a >> (b & 63); break; // SRL
            case 6: v = a | b; break; // OR
            default: v = a & b; // AND
          }
        } else if (f7 == 0x20) {
          if (f3 == 0) v = a - b; // SUB
          else if (f3 == 5) v = <u64>(<i64>a >> <i64>(b & 63)); // SRA
          else break;
        } else if (f7 == 1) {
          switch (f3) {
            case 0: v = a * b; break; // MUL
            case 1: v = mulh(a, b); break; // MULH
            case 2: v = mulhsu(a, b); break; // MULHSU
            case 3: v = mulhu(a, b); break; // MULHU
            case 4: v = div(a, b); break; // DIV
            case 5: v = divu(a, b); break; // DIVU
            case 6: v = rem(a, b); break; // REM
            default: v = remu(a, b); // REMU
          }
        } else break;
        setXAny(rd, v);
        pc += ilen;
        continue;
      }
      case 0x3b: { // OP-32
        const a = getX(rs1), b = getX(rs2);
        const f7 = funct7(insn);
        let v: u64 = 0;
        if (f7 == 0) {
          if (f3 == 0) v = sext32(a + b); // ADDW
          else if (f3 == 1) v = sext32(a << (b & 31)); // SLLW
          else if (f3 == 5) v = <u64><i64><i32>(<u32>a >> <u32>(b & 31)); // SRLW
          else break;
        } else if (f7 == 0x20) {
          if (f3 == 0) v = sext32(a - b); // SUBW
          else if (f3 == 5) v = <u64><i64>(<i32>a >> <i32>(b & 31)); // SRAW
          else break;
        } else if (f7 == 1) {
          switch (f3) {
            case 0: v = sext32(a * b); break; // MULW
            case 4: v = divw(a, b); break; // DIVW
            case 5: v = divuw(a, b); break; // DIVUW
            case 6: v = remw(a, b); break; // REMW
            case 7: v = remuw(a, b); break; // REMUW
            default: insn = ILLEGAL; v = 0;
          }
          if (insn == ILLEGAL) break;
        } else break;
        setXAny(rd, v);
        pc += ilen;
        continue;
      }
      case 0x0f: // MISC-MEM: FENCE, FENCE.I. One hart interpreting straight from RAM: no-ops.
        if (f3 > 1) break;
        pc += ilen;
        continue;
      case 0x07: { // LOAD-FP: FLW, FLD
        if ((f3 != 2 && f3 != 3) || !fpEnabled()) break;
        const va = getX(rs1) + iImm;
        let v: u64;
        const h = tlbHit(TLB_LOAD, va, f3 == 2 ? 3 : 7);
        if (h != 0) {
          v = f3 == 2 ? <u64>load<u32>(h) : load<u64>(h);
        } else {
          icount = base + n;
          v = loadSlow(va, f3 == 2 ? 4 : 8);
          if (memFault) break;
        }
        setF(rd, f3 == 2 ? v | 0xffffffff00000000 : v);
        mstatus |= MSTATUS_FS;
        pc += ilen;
        continue;
      }
      case 0x27: { // STORE-FP: FSW, FSD
        if ((f3 != 2 && f3 != 3) || !fpEnabled()) break;
        const va = getX(rs1) + <u64>immS(insn);
        const v = getF(rs2);
        const h = tlbHit(TLB_STORE, va, f3 == 2 ? 3 : 7);
        if (h != 0) {
          if (f3 == 2) store<u32>(h, <u32>v);
          else store<u64>(h, v);
        } else {
          icount = base + n;
          storeSlow(va, f3 == 2 ? 4 : 8, v);
          if (memFault) break;
          if (blockEnd) {
            blockEnd = false;
            end = n + 1;
            stepEnded = true;
          }
        }
        pc += ilen;
        continue;
      }
      case 0x43: case 0x47: case 0x4b: case 0x4f: // FMADD, FMSUB, FNMSUB, FNMADD
        if (execFma(insn) != FP_OK) break;
        pc += ilen;
        continue;
      case 0x53: // OP-FP
        if (execOpFp(insn) != FP_OK) break;
        pc += ilen;
        continue;
      case 0x2f: { // AMO
        const r = execAmo(insn);
        if (r == AMO_OK) {
          pc += ilen;
          continue;
        }
        break; // AMO_ILLEGAL, or a fault with memFault set
      }
      case 0x73: { // SYSTEM
        icount = base + n;
        const r = execSystem(insn, pc);
        if (r == SYS_NEXT) {
          pc += ilen;
          continue;
        }
        end = n + 1; // every other outcome may change interrupts or translation
        stepEnded = true;
        if (r == SYS_TRAP) {
          memFault = true; // execSystem set pendingCause / pendingTval
          break;
        }
        pc = r == SYS_JUMP ? sysTarget : pc + ilen;
        fva = fetchPageVa;
        fhost = fetchPageHost;
        jrec = jitRecordAt(pc, fva, fhost);
        continue;
      }
    }
    // The one trap exit: every path that did not `continue` above raised an exception.
    // Without a pending fault it is an illegal instruction; mtval holds the instruction as
    // fetched (16 bits for a compressed one), as QEMU reports it.
    let cause = <u64>CAUSE_ILLEGAL_INSTRUCTION;
    let tval = <u64>(ilen == 2 ? raw & 0xffff : raw);
    if (memFault) {
      memFault = false;
      cause = pendingCause;
      tval = pendingTval;
      // A debugger's watchpoint stops before the access: the instruction has not run, so
      // it does not count (it runs, and counts, once resumed).
      if (cause == <u64>CAUSE_HOST_STOP) break;
    }
    icount = base + n;
    pc = takeTrap(cause, tval, pc);
    if (blockEnd) end = n + 1; // a debugger asked to stop at this trap
    fva = fetchPageVa;
    fhost = fetchPageHost;
    jrec = jitRecordAt(pc, fva, fhost);
  }
  hartPc = pc;
  icount = base + n;
  return n;
}
