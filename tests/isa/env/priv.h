/* The privileged tests' harness (priv_*.S): constants from the privileged spec, trap
 * handlers for M and S that record what they saw, and macros to enter a lower mode.
 *
 * How a check runs code in S or U: ENTER sets where M resumes (`\resume`), then mret's
 * into the mode; the code there ends in a trap (the one under test, or `ecall`), and
 * priv_mtrap records mcause/mepc/mtval/mstatus in priv_rec and resumes at `\resume`
 * in M with MIE, MPRV = 0. Registers other than t0/t1 pass through unchanged, so a
 * lower mode hands its results back in a0..a5.
 *
 * priv_strap (stvec) records scause/sepc/stval/sstatus; if `s_resume` is set it sret's
 * there (into the mode SPP names), else it ecalls to M (cause 9), which resumes in M.
 * A trap in M with no `\resume` set prints the cause and fails the current check. */
#ifndef PRIV_H
#define PRIV_H
#include "harness.h"

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

/* mstatus / sstatus (privileged spec 3.1.6, 4.1.1). */
#define MSTATUS_SIE   0x2
#define MSTATUS_MIE   0x8
#define MSTATUS_SPIE  0x20
#define MSTATUS_MPIE  0x80
#define MSTATUS_SPP   0x100
#define MSTATUS_MPP   0x1800
#define MSTATUS_MPP_S 0x800
#define MSTATUS_MPRV  0x20000
#define MSTATUS_SUM   0x40000
#define MSTATUS_MXR   0x80000
#define MSTATUS_TVM   0x100000
#define MSTATUS_TW    0x200000
#define MSTATUS_TSR   0x400000
#define MSTATUS_UXL   0x300000000
#define MSTATUS_SXL   0xc00000000
#define MSTATUS_SD    0x8000000000000000

/* mip / mie bits, also the interrupt cause codes (3.1.9). */
#define MIP_SSIP 0x2
#define MIP_MSIP 0x8
#define MIP_STIP 0x20
#define MIP_MTIP 0x80
#define MIP_SEIP 0x200
#define MIP_MEIP 0x800
#define IRQ_S_SOFT  0x8000000000000001
#define IRQ_M_SOFT  0x8000000000000003
#define IRQ_S_TIMER 0x8000000000000005
#define IRQ_M_TIMER 0x8000000000000007

/* Exception codes (table 3.6) not already in harness.h. */
#define CAUSE_USER_ECALL       8
#define CAUSE_SUPERVISOR_ECALL 9
#define CAUSE_FETCH_PAGE_FAULT 12
#define CAUSE_LOAD_PAGE_FAULT  13
#define CAUSE_STORE_PAGE_FAULT 15

/* CLINT of QEMU virt (and romvisor). */
#define CLINT_MSIP     0x2000000
#define CLINT_MTIMECMP 0x2004000
#define CLINT_MTIME    0x200bff8

/* priv_rec layout: what the handlers saw. */
#define REC_MCAUSE   0
#define REC_MEPC     8
#define REC_MTVAL    16
#define REC_MSTATUS  24
#define REC_MCOUNT   32
#define REC_MRESUME  40
#define REC_SCAUSE   48
#define REC_SEPC     56
#define REC_STVAL    64
#define REC_SSTATUS  72
#define REC_SCOUNT   80
#define REC_SRESUME  88
#define REC_SAVE     96
#define REC_SSAVE    104
#define REC_SIZE     112

#ifdef __ASSEMBLER__

/* Resets the trap records (counts to 0, causes to -1) and M's resume address; an
 * S_RESUME set before ENTER survives. */
.macro REC_CLEAR
  la t0, priv_rec
  li t1, -1
  sd t1, REC_MCAUSE(t0)
  sd t1, REC_SCAUSE(t0)
  sd zero, REC_MCOUNT(t0)
  sd zero, REC_SCOUNT(t0)
  sd zero, REC_MRESUME(t0)
.endm

/* In M: the next trap into M resumes at \label (in M). */
.macro M_RESUME label
  la t0, \label
  la t1, priv_rec
  sd t0, REC_MRESUME(t1)
.endm

/* The next trap into S sret's to \label (plus \offset, for code run through an alias). */
.macro S_RESUME label, offset=0
  la t0, \label
  .if \offset
  li t1, \offset
  add t0, t0, t1
  .endif
  la t1, priv_rec
  sd t0, REC_SRESUME(t1)
.endm

/* From M: clears the records, sets the resume point, and mret's into \mode at the code
 * that follows the macro (at its address plus \offset). mstatus bits other than MPP are
 * the caller's. */
.macro ENTER mode, resume, offset=0
  REC_CLEAR
  M_RESUME \resume
  li t0, MSTATUS_MPP
  csrc mstatus, t0
  .if \mode
  li t0, (\mode << 11)
  csrs mstatus, t0
  .endif
  la t0, .Lenter\@
  .if \offset
  li t1, \offset
  add t0, t0, t1
  .endif
  csrw mepc, t0
  mret
.Lenter\@:
.endm

/* Polls mip until (mip & \bit) == \want, a bounded number of times: a timer or CLINT line
 * may reach mip a few instructions after the write that changed it. */
.macro WAIT_MIP bit, want
  li a5, 20000
.Lwait\@:
  csrr t0, mip
  andi t0, t0, \bit
  li t1, \want
  beq t0, t1, .Lwait_done\@
  addi a5, a5, -1
  bnez a5, .Lwait\@
  j fail
.Lwait_done\@:
.endm

/* Fails the current check unless priv_rec's field at \off == \value. */
.macro CHECK_REC off, value
  la t0, priv_rec
  ld t0, \off(t0)
  CHECK t0, \value
.endm

/* Fails unless the field at \off equals register \reg. */
.macro CHECK_REC_REG off, reg
  la t0, priv_rec
  ld t0, \off(t0)
  beq t0, \reg, .Lrec_ok\@
  j fail
.Lrec_ok\@:
.endm

/* Fails unless (priv_rec field & \mask) == \value. */
.macro CHECK_REC_BITS off, mask, value
  la t0, priv_rec
  ld t0, \off(t0)
  li t1, \mask
  and t0, t0, t1
  CHECK t0, \value
.endm

/* Fails unless the field at \off is the address of \label (plus \offset). */
.macro CHECK_REC_ADDR off, label, offset=0
  la t1, \label
  .if \offset
  li t0, \offset
  add t1, t1, t0
  .endif
  CHECK_REC_REG \off, t1
.endm

/* mtval/stval of an illegal instruction: 0 or the instruction's bits (3.1.16). */
.macro CHECK_REC_ILLEGAL_TVAL off, bits
  la t0, priv_rec
  ld t0, \off(t0)
  beqz t0, .Lill_ok\@
  CHECK t0, \bits
.Lill_ok\@:
.endm

/* QEMU 7.2.x reports mimpid = marchid = 0x0702mm (its version). A check where QEMU 7.2
 * departs from the spec jumps over itself with this on QEMU, so it runs on romvisor only;
 * the check's comment says what QEMU does instead. */
.macro SKIP_ON_QEMU72 label
  csrr t0, mimpid
  srli t0, t0, 8
  li t1, 0x0702
  beq t0, t1, \label
.endm

/* Fails unless (\reg & \mask) == \value. */
.macro CHECK_BITS reg, mask, value
  li t1, \mask
  and t0, \reg, t1
  CHECK t0, \value
.endm

/* M and U may access all of memory: with PMP implemented, S/U accesses that match no
 * entry fail (3.7.1), so entry 0 is NAPOT over the whole address space, RWX. */
.macro PMP_OPEN
  li t0, -1
  csrw pmpaddr0, t0
  li t0, 0x1f
  csrw pmpcfg0, t0
.endm

/* mtvec/stvec to the recording handlers, nothing delegated, no interrupt enabled. */
.macro PRIV_INIT
  PMP_OPEN
  la t0, priv_mtrap
  csrw mtvec, t0
  la t0, priv_strap
  csrw stvec, t0
  csrw medeleg, zero
  csrw mideleg, zero
  csrw mie, zero
  REC_CLEAR
  la t0, priv_rec
  sd zero, REC_SRESUME(t0)
.endm

/* The two handlers and priv_rec; a test puts this once, after TEST_END. */
.macro PRIV_HANDLERS
  .align 6
  .globl priv_mtrap
priv_mtrap:
  csrw mscratch, t0
  la t0, priv_rec
  sd t1, REC_SAVE(t0)
  csrr t1, mcause
  sd t1, REC_MCAUSE(t0)
  csrr t1, mepc
  sd t1, REC_MEPC(t0)
  csrr t1, mtval
  sd t1, REC_MTVAL(t0)
  csrr t1, mstatus
  sd t1, REC_MSTATUS(t0)
  ld t1, REC_MCOUNT(t0)
  addi t1, t1, 1
  sd t1, REC_MCOUNT(t0)
  ld t1, REC_MRESUME(t0)
  beqz t1, priv_unexpected
  sd zero, REC_MRESUME(t0)
  csrw mepc, t1
  /* Resume in M with interrupts off (MPIE = 0) and loads untranslated (MPRV = 0). */
  li t1, MSTATUS_MPP
  csrs mstatus, t1
  li t1, MSTATUS_MPIE | MSTATUS_MPRV
  csrc mstatus, t1
  ld t1, REC_SAVE(t0)
  csrr t0, mscratch
  mret

priv_unexpected:
  la a0, priv_msg_trap
  call uart_puts
  csrr a0, mcause
  call uart_puthex
  la a0, priv_msg_mepc
  call uart_puts
  csrr a0, mepc
  call uart_puthex
  la a0, priv_msg_mtval
  call uart_puts
  csrr a0, mtval
  call uart_puthex
  li a0, '\n'
  call uart_putc
  j fail

  .align 6
  .globl priv_strap
priv_strap:
  csrw sscratch, t0
  la t0, priv_rec
  sd t1, REC_SSAVE(t0)
  csrr t1, scause
  sd t1, REC_SCAUSE(t0)
  csrr t1, sepc
  sd t1, REC_SEPC(t0)
  csrr t1, stval
  sd t1, REC_STVAL(t0)
  csrr t1, sstatus
  sd t1, REC_SSTATUS(t0)
  ld t1, REC_SCOUNT(t0)
  addi t1, t1, 1
  sd t1, REC_SCOUNT(t0)
  ld t1, REC_SRESUME(t0)
  beqz t1, 1f
  sd zero, REC_SRESUME(t0)
  csrw sepc, t1
  ld t1, REC_SSAVE(t0)
  csrr t0, sscratch
  sret
1:
  ld t1, REC_SSAVE(t0)
  csrr t0, sscratch
  ecall

  .section .rodata
priv_msg_trap:  .asciz "unexpected trap: mcause=0x"
priv_msg_mepc:  .asciz " mepc=0x"
priv_msg_mtval: .asciz " mtval=0x"
  .data
  .align 3
  .globl priv_rec
priv_rec: .skip REC_SIZE
  .text
.endm

#endif
#endif
