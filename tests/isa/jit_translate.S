# Code shapes the JIT's translator (src/jit/translatePage.ts) must get exactly right, run
# on QEMU and on romvisor with --jit off and --jit eager like every ISA test: a loop that
# rewrites its own body (with fence.i, and without it across a jump: the spec leaves that
# open, QEMU and romvisor both run the new instruction),
# a long straight-line block, a hot loop, fall-through and a branch across a page boundary,
# a compressed instruction in a page's last halfword and a 32-bit one straddling two pages,
# and loads and stores that fault in the middle of a block (registers written before the
# fault must be kept, nothing after it may run).
#include "env/harness.h"

#define CAUSE_LOAD_ACCESS  5
#define CAUSE_STORE_ACCESS 7
/* Past the end of RAM (128 MiB from 0x80000000 on both machines): nothing answers. */
#define UNMAPPED 0x88001000
/* addi a0, zero, 0: the immediate goes in bits 31..20. */
#define ADDI_A0_ZERO 0x00000513

TEST_BEGIN
  # 1: each turn patches the next instruction to addi a0, zero, t3, then fence.i.
  li gp, 1
  li t2, 0
  li t3, 10
  la t0, .Lsmc1
.Lsmc1_loop:
  slli t4, t3, 20
  li t5, ADDI_A0_ZERO
  or t4, t4, t5
  sw t4, 0(t0)
  fence.i
  .option push
  .option norvc
.Lsmc1:
  addi a0, zero, 0
  .option pop
  add t2, t2, a0
  addi t3, t3, -1
  bnez t3, .Lsmc1_loop
  CHECK t2, 55

  # 2: the same without fence.i; a jump between the store and the instruction it rewrites
  # (QEMU keeps running a block it is in the middle of; romvisor would not).
  li gp, 2
  li t2, 0
  li t3, 7
  la t0, .Lsmc2
.Lsmc2_loop:
  slli t4, t3, 20
  li t5, ADDI_A0_ZERO
  or t4, t4, t5
  sw t4, 0(t0)
  j .Lsmc2
  .option push
  .option norvc
.Lsmc2:
  addi a0, zero, 0
  .option pop
  add t2, t2, a0
  addi t3, t3, -1
  bnez t3, .Lsmc2_loop
  CHECK t2, 28

  # 3: a straight-line block of 400 instructions.
  li gp, 3
  li a0, 0
  li a1, 1
  .rept 200
  addi a0, a0, 3
  xor a1, a1, a0
  .endr
  CHECK a0, 600
  mv a0, a1
  li a1, 0
  .rept 200
  addi a1, a1, 3
  .endr
  CHECK a1, 600

  # 4: a loop of 1000 turns with a branch inside.
  li gp, 4
  li a0, 0
  li a1, 1000
  li a2, 0
.Lloop:
  add a0, a0, a1
  andi t0, a1, 1
  beqz t0, .Leven
  addi a2, a2, 1
.Leven:
  addi a1, a1, -1
  bnez a1, .Lloop
  CHECK a0, 500500
  CHECK a2, 500

  # 5: fall-through into the next page, then a loop whose branch goes back across it.
  li gp, 5
  li a0, 0
  li t1, 3
  j .Lcross
  .balign 4096
  .skip 4096 - 12
.Lcross:
  .option push
  .option norvc
  addi a0, a0, 1
.Lcross_loop:
  addi a0, a0, 1
  addi t1, t1, -1
  # (page boundary here)
  bnez t1, .Lcross_loop
  .option pop
  CHECK a0, 4

  # 6: a compressed instruction in a page's last halfword, then a 32-bit one that
  # straddles the next boundary.
  li gp, 6
  li a0, 0
  j .Lstraddle
  .balign 4096
  .skip 4096 - 4
.Lstraddle:
  c.addi a0, 1
  c.addi a0, 2
  # (page boundary here)
  c.addi a0, 4
  .option push
  .option norvc
  addi a0, a0, 16
  .option pop
  c.addi a0, 8
  j .Lstraddle2
  .balign 4096
  .skip 4096 - 4
.Lstraddle2:
  c.addi a0, 1
  .option push
  .option norvc
  addi a0, a0, 32
  .option pop
  CHECK a0, 64

  # 7, 8: a load, then a store, that fault mid-block.
  li a2, 0
  li a1, UNMAPPED
  addi a2, a2, 1
  TEST_TRAP_ADDR 7, CAUSE_LOAD_ACCESS, CAUSE_LOAD_ACCESS, ld a0, 0(a1)
  addi a2, a2, 2
  CHECK a2, 3
  li a1, UNMAPPED
  addi a2, a2, 4
  TEST_TRAP_ADDR 8, CAUSE_STORE_ACCESS, CAUSE_STORE_ACCESS, sd a2, 0(a1)
  addi a2, a2, 8
  CHECK a2, 15
TEST_END
