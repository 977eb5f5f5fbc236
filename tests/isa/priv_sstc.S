# Sstc (the supervisor timer compare, privileged spec ch. "Sstc"): menvcfg.STCE, the
# stimecmp CSR and who may reach it, mip.STIP following time >= stimecmp (read-only while
# STCE is on, M-writable again when it is off), and an S-mode timer interrupt raised by
# stimecmp and taken through stvec without any help from M.
#include "env/priv.h"

/* The assembler may predate the name: stimecmp by number. */
#define CSR_STIMECMP 0x14d
#define MENVCFG_STCE 0x8000000000000000
#define COUNTEREN_TM 0x2
/* csrr a0, stimecmp, as a word so the illegal-instruction checks know its bits. */
#define CSRR_A0_STIMECMP 0x14d02573

/* From M: lets S reach time and stimecmp (mcounteren.TM), delegates and enables the S
 * timer, enters S (whose traps resume at \resume), and there arms stimecmp \ticks ahead
 * with sstatus.SIE set. */
.macro S_TIMER_IN ticks, resume
  li t0, COUNTEREN_TM
  csrw mcounteren, t0
  li t0, MIP_STIP
  csrw mideleg, t0
  csrw mie, t0
  ENTER PRV_S, \resume
  rdtime t1
  addi t1, t1, \ticks
  csrw CSR_STIMECMP, t1
  csrsi sstatus, MSTATUS_SIE
.endm

TEST_BEGIN
  PRIV_INIT
  li t0, MSTATUS_MIE | MSTATUS_SIE
  csrc mstatus, t0

  # menvcfg.STCE is writable (bit 63).
  li gp, 1
  li t0, MENVCFG_STCE
  csrs menvcfg, t0
  csrr a0, menvcfg
  CHECK_BITS a0, MENVCFG_STCE, MENVCFG_STCE

  # With STCE, mip.STIP is time >= stimecmp: clear at the end of time, set at 0.
  li gp, 2
  li t0, -1
  csrw CSR_STIMECMP, t0
  csrr a0, CSR_STIMECMP
  CHECK a0, -1
  WAIT_MIP MIP_STIP, 0
  li gp, 3
  csrw CSR_STIMECMP, zero
  WAIT_MIP MIP_STIP, MIP_STIP
  # ... and M cannot clear it by writing mip.
  li gp, 4
  li t0, MIP_STIP
  csrc mip, t0
  csrr a0, mip
  CHECK_BITS a0, MIP_STIP, MIP_STIP
  li t0, -1
  csrw CSR_STIMECMP, t0
  WAIT_MIP MIP_STIP, 0

  # An S timer interrupt from stimecmp, all in S: S reads time (mcounteren.TM), sets
  # stimecmp a little ahead and waits with sstatus.SIE and sie.STIE; the interrupt goes to
  # stvec (delegated) with scause 0x8000000000000005. priv_strap then ecalls to M.
  li gp, 5
  S_TIMER_IN 200, 1f
2:
  wfi
  j 2b
1:
  CHECK_REC REC_SCOUNT, 1
  CHECK_REC REC_SCAUSE, IRQ_S_TIMER
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  li gp, 6
  csrr a0, mip
  CHECK_BITS a0, MIP_STIP, MIP_STIP
  # Moving stimecmp ahead lowers STIP again, from M as from S.
  li gp, 7
  li t0, -1
  csrw CSR_STIMECMP, t0
  WAIT_MIP MIP_STIP, 0
  csrw mie, zero
  csrw mideleg, zero

  # S may not touch stimecmp without mcounteren.TM ...
  li gp, 8
  csrw mcounteren, zero
  ENTER PRV_S, 1f
3:
  .word CSRR_A0_STIMECMP
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_ILLEGAL_INSTRUCTION
  CHECK_REC_ADDR REC_MEPC, 3b
  # ... nor without menvcfg.STCE, whatever mcounteren says.
  li gp, 9
  li t0, COUNTEREN_TM
  csrw mcounteren, t0
  li t0, MENVCFG_STCE
  csrc menvcfg, t0
  ENTER PRV_S, 1f
3:
  .word CSRR_A0_STIMECMP
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_ILLEGAL_INSTRUCTION
  CHECK_REC_ADDR REC_MEPC, 3b
  # U never may: stimecmp is a supervisor CSR.
  li gp, 10
  li t0, MENVCFG_STCE
  csrs menvcfg, t0
  li t0, -1
  csrw scounteren, t0
  ENTER PRV_U, 1f
3:
  .word CSRR_A0_STIMECMP
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_ILLEGAL_INSTRUCTION
  CHECK_REC_ADDR REC_MEPC, 3b

  # With STCE off, STIP belongs to M again: written and read back through mip.
  li gp, 11
  li t0, MENVCFG_STCE
  csrc menvcfg, t0
  li t0, MIP_STIP
  csrs mip, t0
  csrr a0, mip
  CHECK_BITS a0, MIP_STIP, MIP_STIP
  csrc mip, t0
  csrr a0, mip
  CHECK_BITS a0, MIP_STIP, 0
  csrw mcounteren, zero
  csrw scounteren, zero

  # The interrupt also comes while S is busy (no WFI): it arrives between two instructions
  # of the loop, wherever time reaches stimecmp.
  li gp, 12
  li t0, MENVCFG_STCE
  csrs menvcfg, t0
  S_TIMER_IN 300, 1f
  li a0, 0
2:
  addi a0, a0, 1
  j 2b
1:
  CHECK_REC REC_SCAUSE, IRQ_S_TIMER
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  li gp, 13
  beqz a0, fail
  li t0, -1
  csrw CSR_STIMECMP, t0
  csrw mie, zero
  csrw mideleg, zero
  csrw mcounteren, zero
TEST_END

PRIV_HANDLERS
