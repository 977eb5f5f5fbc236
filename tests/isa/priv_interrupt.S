# Interrupts (privileged spec 3.1.9, 3.3.3, 4.1.3): the machine timer and software
# interrupts of the CLINT, mip.MTIP following mtime >= mtimecmp, delegation of S-level
# interrupts through mideleg, the global enables of each mode (an interrupt for a more
# privileged mode is always enabled below it; one for a less privileged mode never is),
# priority between simultaneous interrupts, and wfi waking on a pending interrupt even
# when interrupts are globally disabled.
#include "env/priv.h"

/* Spins long enough for any pending, enabled interrupt to be taken. */
.macro SPIN
  li a5, 200
.Lspin\@:
  addi a5, a5, -1
  bnez a5, .Lspin\@
.endm

.macro SET_MTIMECMP value
  li t0, CLINT_MTIMECMP
  li t1, \value
  sd t1, 0(t0)
.endm

.macro SET_MSIP value
  li t0, CLINT_MSIP
  li t1, \value
  sw t1, 0(t0)
.endm

TEST_BEGIN
  PRIV_INIT
  li t0, MSTATUS_MIE | MSTATUS_SIE
  csrc mstatus, t0

  # mip.MTIP is mtime >= mtimecmp (3.2.1): clear for mtimecmp at the end of time, set
  # for mtimecmp = 0; it is read-only to csrw mip.
  li gp, 1
  SET_MTIMECMP -1
  WAIT_MIP MIP_MTIP, 0
  li gp, 2
  SET_MTIMECMP 0
  WAIT_MIP MIP_MTIP, MIP_MTIP
  li gp, 3
  li t0, MIP_MTIP
  csrc mip, t0
  csrr a0, mip
  CHECK_BITS a0, MIP_MTIP, MIP_MTIP
  SET_MTIMECMP -1
  WAIT_MIP MIP_MTIP, 0

  # A timer interrupt in the future, taken in M from wfi with MIE and MTIE: cause
  # 0x8000000000000007; mepc is the wfi or, once the hart has stalled there, the
  # instruction after it (3.3.3). The trap itself: MPIE <- 1, MIE <- 0, MPP <- M.
  li gp, 4
  REC_CLEAR
  M_RESUME 1f
  li t0, CLINT_MTIME
  ld t1, 0(t0)
  addi t1, t1, 100
  li t0, CLINT_MTIMECMP
  sd t1, 0(t0)
  li t0, MIP_MTIP
  csrw mie, t0
  li t0, MSTATUS_MIE
  csrs mstatus, t0
2:
  wfi
3:
  j 2b
1:
  CHECK_REC REC_MCAUSE, IRQ_M_TIMER
  CHECK_REC REC_MTVAL, 0
  CHECK_REC_BITS REC_MSTATUS, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP, MSTATUS_MPIE | MSTATUS_MPP
  li gp, 5
  la t1, 2b
  la t0, priv_rec
  ld t0, REC_MEPC(t0)
  beq t0, t1, 4f
  la t1, 3b
  bne t0, t1, fail_far
4:
  li gp, 6
  csrr a0, mip
  CHECK_BITS a0, MIP_MTIP, MIP_MTIP

  # Pending and enabled in mie but MIE = 0 in M: not taken (any trap fails).
  li gp, 7
  REC_CLEAR
  SPIN
  CHECK_REC REC_MCOUNT, 0

  # An M interrupt is taken in S whatever MIE says (3.1.6.1).
  li gp, 8
  li t0, MSTATUS_MPIE
  csrc mstatus, t0
  ENTER PRV_S, 1f
  SPIN
  ecall
1:
  CHECK_REC REC_MCAUSE, IRQ_M_TIMER
  CHECK_REC_BITS REC_MSTATUS, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP, MSTATUS_MPP_S
  li gp, 9
  SET_MTIMECMP -1
  WAIT_MIP MIP_MTIP, 0
  csrw mie, zero

  # Machine software interrupt: msip bit 0 is mip.MSIP.
  li gp, 10
  REC_CLEAR
  M_RESUME 1f
  SET_MSIP 1
  WAIT_MIP MIP_MSIP, MIP_MSIP
  li gp, 11
  li t0, CLINT_MSIP
  lw a0, 0(t0)
  CHECK a0, 1
  li gp, 12
  li t0, MIP_MSIP
  csrw mie, t0
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  SPIN
  j fail_far
1:
  CHECK_REC REC_MCAUSE, IRQ_M_SOFT
  li gp, 13
  SET_MSIP 0
  WAIT_MIP MIP_MSIP, 0

  # Priority (3.1.9): MEI, MSI, MTI, SEI, SSI, STI. The handler resumes with MIE = 0, so
  # each step sees the highest pending one, then removes it. MSI before MTI:
  li gp, 14
  SET_MSIP 1
  SET_MTIMECMP 0
  li t0, MIP_MSIP | MIP_MTIP | MIP_SSIP | MIP_STIP
  csrw mie, t0
  WAIT_MIP MIP_MSIP | MIP_MTIP, MIP_MSIP | MIP_MTIP
  REC_CLEAR
  M_RESUME 1f
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  SPIN
  j fail_far
1:
  CHECK_REC REC_MCAUSE, IRQ_M_SOFT
  li gp, 15
  SET_MSIP 0
  WAIT_MIP MIP_MSIP, 0
  # MTI before SSI (not delegated, so also M's). romvisor only: QEMU 7.2 without AIA
  # takes the pending interrupt with the lowest number, SSI.
  SKIP_ON_QEMU72 2f
  li t0, MIP_SSIP
  csrs mip, t0
2:
  REC_CLEAR
  M_RESUME 1f
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  SPIN
  j fail_far
1:
  CHECK_REC REC_MCAUSE, IRQ_M_TIMER
  li gp, 16
  SET_MTIMECMP -1
  WAIT_MIP MIP_MTIP, 0
  # SSI before STI; not delegated, S-level interrupts are taken in M with MIE.
  li t0, MIP_SSIP | MIP_STIP
  csrs mip, t0
  REC_CLEAR
  M_RESUME 1f
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  SPIN
  j fail_far
1:
  CHECK_REC REC_MCAUSE, IRQ_S_SOFT
  li gp, 17
  li t0, MIP_SSIP
  csrc mip, t0
  REC_CLEAR
  M_RESUME 1f
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  SPIN
  j fail_far
1:
  CHECK_REC REC_MCAUSE, IRQ_S_TIMER
  li t0, MIP_STIP
  csrc mip, t0
  csrw mie, zero

  # Delegated (mideleg), S-level interrupts go to stvec. The S handler records them and
  # ecalls to M. STIP set by M, S in S-mode with SIE = 1: scause 0x8000000000000005.
  li gp, 20
  li t0, MIP_SSIP | MIP_STIP
  csrw mideleg, t0
  csrr a0, mideleg
  CHECK_BITS a0, MIP_SSIP | MIP_STIP, MIP_SSIP | MIP_STIP
  li gp, 21
  li t0, MIP_SSIP | MIP_STIP
  csrw mie, t0
  li t0, MIP_STIP
  csrs mip, t0
  li t0, MSTATUS_SIE
  csrs mstatus, t0
  ENTER PRV_S, 1f
  SPIN
  ecall
1:
  CHECK_REC REC_SCOUNT, 1
  CHECK_REC REC_SCAUSE, IRQ_S_TIMER
  CHECK_REC REC_STVAL, 0
  # The trap into S: SPIE <- SIE (1), SIE <- 0, SPP <- S.
  CHECK_REC_BITS REC_SSTATUS, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP, MSTATUS_SPIE | MSTATUS_SPP
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  li t0, MIP_STIP
  csrc mip, t0

  # SSIP likewise: scause 0x8000000000000001.
  li gp, 22
  li t0, MIP_SSIP
  csrs mip, t0
  li t0, MSTATUS_SIE
  csrs mstatus, t0
  ENTER PRV_S, 1f
  SPIN
  ecall
1:
  CHECK_REC REC_SCOUNT, 1
  CHECK_REC REC_SCAUSE, IRQ_S_SOFT

  # A delegated interrupt is never taken in M, whatever MIE and SIE say (3.1.9). SSIP is
  # still pending.
  li gp, 23
  csrr a0, mip
  CHECK_BITS a0, MIP_SSIP, MIP_SSIP
  REC_CLEAR
  li t0, MSTATUS_MIE | MSTATUS_SIE
  csrs mstatus, t0
  SPIN
  li t0, MSTATUS_MIE
  csrc mstatus, t0
  CHECK_REC REC_MCOUNT, 0
  CHECK_REC REC_SCOUNT, 0

  # In S with SIE = 0 it waits; wfi returns for it (TW = 0) though it is disabled; S
  # clears its SSIP through sip (4.1.3).
  li gp, 24
  li t0, MSTATUS_SIE
  csrc mstatus, t0
  ENTER PRV_S, 1f
  SPIN
  wfi
  csrr a0, sip
  csrci sip, MIP_SSIP
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  CHECK_REC REC_SCOUNT, 0
  CHECK_BITS a0, MIP_SSIP, MIP_SSIP
  csrr a0, mip
  CHECK_BITS a0, MIP_SSIP, 0

  # In U it is taken even with SIE = 0 (3.1.6.1): SPP <- U, SPIE <- 0.
  li gp, 25
  li t0, MIP_SSIP
  csrs mip, t0
  ENTER PRV_U, 1f
  SPIN
  ecall
1:
  CHECK_REC REC_SCOUNT, 1
  CHECK_REC REC_SCAUSE, IRQ_S_SOFT
  CHECK_REC_BITS REC_SSTATUS, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP, 0
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  li t0, MIP_SSIP
  csrc mip, t0

  # An M interrupt beats a delegated S one in S-mode with SIE = 1: MTI goes to M.
  li gp, 26
  li t0, MIP_STIP
  csrs mip, t0
  SET_MTIMECMP 0
  WAIT_MIP MIP_MTIP, MIP_MTIP
  li t0, MIP_MTIP | MIP_STIP
  csrw mie, t0
  li t0, MSTATUS_SIE
  csrs mstatus, t0
  ENTER PRV_S, 1f
  SPIN
  ecall
1:
  CHECK_REC REC_MCAUSE, IRQ_M_TIMER
  CHECK_REC REC_SCOUNT, 0
  SET_MTIMECMP -1
  WAIT_MIP MIP_MTIP, 0
  li t0, MIP_STIP
  csrc mip, t0
  li t0, MSTATUS_SIE
  csrc mstatus, t0
  csrw mie, zero
  csrw mideleg, zero

  # wfi returns when an interrupt is pending and enabled in mie even with MIE = 0 (3.3.3),
  # and nothing is taken: first with MSIP already pending, then waiting for the timer.
  li gp, 30
  REC_CLEAR
  SET_MSIP 1
  WAIT_MIP MIP_MSIP, MIP_MSIP
  li t0, MIP_MSIP
  csrw mie, t0
  wfi
  CHECK_REC REC_MCOUNT, 0
  SET_MSIP 0
  WAIT_MIP MIP_MSIP, 0
  li gp, 31
  li t0, CLINT_MTIME
  ld t1, 0(t0)
  addi t1, t1, 100
  li t0, CLINT_MTIMECMP
  sd t1, 0(t0)
  li t0, MIP_MTIP
  csrw mie, t0
  wfi
  WAIT_MIP MIP_MTIP, MIP_MTIP
  CHECK_REC REC_MCOUNT, 0
  csrw mie, zero
  SET_MTIMECMP -1
  WAIT_MIP MIP_MTIP, 0
TEST_END

fail_far:
  j fail

PRIV_HANDLERS
