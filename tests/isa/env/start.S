# Start code, trap handler and pass/fail exits shared by every ISA test.
#
# A test program defines `test_main` (through TEST_BEGIN in harness.h) and reaches `fail`
# with the failing test's number in gp. Everything here runs unchanged on QEMU `virt`
# (-bios none) and on romvisor: QEMU ignores HTIF, so after writing `tohost` the exits
# also write the sifive test device, which both machines implement.
#include "harness.h"

  .section .text.init
  .globl _start
_start:
  # QEMU enters with mstatus.FS = Off: any FP instruction before this would trap.
  la t0, trap_entry
  csrw mtvec, t0
  li t0, MSTATUS_FS_INITIAL
  csrs mstatus, t0
  csrwi fcsr, 0
  la sp, _stack_top
  li gp, 0
  call test_main
  j pass

  .text
  .globl pass
pass:
  la a0, msg_pass
  call uart_puts
  li t0, 1
  la t1, tohost
  sd t0, 0(t1)
  li t0, SIFIVE_TEST_BASE
  li t1, SIFIVE_TEST_PASS
  sw t1, 0(t0)
1: j 1b

  .globl fail
fail:
  # A failure with test number 0 would read as a pass at the test device.
  bnez gp, 1f
  li gp, FAIL_CODE_NO_TEST
1:
  la a0, msg_fail
  call uart_puts
  mv a0, gp
  call uart_putdec
  li a0, '\n'
  call uart_putc
  slli t0, gp, 1
  ori t0, t0, 1
  la t1, tohost
  sd t0, 0(t1)
  slli t1, gp, 16
  li t2, SIFIVE_TEST_FAIL
  or t1, t1, t2
  li t0, SIFIVE_TEST_BASE
  sw t1, 0(t0)
1: j 1b

# A trap is expected only while `trap_resume` holds where to continue (TEST_TRAP sets it).
# The handler records mcause/mtval/mepc for the test to check, clears `trap_resume`, and
# returns there; anything else is reported and fails the current test.
  .align 2
trap_entry:
  addi sp, sp, -16
  sd t0, 0(sp)
  sd t1, 8(sp)
  la t1, trap_resume
  ld t0, 0(t1)
  beqz t0, unexpected_trap
  sd zero, 0(t1)
  csrr t1, mepc
  csrw mepc, t0
  la t0, trap_epc
  sd t1, 0(t0)
  csrr t0, mcause
  la t1, trap_cause
  sd t0, 0(t1)
  csrr t0, mtval
  la t1, trap_tval
  sd t0, 0(t1)
  ld t0, 0(sp)
  ld t1, 8(sp)
  addi sp, sp, 16
  mret

unexpected_trap:
  # Whatever the test held is lost; report and fail.
  la a0, msg_trap
  call uart_puts
  csrr a0, mcause
  call uart_puthex
  la a0, msg_mepc
  call uart_puts
  csrr a0, mepc
  call uart_puthex
  la a0, msg_mtval
  call uart_puts
  csrr a0, mtval
  call uart_puthex
  li a0, '\n'
  call uart_putc
  j fail

# Console output: THR at offset 0, no LSR polling (both machines accept bytes at once).
  .globl uart_putc
uart_putc:
  li t0, UART_BASE
  sb a0, 0(t0)
  ret

  .globl uart_puts
uart_puts:
  li t0, UART_BASE
1:
  lbu t1, 0(a0)
  beqz t1, 2f
  sb t1, 0(t0)
  addi a0, a0, 1
  j 1b
2:
  ret

  .globl uart_puthex
uart_puthex:
  li t0, UART_BASE
  li t1, 60
1:
  srl t2, a0, t1
  andi t2, t2, 15
  addi t2, t2, '0'
  li t3, '9'
  ble t2, t3, 2f
  addi t2, t2, 'a' - '0' - 10
2:
  sb t2, 0(t0)
  addi t1, t1, -4
  bgez t1, 1b
  ret

  .globl uart_putdec
uart_putdec:
  # Digits are produced least significant first into a small buffer on the stack.
  addi sp, sp, -32
  addi t1, sp, 31
  sb zero, 0(t1)
  li t2, 10
1:
  remu t3, a0, t2
  divu a0, a0, t2
  addi t3, t3, '0'
  addi t1, t1, -1
  sb t3, 0(t1)
  bnez a0, 1b
  mv a0, t1
  mv t4, ra
  call uart_puts
  mv ra, t4
  addi sp, sp, 32
  ret

  .section .rodata
msg_pass:  .asciz "PASS\n"
msg_fail:  .asciz "FAIL test "
msg_trap:  .asciz "unexpected trap: mcause=0x"
msg_mepc:  .asciz " mepc=0x"
msg_mtval: .asciz " mtval=0x"

  .data
  .align 3
  .globl trap_resume, trap_cause, trap_tval, trap_epc
trap_resume: .dword 0
trap_cause:  .dword 0
trap_tval:   .dword 0
trap_epc:    .dword 0

# HTIF: the host watches this doubleword; nothing else lives in its page.
  .section .tohost, "aw", @progbits
  .align 12
  .globl tohost, fromhost
tohost:   .dword 0
fromhost: .dword 0
