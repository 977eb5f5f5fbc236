# Bare-metal start for the benchmark programs: trap vector, FP on (QEMU enters with
# mstatus.FS = Off), stack, zeroed .bss, then main(); its return value goes to bench_exit.
  .section .text.init
  .globl _start
_start:
  la t0, trap_entry
  csrw mtvec, t0
  li t0, 0x2000
  csrs mstatus, t0
  csrwi fcsr, 0
  la sp, _stack_top
  la t0, _bss_start
  la t1, _bss_end
1:
  bgeu t0, t1, 2f
  sd zero, 0(t0)
  addi t0, t0, 8
  j 1b
2:
  call main
  call bench_exit

  .align 2
trap_entry:
  csrr a0, mcause
  csrr a1, mepc
  csrr a2, mtval
  call bench_trap
