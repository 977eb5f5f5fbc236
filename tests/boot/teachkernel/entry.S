# Every hart starts here in M-mode with a0 = mhartid, a1 = the device tree.
# Each takes its own 4 KiB stack and calls start(hartid, dtb); the trap vector saves the
# caller-saved registers, calls trap() in C and returns with mret.
#define STACK_SIZE 4096
#define MAX_HARTS 8

  .section .text.entry
  .globl _entry
_entry:
  li t0, MAX_HARTS
  bgeu a0, t0, park           # more harts than stacks: they sleep forever
  la sp, stacks
  li t0, STACK_SIZE
  addi t1, a0, 1
  mul t0, t0, t1
  add sp, sp, t0
  la t0, trap_vector
  csrw mtvec, t0
  call start
park:
  wfi
  j park

  .text
  .balign 4
  .globl trap_vector
trap_vector:
  addi sp, sp, -128
  sd ra, 0(sp)
  sd t0, 8(sp)
  sd t1, 16(sp)
  sd t2, 24(sp)
  sd a0, 32(sp)
  sd a1, 40(sp)
  sd a2, 48(sp)
  sd a3, 56(sp)
  sd a4, 64(sp)
  sd a5, 72(sp)
  sd a6, 80(sp)
  sd a7, 88(sp)
  sd t3, 96(sp)
  sd t4, 104(sp)
  sd t5, 112(sp)
  sd t6, 120(sp)
  csrr a0, mcause
  csrr a1, mepc
  call trap
  ld ra, 0(sp)
  ld t0, 8(sp)
  ld t1, 16(sp)
  ld t2, 24(sp)
  ld a0, 32(sp)
  ld a1, 40(sp)
  ld a2, 48(sp)
  ld a3, 56(sp)
  ld a4, 64(sp)
  ld a5, 72(sp)
  ld a6, 80(sp)
  ld a7, 88(sp)
  ld t3, 96(sp)
  ld t4, 104(sp)
  ld t5, 112(sp)
  ld t6, 120(sp)
  addi sp, sp, 128
  mret

  .bss
  .balign 16
stacks:
  .space STACK_SIZE * MAX_HARTS
