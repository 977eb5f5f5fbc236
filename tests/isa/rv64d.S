# RV64D arithmetic, square root, min/max, sign injection, compares, classification and
# moves: exact IEEE 754 results with the exact fflags each raises, NaN results canonical
# (0x7ff8000000000000) except for sign injection and moves, which keep payloads.
#include "env/harness.h"

#define ONE   0x3ff0000000000000
#define MONE  0xbff0000000000000
#define TWO   0x4000000000000000
#define INF   0x7ff0000000000000
#define MINF  0xfff0000000000000
#define QNAN  0x7ff8000000000000
#define SNAN  0x7ff0000000000001
#define PQNAN 0x7ff8000000000123
#define MAX   0x7fefffffffffffff
#define MINN  0x0010000000000000
#define SUB1  0x0000000000000001
#define PZERO 0x0000000000000000
#define MZERO 0x8000000000000000
#define HALF  0x3fe0000000000000

TEST_BEGIN
  TEST_FP 1, d, 0x4008000000000000, 0, d, ONE, TWO, 0, fadd.d fa0, fa1, fa2, rne
  TEST_FP 2, d, ONE, NX, d, ONE, 0x3ca0000000000000, 0, fadd.d fa0, fa1, fa2, rne
  TEST_FP 3, d, QNAN, NV, d, INF, INF, 0, fsub.d fa0, fa1, fa2, rne
  TEST_FP 4, d, QNAN, NV, d, PZERO, INF, 0, fmul.d fa0, fa1, fa2, rne
  TEST_FP 5, d, 0xc024000000000000, 0, d, 0x4004000000000000, 0xc010000000000000, 0, fmul.d fa0, fa1, fa2, rne
  TEST_FP 6, d, INF, DZ, d, ONE, PZERO, 0, fdiv.d fa0, fa1, fa2, rne
  TEST_FP 7, d, MINF, DZ, d, MONE, PZERO, 0, fdiv.d fa0, fa1, fa2, rne
  TEST_FP 8, d, QNAN, NV, d, PZERO, PZERO, 0, fdiv.d fa0, fa1, fa2, rne
  TEST_FP 9, d, 0x3fd5555555555555, NX, d, ONE, 0x4008000000000000, 0, fdiv.d fa0, fa1, fa2, rne
  TEST_FP 10, d, QNAN, NV, d, MONE, 0, 0, fsqrt.d fa0, fa1, rne
  TEST_FP 11, d, TWO, 0, d, 0x4010000000000000, 0, 0, fsqrt.d fa0, fa1, rne
  TEST_FP 12, d, MZERO, 0, d, MZERO, 0, 0, fsqrt.d fa0, fa1, rne
  TEST_FP 13, d, 0x3ff6a09e667f3bcd, NX, d, TWO, 0, 0, fsqrt.d fa0, fa1, rne
  TEST_FP 14, d, INF, 0, d, INF, 0, 0, fsqrt.d fa0, fa1, rne
  TEST_FP 15, d, INF, OF|NX, d, MAX, TWO, 0, fmul.d fa0, fa1, fa2, rne
  TEST_FP 16, d, MAX, OF|NX, d, MAX, TWO, 0, fmul.d fa0, fa1, fa2, rtz
  # Tininess after rounding, and underflow only when also inexact.
  TEST_FP 17, d, 0x0008000000000000, 0, d, MINN, HALF, 0, fmul.d fa0, fa1, fa2, rne
  TEST_FP 18, d, PZERO, UF|NX, d, SUB1, HALF, 0, fmul.d fa0, fa1, fa2, rne
  TEST_FP 19, d, SUB1, UF|NX, d, SUB1, HALF, 0, fmul.d fa0, fa1, fa2, rup
  TEST_FP 20, d, QNAN, 0, d, PQNAN, ONE, 0, fadd.d fa0, fa1, fa2, rne
  TEST_FP 21, d, QNAN, NV, d, SNAN, ONE, 0, fadd.d fa0, fa1, fa2, rne
  TEST_FP 22, d, QNAN, 0, d, ONE, PQNAN, 0, fdiv.d fa0, fa1, fa2, rne

  # fmin/fmax: a single NaN operand yields the other operand; -0 < +0.
  TEST_FP 30, d, ONE, 0, d, PQNAN, ONE, 0, fmin.d fa0, fa1, fa2
  TEST_FP 31, d, ONE, NV, d, SNAN, ONE, 0, fmin.d fa0, fa1, fa2
  TEST_FP 32, d, ONE, 0, d, ONE, PQNAN, 0, fmax.d fa0, fa1, fa2
  TEST_FP 33, d, QNAN, 0, d, PQNAN, PQNAN, 0, fmax.d fa0, fa1, fa2
  TEST_FP 34, d, QNAN, NV, d, SNAN, PQNAN, 0, fmin.d fa0, fa1, fa2
  TEST_FP 35, d, MZERO, 0, d, MZERO, PZERO, 0, fmin.d fa0, fa1, fa2
  TEST_FP 36, d, MZERO, 0, d, PZERO, MZERO, 0, fmin.d fa0, fa1, fa2
  TEST_FP 37, d, PZERO, 0, d, MZERO, PZERO, 0, fmax.d fa0, fa1, fa2
  TEST_FP 38, d, PZERO, 0, d, PZERO, MZERO, 0, fmax.d fa0, fa1, fa2
  TEST_FP 39, d, MINF, 0, d, MINF, MAX, 0, fmin.d fa0, fa1, fa2

  # Sign injection never signals and keeps NaN payloads.
  TEST_FP 40, d, 0xfff8000000000123, 0, d, PQNAN, MONE, 0, fsgnj.d fa0, fa1, fa2
  TEST_FP 41, d, MONE, 0, d, ONE, ONE, 0, fsgnjn.d fa0, fa1, fa2
  TEST_FP 42, d, TWO, 0, d, 0xc000000000000000, MONE, 0, fsgnjx.d fa0, fa1, fa2
  TEST_FP 43, d, SNAN, 0, d, SNAN, ONE, 0, fsgnj.d fa0, fa1, fa2
  TEST_FP 44, d, 0xfff0000000000001, 0, d, SNAN, ONE, 0, fsgnjn.d fa0, fa1, fa2
  TEST_FP 45, d, ONE, 0, d, MONE, MONE, 0, fsgnjx.d fa0, fa1, fa2

  # Compares: feq is quiet (NV only for signaling NaNs), flt/fle signal on any NaN.
  TEST_FP 50, x, 0, 0, d, PQNAN, ONE, 0, feq.d a0, fa1, fa2
  TEST_FP 51, x, 0, NV, d, SNAN, ONE, 0, feq.d a0, fa1, fa2
  TEST_FP 52, x, 0, NV, d, PQNAN, ONE, 0, flt.d a0, fa1, fa2
  TEST_FP 53, x, 0, NV, d, ONE, PQNAN, 0, fle.d a0, fa1, fa2
  TEST_FP 54, x, 1, 0, d, MZERO, PZERO, 0, feq.d a0, fa1, fa2
  TEST_FP 55, x, 0, 0, d, MZERO, PZERO, 0, flt.d a0, fa1, fa2
  TEST_FP 56, x, 1, 0, d, MZERO, PZERO, 0, fle.d a0, fa1, fa2
  TEST_FP 57, x, 1, 0, d, MINF, MAX, 0, flt.d a0, fa1, fa2
  TEST_FP 58, x, 0, 0, d, TWO, ONE, 0, fle.d a0, fa1, fa2
  TEST_FP 59, x, 1, 0, d, MONE, MONE, 0, fle.d a0, fa1, fa2

  # fclass: one bit per class, from -inf (bit 0) to quiet NaN (bit 9).
  TEST_FP 60, x, 0x001, 0, d, MINF, 0, 0, fclass.d a0, fa1
  TEST_FP 61, x, 0x002, 0, d, MONE, 0, 0, fclass.d a0, fa1
  TEST_FP 62, x, 0x004, 0, d, 0x800fffffffffffff, 0, 0, fclass.d a0, fa1
  TEST_FP 63, x, 0x008, 0, d, MZERO, 0, 0, fclass.d a0, fa1
  TEST_FP 64, x, 0x010, 0, d, PZERO, 0, 0, fclass.d a0, fa1
  TEST_FP 65, x, 0x020, 0, d, SUB1, 0, 0, fclass.d a0, fa1
  TEST_FP 66, x, 0x040, 0, d, ONE, 0, 0, fclass.d a0, fa1
  TEST_FP 67, x, 0x080, 0, d, INF, 0, 0, fclass.d a0, fa1
  TEST_FP 68, x, 0x100, 0, d, SNAN, 0, 0, fclass.d a0, fa1
  TEST_FP 69, x, 0x200, 0, d, PQNAN, 0, 0, fclass.d a0, fa1

  # Precision conversions: NaNs become canonical, signaling ones raise NV.
  TEST_FP 70, s, 0x3dcccccd, NX, d, 0x3fb999999999999a, 0, 0, fcvt.s.d fa0, fa1, rne
  TEST_FP 71, s, 0x7fc00000, 0, d, PQNAN, 0, 0, fcvt.s.d fa0, fa1, rne
  TEST_FP 72, s, 0x7fc00000, NV, d, SNAN, 0, 0, fcvt.s.d fa0, fa1, rne
  TEST_FP 73, d, 0x3fb99999a0000000, 0, s, 0x3dcccccd, 0, 0, fcvt.d.s fa0, fa1
  TEST_FP 74, d, QNAN, NV, s, 0x7f800001, 0, 0, fcvt.d.s fa0, fa1
  TEST_FP 75, d, QNAN, 0, s, 0xffc00123, 0, 0, fcvt.d.s fa0, fa1

  # Moves keep every bit, signaling NaNs included.
  TEST_FP 80, x, SNAN, 0, d, SNAN, 0, 0, fmv.x.d a0, fa1
  TEST_FP 81, d, 0x7ff4000000000000, 0, x, 0x7ff4000000000000, 0, 0, fmv.d.x fa0, a1
  li gp, 82
  la a1, fp_data
  li a2, 0xfff0000000000abc
  fmv.d.x fa1, a2
  fsd fa1, 8(a1)
  ld a0, 8(a1)
  CHECK a0, 0xfff0000000000abc
  li gp, 83
  li a2, 0x7ff0000000000def
  sd a2, 0(a1)
  fld fa0, 0(a1)
  fmv.x.d a0, fa0
  CHECK a0, 0x7ff0000000000def
  frflags a0
  CHECK a0, 0
TEST_END

  .data
  .align 3
fp_data:
  .space 16
