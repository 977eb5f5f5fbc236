# Machine and supervisor CSRs (privileged spec ch. 3 and 4): misa, the ID registers,
# read-only CSRs, PMP registers, menvcfg/senvcfg, sstatus as a view of mstatus, sie/sip as
# views of mie/mip through mideleg, and mip's software-writable bits.
#include "env/priv.h"

/* misa letters every RV64GC hart with S and U has (3.1.1). */
#define MISA_A (1 << 0)
#define MISA_C (1 << 2)
#define MISA_D (1 << 3)
#define MISA_E (1 << 4)
#define MISA_F (1 << 5)
#define MISA_I (1 << 8)
#define MISA_M (1 << 12)
#define MISA_S (1 << 18)
#define MISA_U (1 << 20)
#define MISA_GCSU (MISA_A | MISA_C | MISA_D | MISA_F | MISA_I | MISA_M | MISA_S | MISA_U)

/* Writes to read-only CSRs (csr[11:10] = 3); a1 = 1 makes every form a write. */
#define CSRW_CYCLE_A1    0xc0059073
#define CSRW_TIME_A1     0xc0159073
#define CSRW_INSTRET_A1  0xc0259073
#define CSRS_MARCHID_A1  0xf125a073
#define CSRW_MIMPID_A1   0xf1359073
#define CSRC_MHARTID_A1  0xf145b073
#define CSRR_A0_MENVCFG  0x30a02573
#define CSRR_A0_SENVCFG  0x10a02573

#define ENVCFG_FIOM 1

/* \bits in M must raise an illegal-instruction exception (mtval 0 or the bits). */
.macro M_ILLEGAL num, bits
  li gp, \num
  REC_CLEAR
  M_RESUME .Ldone\@
.Lat\@:
  .word \bits
.Ldone\@:
  CHECK_REC REC_MCAUSE, CAUSE_ILLEGAL_INSTRUCTION
  CHECK_REC_ADDR REC_MEPC, .Lat\@
  CHECK_REC_ILLEGAL_TVAL REC_MTVAL, \bits
.endm

TEST_BEGIN
  PRIV_INIT

  # misa: MXL = 2 (64-bit) and the letters of RV64GC with S and U; E is never set with
  # I. Other letters may be set (QEMU 7.2 has H).
  li gp, 1
  csrr a0, misa
  srli a1, a0, 62
  CHECK a1, 2
  li gp, 2
  CHECK_BITS a0, MISA_GCSU | MISA_E, MISA_GCSU
  # misa is WARL: writing back what it reads is legal and changes nothing.
  li gp, 3
  csrw misa, a0
  csrr a1, misa
  bne a0, a1, fail_far
  # One hart: mhartid is 0 (3.1.5). The ID registers read without trapping.
  li gp, 4
  csrr a0, mhartid
  CHECK a0, 0
  csrr a0, mvendorid
  csrr a0, marchid
  csrr a0, mimpid

  # Any write to a read-only CSR is illegal, in M too (2.1).
  li a1, 1
  M_ILLEGAL 10, CSRW_CYCLE_A1
  M_ILLEGAL 11, CSRW_TIME_A1
  M_ILLEGAL 12, CSRW_INSTRET_A1
  M_ILLEGAL 13, CSRS_MARCHID_A1
  M_ILLEGAL 14, CSRW_MIMPID_A1
  M_ILLEGAL 15, CSRC_MHARTID_A1

  # PMP (3.7): pmpaddr and pmpcfg0 exist and hold simple values. Entry 0 stays the
  # open NAPOT entry the lower modes need; entries 1 (TOR, RWX) and 2 (NAPOT, R) sit
  # behind it. Nothing is locked.
  li gp, 20
  li t0, 0x12345
  csrw pmpaddr1, t0
  csrr a0, pmpaddr1
  CHECK a0, 0x12345
  li gp, 21
  li t0, 0x20000fff
  csrw pmpaddr2, t0
  csrr a0, pmpaddr2
  CHECK a0, 0x20000fff
  li gp, 22
  li t0, 0x190f1f
  csrw pmpcfg0, t0
  csrr a0, pmpcfg0
  CHECK a0, 0x190f1f
  # S still fetches and loads through entry 0 (the highest-priority match).
  li gp, 23
  ENTER PRV_S, 1f
  la a1, csr_probe
  ld a0, 0(a1)
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  CHECK a0, 0x600d
  # pmpaddr bits 63:54 are WARL zero on RV64 (3.7.1, "RV64 PMP address register
  # format"). romvisor only: QEMU 7.2 keeps every bit written.
  li gp, 24
  SKIP_ON_QEMU72 2f
  li t0, -1
  csrw pmpaddr3, t0
  csrr a0, pmpaddr3
  CHECK a0, 0x003fffffffffffff
2:
  li t0, 0x1f
  csrw pmpcfg0, t0
  csrw pmpaddr1, zero
  csrw pmpaddr2, zero
  csrw pmpaddr3, zero

  # menvcfg and senvcfg exist (3.1.18, 4.1.10); FIOM is their one field every hart has.
  li gp, 30
  li t0, ENVCFG_FIOM
  csrs menvcfg, t0
  csrr a0, menvcfg
  CHECK_BITS a0, ENVCFG_FIOM, ENVCFG_FIOM
  csrc menvcfg, t0
  csrr a0, menvcfg
  CHECK_BITS a0, ENVCFG_FIOM, 0
  li gp, 31
  li t0, ENVCFG_FIOM
  csrs senvcfg, t0
  csrr a0, senvcfg
  CHECK_BITS a0, ENVCFG_FIOM, ENVCFG_FIOM
  csrc senvcfg, t0
  # S reaches senvcfg but not menvcfg.
  li gp, 32
  ENTER PRV_S, 1f
  .word CSRR_A0_SENVCFG
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  li gp, 33
  ENTER PRV_S, 1f
2:
  .word CSRR_A0_MENVCFG
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_ILLEGAL_INSTRUCTION
  CHECK_REC_ADDR REC_MEPC, 2b

  # mstatus: UXL = SXL = 2 (3.1.6.2); MPP is WARL and never holds the reserved 2
  # (3.1.6.1: software finds the modes by writing MPP and reading it back). romvisor
  # only: QEMU 7.2 reads back 2.
  li gp, 40
  csrr a0, mstatus
  CHECK_BITS a0, MSTATUS_UXL | MSTATUS_SXL, 0xa00000000
  li gp, 41
  SKIP_ON_QEMU72 2f
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, 0x1000
  csrs mstatus, t0
  csrr a0, mstatus
  li t0, MSTATUS_MPP
  and a0, a0, t0
  li t0, 0x1000
  beq a0, t0, fail_far
2:
  li t0, MSTATUS_MPP
  csrc mstatus, t0

  # sstatus is a view of mstatus (4.1.1): SIE, SPIE, SPP, FS, SUM, MXR, UXL and SD show;
  # MIE, MPIE, MPP, MPRV, TVM, TW, TSR and SXL do not.
  li gp, 42
  li t0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP_S | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR
  csrs mstatus, t0
  csrr a0, sstatus
  CHECK_BITS a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_SD, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_SD
  li gp, 43
  CHECK_BITS a0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_MPRV | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR | MSTATUS_SXL, 0
  li gp, 44
  CHECK_BITS a0, MSTATUS_UXL, 0x200000000
  # Writing sstatus changes only its own fields of mstatus.
  li gp, 45
  csrw sstatus, zero
  csrr a0, mstatus
  CHECK_BITS a0, MSTATUS_SIE | MSTATUS_SPIE | MSTATUS_SPP | MSTATUS_FS | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_SD, 0
  li gp, 46
  CHECK_BITS a0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP_S | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR
  li gp, 47
  CHECK_BITS a0, MSTATUS_UXL | MSTATUS_SXL, 0xa00000000
  li t0, MSTATUS_MIE | MSTATUS_MPIE | MSTATUS_MPP | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR
  csrc mstatus, t0
  # SD summarizes FS (and XS, VS, both 0 here): set only when FS is Dirty.
  li gp, 48
  li t0, MSTATUS_FS
  csrc sstatus, t0
  li t0, MSTATUS_FS_INITIAL
  csrs sstatus, t0
  csrr a0, sstatus
  CHECK_BITS a0, MSTATUS_SD | MSTATUS_FS, MSTATUS_FS_INITIAL
  csrr a0, mstatus
  CHECK_BITS a0, MSTATUS_SD | MSTATUS_FS, MSTATUS_FS_INITIAL

  # sie and sip are mie and mip through mideleg (4.1.3): bits of interrupts not
  # delegated read as zero and ignore writes.
  li gp, 50
  csrw mideleg, zero
  csrw mie, zero
  li t0, -1
  csrw sie, t0
  csrr a0, sie
  CHECK a0, 0
  csrr a0, mie
  CHECK a0, 0
  li gp, 51
  li t0, MIP_SSIP | MIP_STIP | MIP_SEIP
  csrw mideleg, t0
  csrr a0, mideleg
  CHECK_BITS a0, MIP_SSIP | MIP_STIP | MIP_SEIP, MIP_SSIP | MIP_STIP | MIP_SEIP
  li gp, 52
  li t0, -1
  csrw sie, t0
  csrr a0, sie
  CHECK a0, MIP_SSIP | MIP_STIP | MIP_SEIP
  csrr a0, mie
  CHECK a0, MIP_SSIP | MIP_STIP | MIP_SEIP
  li gp, 53
  li t0, MIP_MSIP | MIP_MTIP | MIP_MEIP
  csrs mie, t0
  csrr a0, sie
  CHECK a0, MIP_SSIP | MIP_STIP | MIP_SEIP
  csrw sie, zero
  csrr a0, mie
  CHECK a0, MIP_MSIP | MIP_MTIP | MIP_MEIP
  csrw mie, zero
  # sip shows delegated pending bits only; through it only SSIP is writable.
  li gp, 54
  li t0, MIP_SSIP | MIP_STIP
  csrs mip, t0
  csrr a0, sip
  CHECK_BITS a0, MIP_SSIP | MIP_STIP | MIP_SEIP, MIP_SSIP | MIP_STIP
  li gp, 55
  csrw sip, zero
  csrr a0, mip
  CHECK_BITS a0, MIP_SSIP | MIP_STIP, MIP_STIP
  li gp, 56
  li t0, MIP_SSIP
  csrs mip, t0
  csrw mideleg, zero
  csrr a0, sip
  CHECK_BITS a0, MIP_SSIP | MIP_STIP | MIP_SEIP, 0
  li t0, MIP_SSIP | MIP_STIP
  csrc mip, t0

  # mip.SEIP is writable by M (3.1.9); with no external interrupt pending at the PLIC it
  # reads back as written, in mip and (delegated) in sip.
  li gp, 60
  li t0, MIP_SEIP
  csrs mip, t0
  csrr a0, mip
  CHECK_BITS a0, MIP_SEIP, MIP_SEIP
  li gp, 61
  li t0, MIP_SEIP
  csrw mideleg, t0
  csrr a0, sip
  CHECK_BITS a0, MIP_SEIP, MIP_SEIP
  li gp, 62
  li t0, MIP_SEIP
  csrc mip, t0
  csrr a0, mip
  CHECK_BITS a0, MIP_SEIP, 0
  csrr a0, sip
  CHECK_BITS a0, MIP_SEIP, 0
  csrw mideleg, zero
  # MSIP and MEIP are read-only in mip: a write of all ones leaves them clear; the
  # writable S bits take it.
  li gp, 63
  li t0, -1
  csrw mip, t0
  csrr a0, mip
  csrw mip, zero
  CHECK_BITS a0, MIP_MSIP | MIP_MEIP, 0
  li gp, 64
  CHECK_BITS a0, MIP_SSIP | MIP_STIP | MIP_SEIP, MIP_SSIP | MIP_STIP | MIP_SEIP
  csrr a0, mip
  CHECK_BITS a0, MIP_SSIP | MIP_STIP | MIP_SEIP, 0

  # medeleg[11] is read-only zero: ecall from M cannot be delegated (3.1.8). romvisor
  # only: QEMU 7.2 keeps the bit.
  li gp, 70
  SKIP_ON_QEMU72 2f
  li t0, -1
  csrw medeleg, t0
  csrr a0, medeleg
  csrw medeleg, zero
  CHECK_BITS a0, 1 << CAUSE_MACHINE_ECALL, 0
2:
  csrw medeleg, zero
TEST_END

fail_far:
  j fail

  .data
  .align 3
csr_probe: .dword 0x600d
  .text

PRIV_HANDLERS
