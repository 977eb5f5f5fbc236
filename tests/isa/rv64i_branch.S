# RV64I conditional branches: taken and not taken, signed against unsigned order at the
# boundaries, forward and backward targets.
#include "env/harness.h"

.macro TEST_BR num, insn, taken, a, b
  li gp, \num
  li a1, \a
  li a2, \b
  \insn a1, a2, .Lbr_taken\@
  li a0, 0
  j .Lbr_done\@
.Lbr_taken\@:
  li a0, 1
.Lbr_done\@:
  CHECK a0, \taken
.endm

TEST_BEGIN
  TEST_BR 1, beq, 1, 5, 5
  TEST_BR 2, beq, 0, 5, 6
  TEST_BR 3, beq, 0, 0x100000005, 5
  TEST_BR 4, bne, 1, 0x100000005, 5
  TEST_BR 5, bne, 0, -1, -1
  TEST_BR 6, blt, 1, -1, 0
  TEST_BR 7, blt, 0, 0, -1
  TEST_BR 8, blt, 0, 3, 3
  TEST_BR 9, blt, 1, 0x8000000000000000, 0x7fffffffffffffff
  TEST_BR 10, bge, 1, 3, 3
  TEST_BR 11, bge, 1, 0, -1
  TEST_BR 12, bge, 0, -1, 0
  TEST_BR 13, bge, 0, 0x8000000000000000, 0x7fffffffffffffff
  TEST_BR 14, bltu, 0, -1, 0
  TEST_BR 15, bltu, 1, 0, -1
  TEST_BR 16, bltu, 0, 0x8000000000000000, 0x7fffffffffffffff
  TEST_BR 17, bltu, 0, 7, 7
  TEST_BR 18, bgeu, 1, -1, 0
  TEST_BR 19, bgeu, 0, 0, -1
  TEST_BR 20, bgeu, 1, 7, 7
  TEST_BR 21, bgeu, 1, 0x8000000000000000, 0x7fffffffffffffff

  # A backward branch: count down from 10.
  li gp, 30
  li a0, 0
  li a1, 10
1:
  addi a0, a0, 3
  addi a1, a1, -1
  bnez a1, 1b
  CHECK a0, 30

  # Branching on the same register.
  li gp, 31
  li a1, 0x8000000000000000
  li a0, 0
  blt a1, a1, 2f
  bltu a1, a1, 2f
  bne a1, a1, 2f
  li a0, 1
2:
  CHECK a0, 1
TEST_END
