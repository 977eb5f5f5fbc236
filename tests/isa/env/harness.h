/* The ISA tests' harness: machine constants and gas macros.
 *
 * Register conventions inside a test: gp holds the current test number (fail reports it),
 * t6 is the comparison scratch of CHECK, sp is the stack; everything else is the test's.
 * Operands are loaded into a1..a3 / fa1..fa3 and results land in a0 / fa0. */
#ifndef HARNESS_H
#define HARNESS_H

#define UART_BASE          0x10000000
#define SIFIVE_TEST_BASE   0x100000
#define SIFIVE_TEST_PASS   0x5555
#define SIFIVE_TEST_FAIL   0x3333
#define FAIL_CODE_NO_TEST  1023
#define MSTATUS_FS_INITIAL 0x2000
#define MSTATUS_FS         0x6000

/* fflags bits (unprivileged spec, "Accrued Exception Flags"). */
#define NV 0x10
#define DZ 0x08
#define OF 0x04
#define UF 0x02
#define NX 0x01

/* mcause values for the synchronous exceptions the tests provoke. */
#define CAUSE_MISALIGNED_FETCH 0
#define CAUSE_ILLEGAL_INSTRUCTION 2
#define CAUSE_BREAKPOINT 3
#define CAUSE_MISALIGNED_LOAD 4
#define CAUSE_MISALIGNED_STORE 6
#define CAUSE_MACHINE_ECALL 11

#ifdef __ASSEMBLER__

#define TEST_BEGIN \
  .text; .globl test_main; test_main: addi sp, sp, -16; sd ra, 0(sp)
#define TEST_END \
  ld ra, 0(sp); addi sp, sp, 16; ret

/* Fails the current test unless \reg == \value (a 64-bit constant). */
.macro CHECK reg, value
  li t6, \value
  beq \reg, t6, .Lcheck_ok\@
  j fail
.Lcheck_ok\@:
.endm

.macro TEST_RR num, insn, exp, a, b
  li gp, \num
  li a1, \a
  li a2, \b
  \insn a0, a1, a2
  CHECK a0, \exp
.endm

/* The destination is also the first source: catches cores that read after writing. */
.macro TEST_RR_SAME num, insn, exp, a, b
  li gp, \num
  li a1, \a
  li a2, \b
  \insn a1, a1, a2
  CHECK a1, \exp
.endm

.macro TEST_RI num, insn, exp, a, imm
  li gp, \num
  li a1, \a
  \insn a0, a1, \imm
  CHECK a0, \exp
.endm

/* Loads one FP test operand: type x goes to an integer register, s is NaN-boxed by
 * fmv.w.x, d is taken as raw bits. */
.macro LOAD_OPERAND type, ireg, freg, bits
  li t0, \bits
  .ifc \type,x
  mv \ireg, t0
  .else
  .ifc \type,s
  fmv.w.x \freg, t0
  .else
  fmv.d.x \freg, t0
  .endif
  .endif
.endm

/* Checks a0 (type x), or fa0's bits: a single must come back NaN-boxed (upper 32 ones). */
.macro CHECK_RESULT type, exp
  .ifc \type,x
  CHECK a0, \exp
  .else
  fmv.x.d a0, fa0
  .ifc \type,s
  CHECK a0, (0xffffffff00000000 | (\exp))
  .else
  CHECK a0, \exp
  .endif
  .endif
.endm

/* One FP test: clear fflags, load a1..a3 (fa1..fa3) with operands of type \t, run \insn,
 * check the result of type \tout and
 * the exact fflags raised. */
.macro TEST_FP num, tout, exp, flags, t, a, b, c, insn:vararg
  li gp, \num
  LOAD_OPERAND \t, a1, fa1, \a
  LOAD_OPERAND \t, a2, fa2, \b
  LOAD_OPERAND \t, a3, fa3, \c
  fsflags zero
  \insn
  CHECK_RESULT \tout, \exp
  frflags a0
  CHECK a0, \flags
.endm

/* TEST_FP with frm set to \frm around \insn (restored to 0 after): for rm = dyn. gas
 * splits statements at ';' before expanding a macro, so a pre-step can't ride in \insn. */
.macro TEST_FP_FRM num, frm, tout, exp, flags, t, a, b, c, insn:vararg
  li gp, \num
  LOAD_OPERAND \t, a1, fa1, \a
  LOAD_OPERAND \t, a2, fa2, \b
  LOAD_OPERAND \t, a3, fa3, \c
  fsrmi \frm
  fsflags zero
  \insn
  fsrmi 0
  CHECK_RESULT \tout, \exp
  frflags a0
  CHECK a0, \flags
.endm

/* Trap tests run \insn expecting a synchronous trap; mepc must be the instruction and
 * execution resumes after it. mcause must be \cause (or \alt_cause where the spec and
 * QEMU part ways, see TEST_TRAP_ADDR). What mtval may hold depends on the cause:
 *   TEST_TRAP          exactly \tval
 *   TEST_TRAP_ADDR     the address the instruction used, kept in a1 by the test
 *   TEST_TRAP_ILLEGAL  0 or the instruction bits \bits (privileged spec, "mtval")
 *   TEST_TRAP_BREAK    0 or the instruction's address (privileged spec, "mtval") */
.macro TEST_TRAP num, cause, tval, insn:vararg
  TRAP_RUN \num, \cause, \cause, \insn
  CHECK a1, \tval
.endm

.macro TEST_TRAP_ADDR num, cause, alt_cause, insn:vararg
  mv a4, a1
  TRAP_RUN \num, \cause, \alt_cause, \insn
  beq a1, a4, .Ltrap_tval_ok\@
  j fail
.Ltrap_tval_ok\@:
.endm

.macro TEST_TRAP_ILLEGAL num, bits, insn:vararg
  TRAP_RUN \num, CAUSE_ILLEGAL_INSTRUCTION, CAUSE_ILLEGAL_INSTRUCTION, \insn
  beqz a1, .Ltrap_tval_ok\@
  CHECK a1, \bits
.Ltrap_tval_ok\@:
.endm

.macro TEST_TRAP_BREAK num, insn:vararg
  TRAP_RUN \num, CAUSE_BREAKPOINT, CAUSE_BREAKPOINT, \insn
  beqz a1, .Ltrap_tval_ok\@
  beq a1, a0, .Ltrap_tval_ok\@
  j fail
.Ltrap_tval_ok\@:
.endm

/* Leaves mepc in a0 (checked) and mtval in a1 for the caller's mtval check. */
.macro TRAP_RUN num, cause, alt_cause, insn:vararg
  li gp, \num
  la t0, .Ltrap_after\@
  la t1, trap_resume
  sd t0, 0(t1)
  li t0, -1
  la t1, trap_cause
  sd t0, 0(t1)
.Ltrap_at\@:
  \insn
.Ltrap_after\@:
  la t1, trap_cause
  ld a0, 0(t1)
  li t6, \cause
  beq a0, t6, .Ltrap_cause_ok\@
  CHECK a0, \alt_cause
.Ltrap_cause_ok\@:
  la t1, trap_epc
  ld a0, 0(t1)
  la t0, .Ltrap_at\@
  beq a0, t0, .Ltrap_epc_ok\@
  j fail
.Ltrap_epc_ok\@:
  la t1, trap_tval
  ld a1, 0(t1)
.endm

#endif
#endif
