# Traps between privilege modes (privileged spec 3.1.6-3.1.8, 3.3, 4.1.1): mret/sret into
# S and U with the exact mstatus transitions, ecall causes from U/S/M, medeleg delegation
# to an S-mode handler, instructions that are illegal below M (and with TSR/TW/TVM),
# counter gating by mcounteren/scounteren, and mtvec's vectored mode.
#
# mtval of an illegal instruction is checked as "0 or the instruction bits": the spec
# (3.1.16) allows either; both machines report the bits.
#include "env/priv.h"

# The instruction bits of what U and S try (checked against mtval).
#define CSRR_A0_MSTATUS   0x30002573
#define CSRR_A0_SSTATUS   0x10002573
#define CSRW_MSCRATCH_A1  0x34059073
#define CSRR_A0_SATP      0x18002573
#define CSRW_SATP_ZERO    0x18001073
#define CSRW_MHARTID_ZERO 0xf1401073
#define INSN_MRET         0x30200073
#define INSN_SRET         0x10200073
#define INSN_WFI          0x10500073
#define INSN_SFENCE_VMA   0x12000073
#define RDCYCLE_A0        0xc0002573
#define RDTIME_A0         0xc0102573
#define RDINSTRET_A0      0xc0202573

# Runs \bits in \mode; it must raise an illegal-instruction exception that M takes, with
# mepc at it and mtval 0 or \bits.
.macro ILLEGAL_IN num, mode, bits
  li gp, \num
  ENTER \mode, .Lill_done\@
.Lill_at\@:
  .word \bits
  ecall
.Lill_done\@:
  CHECK_REC REC_MCAUSE, CAUSE_ILLEGAL_INSTRUCTION
  CHECK_REC_ADDR REC_MEPC, .Lill_at\@
  CHECK_REC_ILLEGAL_TVAL REC_MTVAL, \bits
.endm

# Runs \bits in \mode; it must execute, so the next trap is the ecall after it.
.macro ALLOWED_IN num, mode, bits
  li gp, \num
  ENTER \mode, .Lok_done\@
  .word \bits
.Lok_ecall\@:
  ecall
.Lok_done\@:
  CHECK_REC REC_MCAUSE, (CAUSE_USER_ECALL + \mode)
  CHECK_REC_ADDR REC_MEPC, .Lok_ecall\@
.endm

TEST_BEGIN
  PRIV_INIT

  # mret to S: MIE <- MPIE (1), MPIE <- 1, MPP <- U; the ecall from S is cause 9 and
  # records MPIE <- MIE (1), MIE <- 0, MPP <- S.
  li gp, 1
  li t0, MSTATUS_MIE
  csrc mstatus, t0
  li t0, MSTATUS_MPIE
  csrs mstatus, t0
  ENTER PRV_S, 1f
2:
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  CHECK_REC_ADDR REC_MEPC, 2b
  CHECK_REC REC_MTVAL, 0
  CHECK_REC_BITS REC_MSTATUS, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP, MSTATUS_MPIE | MSTATUS_MPP_S
  CHECK_REC REC_MCOUNT, 1

  # mret to U with MPIE = 0: MIE stays 0 in U, so the ecall (cause 8) records MPIE = 0.
  li gp, 2
  li t0, MSTATUS_MPIE
  csrc mstatus, t0
  ENTER PRV_U, 1f
2:
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_USER_ECALL
  CHECK_REC_ADDR REC_MEPC, 2b
  CHECK_REC REC_MTVAL, 0
  CHECK_REC_BITS REC_MSTATUS, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP, 0

  # ecall from M with MIE = 1 (mie = 0: nothing can interrupt): cause 11, MPIE <- 1.
  li gp, 3
  REC_CLEAR
  M_RESUME 1f
  li t0, MSTATUS_MIE
  csrs mstatus, t0
2:
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_MACHINE_ECALL
  CHECK_REC_ADDR REC_MEPC, 2b
  CHECK_REC_BITS REC_MSTATUS, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP, MSTATUS_MPIE | MSTATUS_MPP

  # mret to M: MIE <- MPIE, MPIE <- 1, MPP <- U (the least-privileged mode), and MPRV
  # is kept because the new mode is M (3.1.6.1, 3.3.2).
  li gp, 4
  li t0, MSTATUS_MIE
  csrc mstatus, t0
  li t0, MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV
  csrs mstatus, t0
  la t0, 1f
  csrw mepc, t0
  mret
1:
  csrr a0, mstatus
  CHECK_BITS a0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPRV
  li t0, MSTATUS_MIE | MSTATUS_MPRV
  csrc mstatus, t0

  # mret to S clears MPRV (3.1.6.3: "If y != M, xRET also sets MPRV=0"). romvisor only:
  # QEMU 7.2 keeps MPRV (it clears it from 8.0 on).
  li gp, 5
  SKIP_ON_QEMU72 5f
  li t0, MSTATUS_MPRV
  csrs mstatus, t0
  ENTER PRV_S, 1f
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  CHECK_REC_BITS REC_MSTATUS, MSTATUS_MPRV, 0
5:

  # sret from S to U: SIE <- SPIE (1), SPIE <- 1, SPP <- U.
  li gp, 6
  ENTER PRV_S, 1f
  li t0, MSTATUS_SPP | MSTATUS_SIE
  csrc sstatus, t0
  li t0, MSTATUS_SPIE
  csrs sstatus, t0
  la t0, 2f
  csrw sepc, t0
  sret
2:
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_USER_ECALL
  CHECK_REC_ADDR REC_MEPC, 2b
  CHECK_REC_BITS REC_MSTATUS, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP, MSTATUS_SIE | MSTATUS_SPIE

  # sret from S to S with SPIE = 0: SIE <- 0, SPIE <- 1, SPP <- U; S reads sstatus.
  li gp, 7
  ENTER PRV_S, 1f
  li t0, MSTATUS_SPIE
  csrc sstatus, t0
  li t0, MSTATUS_SPP | MSTATUS_SIE
  csrs sstatus, t0
  la t0, 2f
  csrw sepc, t0
  sret
2:
  csrr a0, sstatus
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  CHECK_BITS a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP, MSTATUS_SPIE
  li t0, MSTATUS_SIE | MSTATUS_SPIE
  csrc mstatus, t0

  # sret executed in M returns to the mode in SPP (S here) and clears SPP; it clears MPRV
  # too (3.1.6.3), checked on romvisor only (QEMU 7.2 keeps MPRV).
  li gp, 8
  REC_CLEAR
  M_RESUME 1f
  li t0, MSTATUS_SPP
  csrs mstatus, t0
  SKIP_ON_QEMU72 2f
  li t0, MSTATUS_MPRV
  csrs mstatus, t0
2:
  la t0, 3f
  csrw sepc, t0
  sret
3:
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  CHECK_REC_ADDR REC_MEPC, 3b
  CHECK_REC_BITS REC_MSTATUS, MSTATUS_MPRV | MSTATUS_SPP, 0

  # Delegation (3.1.8): ecall from U and illegal instructions go to stvec. The S handler
  # sret's back to U (sepc = 3f), where an ebreak (not delegated) returns to M.
  li gp, 10
  li t0, (1 << CAUSE_USER_ECALL) | (1 << CAUSE_ILLEGAL_INSTRUCTION)
  csrw medeleg, t0
  csrr a0, medeleg
  CHECK a0, (1 << CAUSE_USER_ECALL) | (1 << CAUSE_ILLEGAL_INSTRUCTION)
  li t0, MSTATUS_SIE | MSTATUS_SPP
  csrs mstatus, t0
  li t0, MSTATUS_SPIE
  csrc mstatus, t0
  S_RESUME 3f
  ENTER PRV_U, 1f
2:
  ecall
3:
  ebreak
1:
  li gp, 11
  CHECK_REC REC_SCOUNT, 1
  CHECK_REC REC_SCAUSE, CAUSE_USER_ECALL
  CHECK_REC_ADDR REC_SEPC, 2b
  CHECK_REC REC_STVAL, 0
  # The trap into S: SPIE <- SIE (1), SIE <- 0, SPP <- U.
  CHECK_REC_BITS REC_SSTATUS, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP, MSTATUS_SPIE
  li gp, 12
  CHECK_REC REC_MCOUNT, 1
  CHECK_REC REC_MCAUSE, CAUSE_BREAKPOINT
  CHECK_REC_ADDR REC_MEPC, 3b
  # sret brought SIE back (SIE <- SPIE = 1) and returned to U.
  CHECK_REC_BITS REC_MSTATUS, MSTATUS_SIE | MSTATUS_MPP, MSTATUS_SIE

  # A delegated illegal instruction from U.
  li gp, 13
  S_RESUME 3f
  ENTER PRV_U, 1f
2:
  .word CSRR_A0_MSTATUS
3:
  ebreak
1:
  CHECK_REC REC_SCOUNT, 1
  CHECK_REC REC_SCAUSE, CAUSE_ILLEGAL_INSTRUCTION
  CHECK_REC_ADDR REC_SEPC, 2b
  CHECK_REC_ILLEGAL_TVAL REC_STVAL, CSRR_A0_MSTATUS
  CHECK_REC REC_MCAUSE, CAUSE_BREAKPOINT

  # A delegated illegal instruction from S stays in S: SPP <- S, SIE (0) -> SPIE.
  li gp, 14
  li t0, MSTATUS_SIE
  csrc mstatus, t0
  S_RESUME 3f
  ENTER PRV_S, 1f
2:
  .word CSRW_MSCRATCH_A1
3:
  ebreak
1:
  CHECK_REC REC_SCOUNT, 1
  CHECK_REC REC_SCAUSE, CAUSE_ILLEGAL_INSTRUCTION
  CHECK_REC_ADDR REC_SEPC, 2b
  CHECK_REC_ILLEGAL_TVAL REC_STVAL, CSRW_MSCRATCH_A1
  CHECK_REC_BITS REC_SSTATUS, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP, MSTATUS_SPP
  CHECK_REC REC_MCAUSE, CAUSE_BREAKPOINT
  CHECK_REC_BITS REC_MSTATUS, MSTATUS_MPP, MSTATUS_MPP_S

  # Traps in M are never delegated (3.1.8), and ecall from S (not delegated) goes to M.
  li gp, 15
  REC_CLEAR
  M_RESUME 1f
2:
  .word CSRW_MHARTID_ZERO
1:
  CHECK_REC REC_MCAUSE, CAUSE_ILLEGAL_INSTRUCTION
  CHECK_REC_ADDR REC_MEPC, 2b
  CHECK_REC REC_SCOUNT, 0
  li gp, 16
  ENTER PRV_S, 1f
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  CHECK_REC REC_SCOUNT, 0
  csrw medeleg, zero
  li t0, MSTATUS_SPP
  csrc mstatus, t0

  # Below M: M CSRs, S CSRs from U, xRET above the current mode, wfi and sfence.vma in U.
  ILLEGAL_IN 20, PRV_U, CSRR_A0_MSTATUS
  ILLEGAL_IN 21, PRV_U, CSRR_A0_SSTATUS
  ILLEGAL_IN 22, PRV_U, CSRW_MSCRATCH_A1
  ILLEGAL_IN 23, PRV_U, CSRR_A0_SATP
  ILLEGAL_IN 24, PRV_U, INSN_MRET
  ILLEGAL_IN 25, PRV_U, INSN_SRET
  # 3.3.3: with S-mode, wfi in U traps unless it completes within a bounded time; nothing
  # is pending here, so it cannot complete.
  ILLEGAL_IN 26, PRV_U, INSN_WFI
  ILLEGAL_IN 27, PRV_U, INSN_SFENCE_VMA
  ILLEGAL_IN 28, PRV_S, CSRR_A0_MSTATUS
  ILLEGAL_IN 29, PRV_S, CSRW_MSCRATCH_A1
  ILLEGAL_IN 30, PRV_S, INSN_MRET
  ALLOWED_IN 31, PRV_S, CSRR_A0_SSTATUS
  ALLOWED_IN 32, PRV_S, CSRR_A0_SATP
  ALLOWED_IN 33, PRV_S, INSN_SFENCE_VMA

  # TSR makes sret in S illegal, TW wfi in S, TVM satp and sfence.vma in S (3.1.6.5).
  li t0, MSTATUS_TSR
  csrs mstatus, t0
  ILLEGAL_IN 40, PRV_S, INSN_SRET
  li t0, MSTATUS_TSR
  csrc mstatus, t0
  li t0, MSTATUS_TW
  csrs mstatus, t0
  ILLEGAL_IN 41, PRV_S, INSN_WFI
  li t0, MSTATUS_TW
  csrc mstatus, t0
  li t0, MSTATUS_TVM
  csrs mstatus, t0
  ILLEGAL_IN 42, PRV_S, CSRR_A0_SATP
  ILLEGAL_IN 43, PRV_S, CSRW_SATP_ZERO
  ILLEGAL_IN 44, PRV_S, INSN_SFENCE_VMA
  # TVM leaves M alone.
  li gp, 45
  csrr a0, satp
  sfence.vma
  li t0, MSTATUS_TVM
  csrc mstatus, t0

  # Counters (3.1.11, 4.1.5): mcounteren gates S and U, scounteren gates U as well.
  csrw mcounteren, zero
  csrw scounteren, zero
  ILLEGAL_IN 50, PRV_S, RDCYCLE_A0
  ILLEGAL_IN 51, PRV_S, RDTIME_A0
  ILLEGAL_IN 52, PRV_S, RDINSTRET_A0
  li t0, 7
  csrw mcounteren, t0
  ALLOWED_IN 53, PRV_S, RDCYCLE_A0
  ALLOWED_IN 54, PRV_S, RDTIME_A0
  ALLOWED_IN 55, PRV_S, RDINSTRET_A0
  ILLEGAL_IN 56, PRV_U, RDCYCLE_A0
  ILLEGAL_IN 57, PRV_U, RDTIME_A0
  ILLEGAL_IN 58, PRV_U, RDINSTRET_A0
  li t0, 7
  csrw scounteren, t0
  ALLOWED_IN 59, PRV_U, RDCYCLE_A0
  ALLOWED_IN 60, PRV_U, RDTIME_A0
  ALLOWED_IN 61, PRV_U, RDINSTRET_A0
  csrw mcounteren, zero
  ILLEGAL_IN 62, PRV_U, RDCYCLE_A0
  ILLEGAL_IN 63, PRV_U, RDINSTRET_A0
  # One bit per counter: CY alone allows cycle but not time or instret.
  li t0, 1
  csrw mcounteren, t0
  ALLOWED_IN 64, PRV_S, RDCYCLE_A0
  ILLEGAL_IN 65, PRV_S, RDTIME_A0
  ILLEGAL_IN 66, PRV_S, RDINSTRET_A0
  ALLOWED_IN 67, PRV_U, RDCYCLE_A0
  ILLEGAL_IN 68, PRV_U, RDTIME_A0
  csrw mcounteren, zero
  csrw scounteren, zero

  # Vectored mtvec (3.1.7): exceptions go to BASE, interrupt n to BASE + 4n.
  li gp, 70
  la t0, vec_table
  ori t0, t0, 1
  csrw mtvec, t0
  csrr a0, mtvec
  la t0, vec_table
  ori t0, t0, 1
  bne a0, t0, fail_far
  li gp, 71
  la t0, vec_hit
  sd zero, 0(t0)
  REC_CLEAR
  M_RESUME 1f
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_MACHINE_ECALL
  la t0, vec_hit
  ld a0, 0(t0)
  CHECK a0, 0
  # Machine software interrupt: through entry 3.
  li gp, 72
  REC_CLEAR
  M_RESUME 1f
  li t0, MIP_MSIP
  csrw mie, t0
  li t0, CLINT_MSIP
  li t1, 1
  sw t1, 0(t0)
  li t0, MSTATUS_MIE
  csrs mstatus, t0
  li a1, 1000
2:
  addi a1, a1, -1
  bnez a1, 2b
  j fail_far
1:
  li t0, CLINT_MSIP
  sw zero, 0(t0)
  csrw mie, zero
  CHECK_REC REC_MCAUSE, IRQ_M_SOFT
  la t0, vec_hit
  ld a0, 0(t0)
  CHECK a0, 3
  la t0, priv_mtrap
  csrw mtvec, t0
TEST_END

fail_far:
  j fail

# mtvec's vector table: full-size jumps (no RVC) so entry n sits at BASE + 4n.
  .align 8
vec_table:
  .option push
  .option norvc
  j priv_mtrap
  j vec_bad
  j vec_bad
  j vec_msi
  j vec_bad
  j vec_bad
  j vec_bad
  j vec_bad
  j vec_bad
  j vec_bad
  j vec_bad
  j vec_bad
  .option pop

vec_msi:
  csrw mscratch, t0
  csrw sscratch, t1
  la t0, vec_hit
  li t1, 3
  sd t1, 0(t0)
  csrr t0, mscratch
  csrr t1, sscratch
  j priv_mtrap
vec_bad:
  csrw mscratch, t0
  csrw sscratch, t1
  la t0, vec_hit
  li t1, -1
  sd t1, 0(t0)
  csrr t0, mscratch
  csrr t1, sscratch
  j priv_mtrap

  .data
  .align 3
vec_hit: .dword 0
  .text

PRIV_HANDLERS
