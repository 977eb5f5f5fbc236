# RV64M: products' high halves in all three signednesses, truncating division, and the
# spec's fixed results for division by zero and signed overflow (unprivileged spec,
# "Division Operations", table of special cases), also for the *W forms.
#include "env/harness.h"
TEST_BEGIN
  TEST_RR 1, mul, 21, 3, 7
  TEST_RR 2, mul, 1, -1, -1
  TEST_RR 3, mul, 0x8000000000000000, 0x8000000000000000, -1
  TEST_RR 4, mul, 0x0000000000000000, 0x100000000, 0x100000000
  TEST_RR 5, mulh, 0x0000000000000000, -1, -1
  TEST_RR 6, mulh, 0x4000000000000000, 0x8000000000000000, 0x8000000000000000
  TEST_RR 7, mulh, 0xffffffffffffffff, -1, 1
  TEST_RR 8, mulh, 0x0000000000000001, 0x100000000, 0x100000000
  TEST_RR 9, mulhu, 0xfffffffffffffffe, -1, -1
  TEST_RR 10, mulhu, 0x0000000000000001, 0x8000000000000000, 2
  TEST_RR 11, mulhsu, 0xffffffffffffffff, -1, -1
  TEST_RR 12, mulhsu, 0x0000000000000000, 1, -1
  TEST_RR 13, mulhsu, 0xffffffffffffffff, -2, 0x8000000000000000
  TEST_RR 14, mulhsu, 0x7ffffffffffffffe, 0x7fffffffffffffff, -1
  TEST_RR_SAME 15, mulhu, 0x0000000000000001, 0x8000000000000000, 2

  TEST_RR 20, div, 3, 20, 6
  TEST_RR 21, div, -3, -20, 6
  TEST_RR 22, div, -3, 20, -6
  TEST_RR 23, div, 3, -20, -6
  TEST_RR 24, rem, 2, 20, 6
  TEST_RR 25, rem, -2, -20, 6
  TEST_RR 26, rem, 2, 20, -6
  TEST_RR 27, divu, 0x2aaaaaaaaaaaaaa7, -20, 6
  TEST_RR 28, remu, 2, -20, 6
  # Division by zero: quotient all ones, remainder the dividend.
  TEST_RR 30, div, -1, 12345, 0
  TEST_RR 31, divu, 0xffffffffffffffff, 12345, 0
  TEST_RR 32, rem, 12345, 12345, 0
  TEST_RR 33, remu, 0x8000000000000000, 0x8000000000000000, 0
  TEST_RR 34, div, -1, 0x8000000000000000, 0
  # Signed overflow: quotient the dividend, remainder zero.
  TEST_RR 35, div, 0x8000000000000000, 0x8000000000000000, -1
  TEST_RR 36, rem, 0, 0x8000000000000000, -1

  TEST_RR 40, mulw, 0xfffffffffffffffe, 0x7fffffff, 2
  TEST_RR 41, mulw, 15, 0x100000003, 0x100000005
  TEST_RR 42, mulw, 0xffffffff80000000, 0x10000, 0x8000
  TEST_RR 43, divw, 0xfffffffffffffffd, -20, 6
  TEST_RR 44, divw, 4, 0x100000010, 4
  TEST_RR 45, divuw, 0x000000002aaaaaa7, 0xffffffec, 6
  TEST_RR 46, divuw, 0xffffffffffffffff, 0xffffffff, 1
  TEST_RR 47, divuw, 0x0000000040000000, 0x80000000, 2
  TEST_RR 48, remw, 0xffffffffffffffff, -7, 2
  TEST_RR 49, remuw, 2, 0xffffffec, 6
  TEST_RR 50, divw, -1, 7, 0
  TEST_RR 51, divw, -1, 7, 0x100000000
  TEST_RR 52, divuw, 0xffffffffffffffff, 7, 0
  TEST_RR 53, remw, 0xffffffff80000000, 0x180000000, 0
  TEST_RR 54, remuw, 0xffffffff80000000, 0x180000000, 0
  TEST_RR 55, remw, 7, 7, 0
  TEST_RR 56, divw, 0xffffffff80000000, 0x80000000, -1
  TEST_RR 57, remw, 0, 0x80000000, -1
  TEST_RR 58, divw, 0xffffffff80000000, 0x80000000, 0xffffffff
TEST_END
