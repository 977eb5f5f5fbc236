# Sv39 address translation (privileged spec 10.3-10.4 in the 2021-12 numbering: "Sv39",
# "Virtual Address Translation Process"): 4 KiB pages, 2 MiB and 1 GiB superpages, the
# permission rules (R/W/X, U with SUM, MXR), MPRV, A/D updates, page faults with their
# cause and stval = the faulting virtual address, sfence.vma, and satp's WARL MODE.
#
# M builds the tables at fixed physical addresses above the program, then runs each check
# in S (or U) through ENTER (env/priv.h); every check ends in a trap that M records.
#
# The code runs in S through an identity 1 GiB superpage of RAM (VA 0x8000_0000) and in U
# through a U alias of the same gigabyte at VA 0xc000_0000 (ENTER's offset U_ALIAS).
#include "env/priv.h"

#define PTE_V 0x01
#define PTE_R 0x02
#define PTE_W 0x04
#define PTE_X 0x08
#define PTE_U 0x10
#define PTE_A 0x40
#define PTE_D 0x80
#define PTE_AD (PTE_A | PTE_D)
/* A leaf PTE for physical address pa: PPN = pa >> 12 in bits 53:10. */
#define PTE(pa, flags) ((((pa) >> 12) << 10) | (flags))

#define PT_ROOT  0x80800000
#define PT_L1    0x80801000
#define PT_L0    0x80802000
#define PAGE_A   0x80803000
#define PAGE_B   0x80804000
#define PAGE_C   0x80805000
#define SUPER_2M 0x80400000
#define SATP_SV39 ((8 << 60) | (PT_ROOT >> 12))
#define U_ALIAS  0x40000000

#define MARK_A  0x1111222233334444
#define MARK_C  0x5555666677778888
#define MARK_2M 0x0123456789abcdef
/* PAGE_B holds `addi a0, zero, 42; ret`, read as one doubleword. */
#define INSN_LI_A0_42 0x02a00513
#define INSN_RET      0x00008067
#define PAGE_B_DWORD  0x0000806702a00513

/* Virtual addresses and what maps them. */
#define VA_INVALID  0x0000      /* L0[0]: V = 0 */
#define VA_RW       0x1000      /* L0[1]: PAGE_A, RW */
#define VA_RO       0x2000      /* L0[2]: PAGE_A, R */
#define VA_XO       0x3000      /* L0[3]: PAGE_B, X only */
#define VA_URW      0x4000      /* L0[4]: PAGE_A, RW, U */
#define VA_NX       0x5000      /* L0[5]: PAGE_B, RW, not X */
#define VA_AD       0x6000      /* L0[6]: PAGE_C, RW, A = D = 0 */
#define VA_UX       0x7000      /* L0[7]: PAGE_B, RX, U */
#define VA_NOLEAF   0x8000      /* L0[8]: V only, at the last level */
#define VA_WO       0x9000      /* L0[9]: W without R (reserved) */
#define VA_RSVD     0xa000      /* L0[10]: PAGE_A, RW, bit 54 (reserved) set */
#define VA_SWAP     0xb000      /* L0[11]: PAGE_C, RW; repointed to PAGE_A by a check */
#define VA_2M       0x200000    /* L1[1]: 2 MiB superpage at SUPER_2M */
#define VA_2M_BAD   0x400000    /* L1[2]: 2 MiB superpage, PPN not 2 MiB aligned */
#define VA_1G_BAD   0x40000000  /* root[1]: 1 GiB superpage, PPN not 1 GiB aligned */
#define VA_1G       0x100000000 /* root[4]: RAM's gigabyte, RW, not X */
#define VA_HIGH     0xffffffc000000000 /* root[256]: the same, at the top of the space */

/* Stores the doubleword \value at physical address \addr (from M). */
.macro POKE addr, value
  li t0, \addr
  li t1, \value
  sd t1, 0(t0)
.endm

/* In \mode (U runs through the alias), a load of \va must page-fault. */
.macro LOAD_FAULT num, mode, va, offset=0
  li gp, \num
  ENTER \mode, .Ldone\@, \offset
  li a1, \va
.Lat\@:
  ld a0, 0(a1)
  ecall
.Ldone\@:
  CHECK_REC REC_MCAUSE, CAUSE_LOAD_PAGE_FAULT
  CHECK_REC REC_MTVAL, \va
  CHECK_REC_ADDR REC_MEPC, .Lat\@, \offset
.endm

.macro STORE_FAULT num, mode, va, offset=0
  li gp, \num
  ENTER \mode, .Ldone\@, \offset
  li a1, \va
.Lat\@:
  sd a1, 0(a1)
  ecall
.Ldone\@:
  CHECK_REC REC_MCAUSE, CAUSE_STORE_PAGE_FAULT
  CHECK_REC REC_MTVAL, \va
  CHECK_REC_ADDR REC_MEPC, .Lat\@, \offset
.endm

/* A jump to \va must take a fetch page fault there: mepc = mtval = \va. */
.macro FETCH_FAULT num, mode, va, offset=0
  li gp, \num
  ENTER \mode, .Ldone\@, \offset
  li a1, \va
  jalr ra, 0(a1)
  ecall
.Ldone\@:
  CHECK_REC REC_MCAUSE, CAUSE_FETCH_PAGE_FAULT
  CHECK_REC REC_MTVAL, \va
  CHECK_REC REC_MEPC, \va
.endm

/* In \mode, a load of \va must return \value. */
.macro LOAD_OK num, mode, va, value, offset=0
  li gp, \num
  ENTER \mode, .Ldone\@, \offset
  li a1, \va
  ld a0, 0(a1)
  ecall
.Ldone\@:
  CHECK_REC REC_MCAUSE, (CAUSE_USER_ECALL + \mode)
  CHECK a0, \value
.endm

/* In \mode, a call to \va (PAGE_B's code) must return 42. */
.macro CALL_OK num, mode, va, offset=0
  li gp, \num
  ENTER \mode, .Ldone\@, \offset
  li a0, 0
  li a1, \va
  jalr ra, 0(a1)
  ecall
.Ldone\@:
  CHECK_REC REC_MCAUSE, (CAUSE_USER_ECALL + \mode)
  CHECK a0, 42
.endm

TEST_BEGIN
  PRIV_INIT
  li t0, MSTATUS_MIE | MSTATUS_SIE | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_MPRV
  csrc mstatus, t0

  # The tables and pages, from zero.
  li t0, PT_ROOT
  li t1, PAGE_C + 0x1000
1:
  sd zero, 0(t0)
  addi t0, t0, 8
  bltu t0, t1, 1b
  POKE PT_ROOT + 0 * 8, PTE(PT_L1, PTE_V)
  POKE PT_ROOT + 1 * 8, PTE(0x80200000, PTE_V | PTE_R | PTE_W | PTE_AD)
  POKE PT_ROOT + 2 * 8, PTE(0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_AD)
  POKE PT_ROOT + 3 * 8, PTE(0x80000000, PTE_V | PTE_R | PTE_W | PTE_X | PTE_U | PTE_AD)
  POKE PT_ROOT + 4 * 8, PTE(0x80000000, PTE_V | PTE_R | PTE_W | PTE_AD)
  POKE PT_ROOT + 256 * 8, PTE(0x80000000, PTE_V | PTE_R | PTE_W | PTE_AD)
  POKE PT_L1 + 0 * 8, PTE(PT_L0, PTE_V)
  POKE PT_L1 + 1 * 8, PTE(SUPER_2M, PTE_V | PTE_R | PTE_W | PTE_AD)
  POKE PT_L1 + 2 * 8, PTE(SUPER_2M + 0x1000, PTE_V | PTE_R | PTE_W | PTE_AD)
  POKE PT_L0 + 1 * 8, PTE(PAGE_A, PTE_V | PTE_R | PTE_W | PTE_AD)
  POKE PT_L0 + 2 * 8, PTE(PAGE_A, PTE_V | PTE_R | PTE_A)
  POKE PT_L0 + 3 * 8, PTE(PAGE_B, PTE_V | PTE_X | PTE_A)
  POKE PT_L0 + 4 * 8, PTE(PAGE_A, PTE_V | PTE_R | PTE_W | PTE_U | PTE_AD)
  POKE PT_L0 + 5 * 8, PTE(PAGE_B, PTE_V | PTE_R | PTE_W | PTE_AD)
  POKE PT_L0 + 6 * 8, PTE(PAGE_C, PTE_V | PTE_R | PTE_W)
  POKE PT_L0 + 7 * 8, PTE(PAGE_B, PTE_V | PTE_R | PTE_X | PTE_U | PTE_A)
  POKE PT_L0 + 8 * 8, PTE(PAGE_A, PTE_V)
  POKE PT_L0 + 9 * 8, PTE(PAGE_A, PTE_V | PTE_W | PTE_AD)
  POKE PT_L0 + 10 * 8, (PTE(PAGE_A, PTE_V | PTE_R | PTE_W | PTE_AD) | (1 << 54))
  POKE PT_L0 + 11 * 8, PTE(PAGE_C, PTE_V | PTE_R | PTE_W | PTE_AD)
  POKE PAGE_A, MARK_A
  POKE PAGE_C, MARK_C
  POKE SUPER_2M + 0x1ff008, MARK_2M
  POKE PAGE_B, PAGE_B_DWORD
  fence.i

  li gp, 1
  li t0, SATP_SV39
  csrw satp, t0
  sfence.vma
  csrr a0, satp
  CHECK a0, SATP_SV39

  # S runs through the identity gigabyte and reads its data there.
  li gp, 2
  ENTER PRV_S, 1f
  la a1, sv39_probe
  ld a0, 0(a1)
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  CHECK a0, 0x600dc0de

  # Leaves of every size.
  LOAD_OK 3, PRV_S, VA_RW, MARK_A
  LOAD_OK 4, PRV_S, VA_2M + 0x1ff008, MARK_2M
  LOAD_OK 5, PRV_S, VA_1G + (PAGE_A - 0x80000000), MARK_A
  LOAD_OK 6, PRV_S, VA_HIGH + (PAGE_A - 0x80000000), MARK_A
  # A store through one mapping is seen through another.
  li gp, 7
  ENTER PRV_S, 1f
  li a1, VA_RW + 8
  li a2, 0x77
  sd a2, 0(a1)
  li a1, VA_1G + (PAGE_A - 0x80000000) + 8
  ld a0, 0(a1)
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  CHECK a0, 0x77
  # Fetch through a 4 KiB execute-only page.
  CALL_OK 8, PRV_S, VA_XO

  # Invalid and malformed PTEs (10.3.2 steps 3 and 4). Check 10 is also the first access
  # to virtual page 0: it catches a TLB whose never-filled entries (tag 0) still map that
  # page after reset.
  LOAD_FAULT 10, PRV_S, VA_INVALID + 8
  STORE_FAULT 11, PRV_S, VA_INVALID + 8
  FETCH_FAULT 12, PRV_S, VA_INVALID
  LOAD_FAULT 13, PRV_S, VA_NOLEAF
  LOAD_FAULT 14, PRV_S, VA_WO
  LOAD_FAULT 15, PRV_S, VA_RSVD
  # Misaligned superpages (step 6).
  LOAD_FAULT 16, PRV_S, VA_2M_BAD
  LOAD_FAULT 17, PRV_S, VA_1G_BAD + 0x10
  # Non-canonical addresses: bits 63..39 must equal bit 38 (10.3.1).
  LOAD_FAULT 18, PRV_S, 0x0000008000000000
  LOAD_FAULT 19, PRV_S, 0xffffff7ffffff000
  STORE_FAULT 20, PRV_S, 0x8000000000001000
  FETCH_FAULT 21, PRV_S, 0x0000010000000000

  # Permissions (step 5): write to read-only, execute non-executable, AMO to read-only.
  LOAD_OK 22, PRV_S, VA_RO, MARK_A
  STORE_FAULT 23, PRV_S, VA_RO
  FETCH_FAULT 24, PRV_S, VA_NX
  li gp, 25
  ENTER PRV_S, 1f
  li a1, VA_RO
  li a2, 1
2:
  amoadd.d a0, a2, (a1)
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_STORE_PAGE_FAULT
  CHECK_REC REC_MTVAL, VA_RO
  CHECK_REC_ADDR REC_MEPC, 2b
  # Execute-only is not readable, unless MXR.
  LOAD_FAULT 26, PRV_S, VA_XO
  li t0, MSTATUS_MXR
  csrs mstatus, t0
  LOAD_OK 27, PRV_S, VA_XO, PAGE_B_DWORD
  STORE_FAULT 28, PRV_S, VA_XO
  li t0, MSTATUS_MXR
  csrc mstatus, t0

  # U pages from S: no access without SUM; loads and stores with SUM; never fetches.
  LOAD_FAULT 30, PRV_S, VA_URW
  STORE_FAULT 31, PRV_S, VA_URW
  li t0, MSTATUS_SUM
  csrs mstatus, t0
  LOAD_OK 32, PRV_S, VA_URW, MARK_A
  li gp, 33
  ENTER PRV_S, 1f
  li a1, VA_URW + 16
  li a2, 0x55
  sd a2, 0(a1)
  ld a0, 0(a1)
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  CHECK a0, 0x55
  FETCH_FAULT 34, PRV_S, VA_UX
  li t0, MSTATUS_SUM
  csrc mstatus, t0

  # U: its own pages work; S pages fault for every access, SUM or not.
  LOAD_OK 40, PRV_U, VA_URW, MARK_A, U_ALIAS
  CALL_OK 41, PRV_U, VA_UX, U_ALIAS
  LOAD_FAULT 42, PRV_U, VA_RW, U_ALIAS
  STORE_FAULT 43, PRV_U, VA_RW, U_ALIAS
  FETCH_FAULT 44, PRV_U, VA_XO, U_ALIAS
  li t0, MSTATUS_SUM
  csrs mstatus, t0
  LOAD_FAULT 45, PRV_U, VA_RW, U_ALIAS
  li t0, MSTATUS_SUM
  csrc mstatus, t0
  # The alias is U: S may not fetch from it.
  li gp, 46
  ENTER PRV_S, 1f
  la a1, sv39_probe_code
  li t0, U_ALIAS
  add a1, a1, t0
  jalr ra, 0(a1)
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_FETCH_PAGE_FAULT
  CHECK_REC_ADDR REC_MTVAL, sv39_probe_code, U_ALIAS
  CHECK_REC_ADDR REC_MEPC, sv39_probe_code, U_ALIAS

  # A and D (10.3.2 step 7): with A = 0 a load either faults or sets A (QEMU and romvisor
  # set it, as Svadu allows); with D = 0 a store either faults or sets A and D.
  li gp, 50
  ENTER PRV_S, 1f
  li a0, 0
  li a1, VA_AD
  ld a0, 0(a1)
  ecall
1:
  la t0, priv_rec
  ld t0, REC_MCAUSE(t0)
  li t1, CAUSE_LOAD_PAGE_FAULT
  beq t0, t1, 2f
  CHECK t0, CAUSE_SUPERVISOR_ECALL
  CHECK a0, MARK_C
  li t0, PT_L0 + 6 * 8
  ld a0, 0(t0)
  CHECK_BITS a0, PTE_AD, PTE_A
  li gp, 51
  ENTER PRV_S, 1f
  li a1, VA_AD
  li a2, 0x99
  sd a2, 0(a1)
  ecall
1:
  la t0, priv_rec
  ld t0, REC_MCAUSE(t0)
  li t1, CAUSE_STORE_PAGE_FAULT
  beq t0, t1, 2f
  CHECK t0, CAUSE_SUPERVISOR_ECALL
  li t0, PT_L0 + 6 * 8
  ld a0, 0(t0)
  CHECK_BITS a0, PTE_AD, PTE_AD
  li t0, PAGE_C
  ld a0, 0(t0)
  CHECK a0, 0x99
2:

  # sfence.vma after a PTE change: S reads VA_SWAP (PAGE_C), points it at PAGE_A through
  # the identity map, fences, and reads PAGE_A there.
  li gp, 52
  POKE PAGE_C, MARK_C
  ENTER PRV_S, 1f
  li a1, VA_SWAP
  ld a0, 0(a1)
  li t0, PT_L0 + 11 * 8
  li t1, PTE(PAGE_A, PTE_V | PTE_R | PTE_W | PTE_AD)
  sd t1, 0(t0)
  sfence.vma
  ld a2, 0(a1)
  ecall
1:
  CHECK_REC REC_MCAUSE, CAUSE_SUPERVISOR_ECALL
  CHECK a0, MARK_C
  CHECK a2, MARK_A

  # MPRV (3.1.6.3): M's loads and stores translate as MPP's mode; fetches do not.
  li gp, 60
  REC_CLEAR
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, MSTATUS_MPRV | MSTATUS_MPP_S
  csrs mstatus, t0
  li a1, VA_RW
  ld a0, 0(a1)
  li t0, MSTATUS_MPRV
  csrc mstatus, t0
  CHECK a0, MARK_A
  CHECK_REC REC_MCOUNT, 0
  li gp, 61
  REC_CLEAR
  M_RESUME 1f
  li t0, MSTATUS_MPRV | MSTATUS_MPP_S
  csrs mstatus, t0
  li a1, VA_INVALID + 8
2:
  ld a0, 0(a1)
  li t0, MSTATUS_MPRV
  csrc mstatus, t0
  j fail_far
1:
  CHECK_REC REC_MCAUSE, CAUSE_LOAD_PAGE_FAULT
  CHECK_REC REC_MTVAL, VA_INVALID + 8
  CHECK_REC_ADDR REC_MEPC, 2b
  # With MPP = U, an S page is out of reach.
  li gp, 62
  REC_CLEAR
  M_RESUME 1f
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  li t0, MSTATUS_MPRV
  csrs mstatus, t0
  li a1, VA_RW
  ld a0, 0(a1)
  li t0, MSTATUS_MPRV
  csrc mstatus, t0
  j fail_far
1:
  CHECK_REC REC_MCAUSE, CAUSE_LOAD_PAGE_FAULT
  CHECK_REC REC_MTVAL, VA_RW
  # With MPP = M, MPRV changes nothing: physical PAGE_A.
  li gp, 63
  li t0, MSTATUS_MPRV | MSTATUS_MPP
  csrs mstatus, t0
  li a1, PAGE_A
  ld a0, 0(a1)
  li t0, MSTATUS_MPRV
  csrc mstatus, t0
  CHECK a0, MARK_A

  # satp is WARL (10.1.11): writing a MODE the hart lacks changes nothing at all. Sv39 is
  # all romvisor has; QEMU 7.2 also has Sv48 and Sv57, so for MODE 9 and 10 either the
  # old value or exactly the written one is accepted. MODE 1..7 are reserved everywhere.
  li gp, 70
  li a2, (9 << 60) | (PT_ROOT >> 12)
  csrw satp, a2
  csrr a0, satp
  li t0, SATP_SV39
  csrw satp, t0
  beq a0, t0, 1f
  bne a0, a2, fail_far
1:
  li gp, 71
  li a2, (10 << 60) | (PT_ROOT >> 12)
  csrw satp, a2
  csrr a0, satp
  li t0, SATP_SV39
  csrw satp, t0
  beq a0, t0, 1f
  bne a0, a2, fail_far
1:
  li gp, 72
  li a2, (1 << 60) | 0x12345
  csrw satp, a2
  csrr a0, satp
  CHECK a0, SATP_SV39
  li gp, 73
  csrw satp, zero
  csrr a0, satp
  CHECK a0, 0
  sfence.vma
TEST_END

fail_far:
  j fail

sv39_probe_code:
  ret

  .data
  .align 3
sv39_probe: .dword 0x600dc0de
  .text

PRIV_HANDLERS
