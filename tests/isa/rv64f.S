# RV64F: single-precision arithmetic, min/max, sign injection, compares, classification,
# and NaN boxing: every single result is written NaN-boxed (upper 32 bits ones, which
# CHECK_RESULT verifies), and an input that is not properly boxed reads as the canonical
# NaN 0x7fc00000, except for fmv.x.w and fsw which move the low 32 bits as they are.
#include "env/harness.h"

#define ONE   0x3f800000
#define MONE  0xbf800000
#define TWO   0x40000000
#define INF   0x7f800000
#define MINF  0xff800000
#define QNAN  0x7fc00000
#define SNAN  0x7f800001
#define PQNAN 0x7fc00123
#define MAX   0x7f7fffff
#define SUB1  0x00000001
#define PZERO 0x00000000
#define MZERO 0x80000000
#define HALF  0x3f000000

TEST_BEGIN
  TEST_FP 1, s, 0x40400000, 0, s, ONE, TWO, 0, fadd.s fa0, fa1, fa2, rne
  TEST_FP 2, s, ONE, NX, s, ONE, 0x33800000, 0, fadd.s fa0, fa1, fa2, rne
  TEST_FP 3, s, QNAN, NV, s, INF, INF, 0, fsub.s fa0, fa1, fa2, rne
  TEST_FP 4, s, QNAN, NV, s, PZERO, INF, 0, fmul.s fa0, fa1, fa2, rne
  TEST_FP 5, s, INF, DZ, s, ONE, PZERO, 0, fdiv.s fa0, fa1, fa2, rne
  TEST_FP 6, s, 0x3eaaaaab, NX, s, ONE, 0x40400000, 0, fdiv.s fa0, fa1, fa2, rne
  TEST_FP 7, s, 0x3fb504f3, NX, s, TWO, 0, 0, fsqrt.s fa0, fa1, rne
  TEST_FP 8, s, QNAN, NV, s, MONE, 0, 0, fsqrt.s fa0, fa1, rne
  TEST_FP 9, s, TWO, 0, s, 0x40800000, 0, 0, fsqrt.s fa0, fa1, rne
  TEST_FP 10, s, INF, OF|NX, s, MAX, TWO, 0, fmul.s fa0, fa1, fa2, rne
  TEST_FP 11, s, MAX, OF|NX, s, MAX, TWO, 0, fmul.s fa0, fa1, fa2, rtz
  TEST_FP 12, s, PZERO, UF|NX, s, SUB1, HALF, 0, fmul.s fa0, fa1, fa2, rne
  TEST_FP 13, s, 0x00400000, 0, s, 0x00800000, HALF, 0, fmul.s fa0, fa1, fa2, rne
  TEST_FP 14, s, QNAN, 0, s, PQNAN, ONE, 0, fsub.s fa0, fa1, fa2, rne
  TEST_FP 15, s, QNAN, NV, s, SNAN, ONE, 0, fmul.s fa0, fa1, fa2, rne

  TEST_FP 20, s, ONE, 0, s, PQNAN, ONE, 0, fmin.s fa0, fa1, fa2
  TEST_FP 21, s, ONE, NV, s, SNAN, ONE, 0, fmax.s fa0, fa1, fa2
  TEST_FP 22, s, QNAN, 0, s, PQNAN, PQNAN, 0, fmin.s fa0, fa1, fa2
  TEST_FP 23, s, MZERO, 0, s, PZERO, MZERO, 0, fmin.s fa0, fa1, fa2
  TEST_FP 24, s, PZERO, 0, s, MZERO, PZERO, 0, fmax.s fa0, fa1, fa2
  TEST_FP 25, s, 0xffc00123, 0, s, PQNAN, MONE, 0, fsgnj.s fa0, fa1, fa2
  TEST_FP 26, s, MONE, 0, s, ONE, ONE, 0, fsgnjn.s fa0, fa1, fa2
  TEST_FP 27, s, ONE, 0, s, MONE, MONE, 0, fsgnjx.s fa0, fa1, fa2
  TEST_FP 28, s, SNAN, 0, s, SNAN, ONE, 0, fsgnj.s fa0, fa1, fa2

  TEST_FP 30, x, 0, 0, s, PQNAN, ONE, 0, feq.s a0, fa1, fa2
  TEST_FP 31, x, 0, NV, s, SNAN, ONE, 0, feq.s a0, fa1, fa2
  TEST_FP 32, x, 0, NV, s, PQNAN, ONE, 0, flt.s a0, fa1, fa2
  TEST_FP 33, x, 0, NV, s, PQNAN, ONE, 0, fle.s a0, fa1, fa2
  TEST_FP 34, x, 1, 0, s, MZERO, PZERO, 0, fle.s a0, fa1, fa2
  TEST_FP 35, x, 1, 0, s, MONE, ONE, 0, flt.s a0, fa1, fa2

  TEST_FP 40, x, 0x001, 0, s, MINF, 0, 0, fclass.s a0, fa1
  TEST_FP 41, x, 0x002, 0, s, MONE, 0, 0, fclass.s a0, fa1
  TEST_FP 42, x, 0x004, 0, s, 0x807fffff, 0, 0, fclass.s a0, fa1
  TEST_FP 43, x, 0x008, 0, s, MZERO, 0, 0, fclass.s a0, fa1
  TEST_FP 44, x, 0x010, 0, s, PZERO, 0, 0, fclass.s a0, fa1
  TEST_FP 45, x, 0x020, 0, s, SUB1, 0, 0, fclass.s a0, fa1
  TEST_FP 46, x, 0x040, 0, s, ONE, 0, 0, fclass.s a0, fa1
  TEST_FP 47, x, 0x080, 0, s, INF, 0, 0, fclass.s a0, fa1
  TEST_FP 48, x, 0x100, 0, s, SNAN, 0, 0, fclass.s a0, fa1
  TEST_FP 49, x, 0x200, 0, s, PQNAN, 0, 0, fclass.s a0, fa1

  # NaN boxing. Operands of type d are raw 64-bit patterns here.
  TEST_FP 50, s, QNAN, 0, d, 0x000000003f800000, 0xffffffff3f800000, 0, fadd.s fa0, fa1, fa2, rne
  TEST_FP 51, s, QNAN, 0, d, 0xffffffff3f800000, 0x7fffffff3f800000, 0, fmul.s fa0, fa1, fa2, rne
  TEST_FP 52, s, 0xffc00000, 0, d, 0x123456783f800000, 0xffffffffbf800000, 0, fsgnj.s fa0, fa1, fa2
  TEST_FP 53, s, 0x3f800000, 0, d, 0xffffffff3f800000, 0x00000000bf800000, 0, fsgnj.s fa0, fa1, fa2
  TEST_FP 54, x, 0x200, 0, d, 0xfffffffe3f800000, 0, 0, fclass.s a0, fa1
  TEST_FP 55, x, 0, 0, d, 0x000000003f800000, 0x000000003f800000, 0, feq.s a0, fa1, fa2
  TEST_FP 56, x, 0, NV, d, 0x000000003f800000, 0xffffffff3f800000, 0, flt.s a0, fa1, fa2
  TEST_FP 57, d, 0x7ff8000000000000, 0, d, 0x000000003f800000, 0, 0, fcvt.d.s fa0, fa1
  TEST_FP 58, x, 0x3f800000, 0, d, 0x123456783f800000, 0, 0, fmv.x.w a0, fa1
  TEST_FP 59, x, 0xffffffff80000000, 0, d, 0x0000000080000000, 0, 0, fmv.x.w a0, fa1
  TEST_FP 60, s, ONE, 0, d, 0x000000007f800001, 0xffffffff3f800000, 0, fmin.s fa0, fa1, fa2
  TEST_FP 61, s, 0x12345678, 0, x, 0xabcdef0012345678, 0, 0, fmv.w.x fa0, a1
  TEST_FP 62, s, 0x7fc00000, 0, d, 0x0000000000000000, 0x0000000000000000, 0, fmax.s fa0, fa1, fa2
  # fsw stores the low 32 bits unchecked; flw boxes what it loads.
  li gp, 63
  la a1, fp_data
  li a2, 0x00000000cafe1234
  fmv.d.x fa1, a2
  fsw fa1, 0(a1)
  lwu a0, 0(a1)
  CHECK a0, 0xcafe1234
  li gp, 64
  li a2, 0x7f812345
  sw a2, 4(a1)
  flw fa0, 4(a1)
  fmv.x.d a0, fa0
  CHECK a0, 0xffffffff7f812345
  frflags a0
  CHECK a0, 0
TEST_END

  .data
  .align 3
fp_data:
  .space 16
