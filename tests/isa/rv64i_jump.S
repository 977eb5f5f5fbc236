# RV64I jal and jalr: link values, jalr clearing bit 0 of the target, jalr whose rd is its
# rs1 (the target uses the old value), and rd = x0.
#include "env/harness.h"
TEST_BEGIN
  li gp, 1
  jal a0, 1f
2:
  j fail
1:
  la a1, 2b
  bne a0, a1, fail

  li gp, 2
  la a1, 3f
  jalr a0, 0(a1)
4:
  j fail
3:
  la a2, 4b
  bne a0, a2, fail

  # Bit 0 of rs1 + imm is cleared: an odd register plus 1 lands on the even label.
  li gp, 3
  la a1, 5f
  addi a1, a1, -1
  jalr a0, 1(a1)
  j fail
5:

  # rd == rs1: the target comes from the old value.
  li gp, 4
  la a1, 6f
  jalr a1, 0(a1)
7:
  j fail
6:
  la a2, 7b
  bne a1, a2, fail

  # Negative offset, rd = x0.
  li gp, 5
  la a1, 8f
  addi a1, a1, 16
  jalr x0, -16(a1)
  j fail
8:
  CHECK x0, 0

  # jal backwards with x0 link.
  li gp, 6
  li a0, 0
  j 10f
9:
  li a0, 42
  j 11f
10:
  jal x0, 9b
11:
  CHECK a0, 42
TEST_END
