# The trigger module (debug spec 1.0, Sdtrig): tselect/tdata1/tdata2/tinfo, address-match
# triggers of type 2 (mcontrol) on execute, load and store, each raising a breakpoint
# exception (cause 3) before the instruction or access, the mode bits that choose where a
# trigger fires, several triggers at once, and a trigger turned off again. M-mode triggers
# fire with tcontrol.mte set: the spec's native-trigger guard holds them off in a trap
# handler (a trap into M clears mte, mret restores it from mpte), and S-mode ones while SIE
# is clear with breakpoints delegated to S (checked on romvisor only: QEMU 7.2 has neither
# tcontrol nor a guard).
#include "env/priv.h"

#define CSR_TSELECT 0x7a0
#define CSR_TDATA1  0x7a1
#define CSR_TDATA2  0x7a2
#define CSR_TINFO   0x7a4
#define CSR_TCONTROL 0x7a5
#define TCONTROL_MTE  0x08
#define TCONTROL_MPTE 0x80
/* mcontrol: type 2 in bits 63:60, then the mode and access bits. */
#define MC_TYPE2   0x2000000000000000
#define MC_M       0x40
#define MC_S       0x10
#define MC_U       0x08
#define MC_EXECUTE 0x4
#define MC_STORE   0x2
#define MC_LOAD    0x1

/* Arms trigger \sel: tdata1 = \control, tdata2 = the address of \label. Fails unless
 * tdata1 reads back as written (a trigger that cannot do this would test nothing). */
.macro ARM sel, control, label
  li t0, \sel
  csrw CSR_TSELECT, t0
  li t0, MC_TYPE2
  csrw CSR_TDATA1, t0
  la t0, \label
  csrw CSR_TDATA2, t0
  li a1, \control
  csrw CSR_TDATA1, a1
  csrr a0, CSR_TDATA1
  bne a0, a1, fail
.endm

/* M-mode triggers fire only with tcontrol.mte set (the native-trigger guard; QEMU 7.2 has
 * no tcontrol and no guard). A trap into M saves mte in mpte and clears it; priv_mtrap's
 * mret brings it back. */
.macro M_TRIGGERS_ON
  SKIP_ON_QEMU72 .Lmte\@
  csrsi CSR_TCONTROL, TCONTROL_MTE
.Lmte\@:
.endm

/* Turns trigger \sel off: an mcontrol that names no mode matches nothing. */
.macro DISARM sel
  li t0, \sel
  csrw CSR_TSELECT, t0
  li t0, MC_TYPE2
  csrw CSR_TDATA1, t0
.endm

/* The trap recorded was a breakpoint at \label (mtval, where the spec allows QEMU 7.2
 * another value, is checked on romvisor only: it holds the matched address). */
.macro CHECK_BREAK label, addr
  CHECK_REC REC_MCOUNT, 1
  CHECK_REC REC_MCAUSE, CAUSE_BREAKPOINT
  CHECK_REC_ADDR REC_MEPC, \label
  SKIP_ON_QEMU72 .Lskip\@
  CHECK_REC_ADDR REC_MTVAL, \addr
.Lskip\@:
.endm

TEST_BEGIN
  PRIV_INIT

  # tselect selects triggers 0 and 1 (at least); tinfo names type 2 (mcontrol).
  li gp, 1
  li t0, 1
  csrw CSR_TSELECT, t0
  csrr a0, CSR_TSELECT
  CHECK a0, 1
  csrw CSR_TSELECT, zero
  csrr a0, CSR_TSELECT
  CHECK a0, 0
  li gp, 2
  csrr a0, CSR_TINFO
  CHECK_BITS a0, 1 << 2, 1 << 2

  # Execute: the instruction at tdata2 traps before it runs (mepc = it).
  li gp, 3
  la t0, data1
  ld a2, 0(t0)            # data1's page may sit in the TLBs now
  ARM 0, MC_TYPE2 | MC_M | MC_EXECUTE, 3f
  REC_CLEAR
  M_TRIGGERS_ON
  M_RESUME 4f
  li a3, 0
3:
  li a3, 1                # must not run
4:
  CHECK a3, 0
  CHECK_BREAK 3b, 3b
  DISARM 0

  # Load: the load traps before it reads; a store to the same word does not trap; a load
  # of the next doubleword on the same page does not either (QEMU 7.2 watches 8 bytes from
  # tdata2 for an mcontrol of any size; the spec, the byte at tdata2).
  li gp, 4
  ARM 0, MC_TYPE2 | MC_M | MC_LOAD, data1
  REC_CLEAR
  M_TRIGGERS_ON
  M_RESUME 4f
  la a2, data1
  li a0, 7
3:
  lw a0, 0(a2)
4:
  CHECK a0, 7
  CHECK_BREAK 3b, data1
  li gp, 5
  REC_CLEAR
  li t0, 0x1234
  sw t0, 0(a2)
  lw a0, 8(a2)
  CHECK_REC REC_MCOUNT, 0

  # Store: the store traps and does not write.
  li gp, 6
  ARM 0, MC_TYPE2 | MC_M | MC_STORE, data1
  REC_CLEAR
  M_TRIGGERS_ON
  M_RESUME 4f
  li t0, 0x5678
3:
  sw t0, 0(a2)
4:
  CHECK_BREAK 3b, data1
  li gp, 7
  DISARM 0
  lw a0, 0(a2)
  CHECK a0, 0x1234

  # Two triggers at once: 0 on stores to data1, 1 on loads of data2; each fires.
  li gp, 8
  ARM 0, MC_TYPE2 | MC_M | MC_STORE, data1
  ARM 1, MC_TYPE2 | MC_M | MC_LOAD, data2
  la a3, data2
  REC_CLEAR
  M_TRIGGERS_ON
  M_RESUME 4f
3:
  ld a0, 0(a3)
4:
  CHECK_BREAK 3b, data2
  li gp, 9
  REC_CLEAR
  M_TRIGGERS_ON
  M_RESUME 4f
3:
  sd zero, 0(a2)
4:
  CHECK_BREAK 3b, data1
  DISARM 0
  DISARM 1

  # Mode bits: a load trigger for U only is quiet in M and fires in U.
  li gp, 10
  ARM 0, MC_TYPE2 | MC_U | MC_LOAD, data1
  REC_CLEAR
  lw a0, 0(a2)
  CHECK_REC REC_MCOUNT, 0
  li gp, 11
  ENTER PRV_U, 4f
3:
  lw a0, 0(a2)
  ecall
4:
  CHECK_BREAK 3b, data1
  # ... and one for S only is quiet in U.
  li gp, 12
  ARM 0, MC_TYPE2 | MC_S | MC_LOAD, data1
  ENTER PRV_U, 4f
  lw a0, 0(a2)
  ecall
4:
  CHECK_REC REC_MCOUNT, 1
  CHECK_REC REC_MCAUSE, CAUSE_USER_ECALL
  DISARM 0

  # Off again: the same execute, load and store run without a trap.
  li gp, 13
  REC_CLEAR
  lw a0, 0(a2)
  sw a0, 0(a2)
  ld a0, 0(a3)
  CHECK_REC REC_MCOUNT, 0

  # The native-trigger guard (romvisor only: QEMU 7.2 fires regardless). In M-mode with
  # tcontrol.mte clear, as in a trap handler, execute and load triggers stay quiet.
  SKIP_ON_QEMU72 .Lno_guard
  li gp, 14
  ARM 0, MC_TYPE2 | MC_M | MC_EXECUTE, 3f
  ARM 1, MC_TYPE2 | MC_M | MC_LOAD, data1
  csrci CSR_TCONTROL, TCONTROL_MTE
  REC_CLEAR
  li a3, 0
3:
  li a3, 1
  lw a0, 0(a2)
  CHECK a3, 1
  CHECK_REC REC_MCOUNT, 0
  DISARM 0
  DISARM 1
  # With breakpoints delegated to S (medeleg bit 3), an S-mode trigger is quiet while SIE
  # is clear ...
  li gp, 15
  li t0, 1 << CAUSE_BREAKPOINT
  csrs medeleg, t0
  ARM 0, MC_TYPE2 | MC_S | MC_LOAD, data1
  csrci mstatus, MSTATUS_SIE
  ENTER PRV_S, 4f
  lw a0, 0(a2)
  ecall
4:
  CHECK_REC REC_MCOUNT, 1
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  CHECK_REC REC_SCOUNT, 0
  # ... and fires, into S, with SIE set.
  li gp, 16
  csrsi mstatus, MSTATUS_SIE
  S_RESUME 5f
  ENTER PRV_S, 4f
3:
  lw a0, 0(a2)
5:
  ecall
4:
  CHECK_REC REC_SCOUNT, 1
  CHECK_REC REC_SCAUSE, CAUSE_BREAKPOINT
  CHECK_REC_ADDR REC_SEPC, 3b
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  csrw medeleg, zero
  csrci mstatus, MSTATUS_SIE
  DISARM 0
  # tcontrol keeps mte and mpte only; a trap into M moves mte to mpte and clears it, and
  # mret moves it back: after a trap taken with mte set, both read 1.
  li gp, 17
  li t0, -1
  csrw CSR_TCONTROL, t0
  csrr a0, CSR_TCONTROL
  CHECK a0, TCONTROL_MTE | TCONTROL_MPTE
  li t0, TCONTROL_MTE
  csrw CSR_TCONTROL, t0
  M_RESUME 4f
  ecall
4:
  csrr a0, CSR_TCONTROL
  CHECK a0, TCONTROL_MTE | TCONTROL_MPTE
  # Inside the handler, before its mret, mte is clear and mpte holds it: triggers are quiet there.
  li gp, 18
  li t0, TCONTROL_MTE
  csrw CSR_TCONTROL, t0
  la t0, 6f
  csrrw s1, mtvec, t0
  ecall
  .align 2
6:
  csrw mtvec, s1
  csrr a0, CSR_TCONTROL
  CHECK a0, TCONTROL_MPTE
  li gp, 17
  csrw CSR_TCONTROL, zero
  M_RESUME 4f
  ecall
4:
  csrr a0, CSR_TCONTROL
  CHECK a0, 0
.Lno_guard:
TEST_END

PRIV_HANDLERS

  .data
  .align 3
data1: .dword 0, 0
data2: .dword 0
