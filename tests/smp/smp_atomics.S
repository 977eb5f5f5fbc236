# Several harts contending for memory: every hart adds ITERATIONS to three shared
# counters, one with amoadd.d, one with an LR/SC retry loop, one with plain loads and stores
# under a spinlock taken with amoswap.w.aq; then each sleeps in WFI until hart 0's IPI
# (CLINT msip) wakes it, and reports. Hart 0 checks that every counter holds exactly
# HARTS * ITERATIONS and every other hart took its IPI, then prints PASS. Built for
# HARTS harts (-DHARTS=n), started as QEMU's virt starts them with -bios none: all at
# 0x8000_0000 with a0 = the hart id.
#define UART_BASE 0x10000000
#define SIFIVE_TEST_BASE 0x100000
#define SIFIVE_TEST_PASS 0x5555
#define SIFIVE_TEST_FAIL 0x3333
#define CLINT_MSIP 0x2000000
#define MIP_MSIP 0x8
#define ITERATIONS 3000
#define STACK 0x1000

  .section .text.init
  .globl _start
_start:
  csrr s0, mhartid
  li t0, HARTS
  bgeu s0, t0, park          # harts past HARTS (a machine with more) stay out of it
  la sp, stacks
  addi t0, s0, 1
  slli t0, t0, 12
  add sp, sp, t0
  la t0, trap
  csrw mtvec, t0

  # Everyone arrives before anyone counts, so the harts overlap.
  la t0, arrived
  li t1, 1
  amoadd.w zero, t1, (t0)
1:
  lw t1, 0(t0)
  li t2, HARTS
  bne t1, t2, 1b

  li s1, ITERATIONS
  la s2, counter_amo
  la s3, counter_lrsc
  la s4, counter_lock
  la s5, lock
count:
  li t0, 1
  amoadd.d zero, t0, (s2)
2:
  lr.d t0, (s3)
  addi t0, t0, 1
  sc.d t1, t0, (s3)
  bnez t1, 2b
  li t0, 1
3:
  amoswap.w.aq t1, t0, (s5)
  bnez t1, 3b
  ld t2, 0(s4)
  addi t2, t2, 1
  sd t2, 0(s4)
  amoswap.w.rl zero, zero, (s5)
  addi s1, s1, -1
  bnez s1, count

  la t0, finished
  li t1, 1
  amoadd.w zero, t1, (t0)
  beqz s0, hart0

  # A hart other than 0 waits for its IPI with MSIE set and MIE clear: WFI wakes on the
  # pending interrupt without taking it.
  li t0, MIP_MSIP
  csrw mie, t0
4:
  wfi
  csrr t0, mip
  andi t0, t0, MIP_MSIP
  beqz t0, 4b
  li t0, CLINT_MSIP
  slli t1, s0, 2
  add t0, t0, t1
  sw zero, 0(t0)             # clear our msip
  la t0, ipis
  li t1, 1
  amoadd.w zero, t1, (t0)
park:
  wfi
  j park

hart0:
  # Wait for every hart to finish counting, then wake each with an IPI.
  la t0, finished
5:
  lw t1, 0(t0)
  li t2, HARTS
  bne t1, t2, 5b
  li s1, 1
6:
  li t0, HARTS
  bgeu s1, t0, 7f
  li t0, CLINT_MSIP
  slli t1, s1, 2
  add t0, t0, t1
  li t1, 1
  sw t1, 0(t0)
  addi s1, s1, 1
  j 6b
7:
  la t0, ipis
  li t2, HARTS - 1
8:
  lw t1, 0(t0)
  bne t1, t2, 8b

  li a0, 1
  li t0, HARTS * ITERATIONS
  ld t1, counter_amo
  bne t1, t0, fail
  li a0, 2
  ld t1, counter_lrsc
  bne t1, t0, fail
  li a0, 3
  ld t1, counter_lock
  bne t1, t0, fail

  la a1, msg_pass
  call puts
  li t0, 1
  la t1, tohost
  sd t0, 0(t1)
  li t0, SIFIVE_TEST_BASE
  li t1, SIFIVE_TEST_PASS
  sw t1, 0(t0)
9:
  j 9b

# a0 = the failing check; reported as tohost (a0 << 1) | 1 and the test device's code.
fail:
  mv s1, a0
  la a1, msg_fail
  call puts
  addi t0, s1, '0'
  li t1, UART_BASE
  sb t0, 0(t1)
  li t0, '\n'
  sb t0, 0(t1)
  slli t0, s1, 1
  ori t0, t0, 1
  la t1, tohost
  sd t0, 0(t1)
  slli t1, s1, 16
  li t2, SIFIVE_TEST_FAIL
  or t1, t1, t2
  li t0, SIFIVE_TEST_BASE
  sw t1, 0(t0)
1:
  j 1b

# Any trap is a failure (check 9).
trap:
  li a0, 9
  j fail

# Prints the string at a1 (the UART needs no waiting on either machine at this rate).
puts:
  li t1, UART_BASE
1:
  lbu t0, 0(a1)
  beqz t0, 2f
  sb t0, 0(t1)
  addi a1, a1, 1
  j 1b
2:
  ret

  .section .tohost, "aw", @progbits
  .align 6
  .globl tohost
tohost: .dword 0
  .align 6
  .globl fromhost
fromhost: .dword 0

  .section .rodata
msg_pass: .asciz "PASS\n"
msg_fail: .asciz "FAIL check "

  .data
  .align 6
arrived: .word 0
  .align 6
finished: .word 0
  .align 6
ipis: .word 0
  .align 6
lock: .word 0
  .align 6
counter_amo: .dword 0
  .align 6
counter_lrsc: .dword 0
  .align 6
counter_lock: .dword 0

  .bss
  .align 12
stacks: .skip STACK * 8
