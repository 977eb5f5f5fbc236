# RV64I register-register and register-immediate arithmetic, including the *W forms'
# sign extension of bit 31 and shift amounts at 31/32/63 (and the masking of larger ones).
#include "env/harness.h"
TEST_BEGIN
  TEST_RR 1, add, 0x0000000000000000, 0, 0
  TEST_RR 2, add, 0xffffffff80000000, 0x7fffffffffffffff, 0x7fffffff80000001
  TEST_RR 3, add, 0x8000000000000000, 0x7fffffffffffffff, 1
  TEST_RR 4, sub, 0xffffffffffffffff, 0, 1
  TEST_RR 5, sub, 0x7fffffffffffffff, 0x8000000000000000, 1
  TEST_RR_SAME 6, add, 3, 1, 2
  TEST_RR 7, slt, 1, -1, 0
  TEST_RR 8, sltu, 0, -1, 0
  TEST_RR 9, slt, 1, 0x8000000000000000, 0x7fffffffffffffff
  TEST_RR 10, sltu, 0, 0x8000000000000000, 0x7fffffffffffffff
  TEST_RR 11, slt, 0, 5, 5
  TEST_RR 12, and, 0x0f000f000f000f00, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f
  TEST_RR 13, or, 0xff0fff0fff0fff0f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f
  TEST_RR 14, xor, 0xf00ff00ff00ff00f, 0xff00ff00ff00ff00, 0x0f0f0f0f0f0f0f0f

  # Shifts use the low 6 bits of rs2 in RV64.
  TEST_RR 20, sll, 0x0000000080000000, 1, 31
  TEST_RR 21, sll, 0x0000000100000000, 1, 32
  TEST_RR 22, sll, 0x8000000000000000, 1, 63
  TEST_RR 23, sll, 0x0000000000000001, 1, 64
  TEST_RR 24, sll, 0x0000000000000002, 1, 0xffffffffffffffc1
  TEST_RR 25, srl, 0x0000000000000001, 0x8000000000000000, 63
  TEST_RR 26, srl, 0x0000000080000000, 0x8000000000000000, 32
  TEST_RR 27, srl, 0x0000000100000000, 0x8000000000000000, 31
  TEST_RR 28, srl, 0x4000000000000000, 0x8000000000000000, 65
  TEST_RR 29, sra, 0xffffffffffffffff, 0x8000000000000000, 63
  TEST_RR 30, sra, 0xffffffff80000000, 0x8000000000000000, 32
  TEST_RR 31, sra, 0xffffffff00000000, 0x8000000000000000, 31
  TEST_RR 32, sra, 0x3fffffffffffffff, 0x7fffffffffffffff, 1
  TEST_RI 33, slli, 0x0000000080000000, 1, 31
  TEST_RI 34, slli, 0x0000000100000000, 1, 32
  TEST_RI 35, slli, 0x8000000000000000, 1, 63
  TEST_RI 36, srli, 0x0000000000000001, 0x8000000000000000, 63
  TEST_RI 37, srli, 0x0000000080000000, 0x8000000000000000, 32
  TEST_RI 38, srli, 0x0000000100000000, 0x8000000000000000, 31
  TEST_RI 39, srai, 0xffffffffffffffff, 0x8000000000000000, 63
  TEST_RI 40, srai, 0xffffffff80000000, 0x8000000000000000, 32
  TEST_RI 41, srai, 0xffffffff00000000, 0x8000000000000000, 31

  # Immediates are 12-bit sign-extended, also for the unsigned compare.
  TEST_RI 50, addi, 0xffffffffffffffff, 0, -1
  TEST_RI 51, addi, 0x00000000000007ff, 0, 2047
  TEST_RI 52, addi, 0xfffffffffffff800, 0, -2048
  TEST_RI 53, slti, 1, -2, -1
  TEST_RI 54, slti, 0, 0x7fffffffffffffff, -1
  TEST_RI 55, sltiu, 1, 5, -1
  TEST_RI 56, sltiu, 0, 0xffffffffffffffff, -1
  TEST_RI 57, sltiu, 1, 0, 1
  TEST_RI 58, xori, 0xedcba9876543210f, 0x123456789abcdef0, -1
  TEST_RI 59, ori, 0xfffffffffffff8f0, 0x00000000000000f0, -2048
  TEST_RI 60, andi, 0xfffffffffffff800, 0xffffffffffffffff, -2048
  TEST_RI 61, andi, 0x00000000000000f0, 0xfffffffffffffff0, 0xff

  li gp, 70
  lui a0, 0x80000
  CHECK a0, 0xffffffff80000000
  li gp, 71
  lui a0, 0x7ffff
  CHECK a0, 0x000000007ffff000
  li gp, 72
1: auipc a0, 0
  la a1, 1b
  bne a0, a1, fail_far
  li gp, 73
2: auipc a0, 0x1
  la a1, 2b
  sub a0, a0, a1
  CHECK a0, 0x1000

  # *W: operate on the low 32 bits, sign-extend bit 31 of the result.
  TEST_RR 80, addw, 0xffffffff80000000, 0x7fffffff, 1
  TEST_RR 81, addw, 0x0000000000000002, 0x100000001, 0xffffffff00000001
  TEST_RR 82, subw, 0xffffffffffffffff, 0, 1
  TEST_RR 83, subw, 0x000000007fffffff, 0x80000000, 1
  TEST_RR 84, sllw, 0xffffffff80000000, 1, 31
  TEST_RR 85, sllw, 0x0000000000000001, 1, 32
  TEST_RR 86, sllw, 0x0000000000000000, 0xffffffff00000000, 4
  TEST_RR 87, srlw, 0xffffffff80000000, 0xffffffff80000000, 0
  TEST_RR 88, srlw, 0x0000000000000001, 0x80000000, 31
  TEST_RR 89, srlw, 0x0000000040000000, 0xffffffff80000000, 1
  TEST_RR 90, srlw, 0xffffffff80000000, 0x80000000, 32
  TEST_RR 91, sraw, 0xffffffffffffffff, 0x80000000, 31
  TEST_RR 92, sraw, 0x000000007fffffff, 0xffffffff7fffffff, 0
  TEST_RR 93, sraw, 0xffffffffc0000000, 0x80000000, 33
  TEST_RI 94, addiw, 0xffffffff80000000, 0x7fffffff, 1
  TEST_RI 95, addiw, 0x0000000000000005, 0xdeadbeef00000005, 0
  TEST_RI 96, addiw, 0xffffffffffffffff, 0, -1
  TEST_RI 97, slliw, 0xffffffff80000000, 1, 31
  TEST_RI 98, slliw, 0x0000000000000000, 0x100000000, 1
  TEST_RI 99, srliw, 0x0000000000000001, 0x80000000, 31
  TEST_RI 100, srliw, 0xffffffffffffffff, 0xffffffff, 0
  TEST_RI 101, srliw, 0x000000007fffffff, 0xffffffff, 1
  TEST_RI 102, sraiw, 0xffffffffffffffff, 0x80000000, 31
  TEST_RI 103, sraiw, 0x0000000000000001, 0x7fffffff, 30

  # Writes to x0 are discarded.
  li gp, 110
  li a1, 5
  addi x0, a1, 1
  add x0, a1, a1
  CHECK x0, 0
TEST_END

fail_far:
  j fail
