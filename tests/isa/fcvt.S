# Float <-> integer conversions at their limits. Out-of-range and NaN inputs give the
# spec's clamped values with NV only (unprivileged spec, "Floating-Point Conversion",
# table of fcvt results for invalid inputs); in-range inexact ones raise NX only.
# 32-bit results are sign-extended to 64 bits, fcvt.wu.* included.
#include "env/harness.h"

#define D_NAN   0x7ff8000000000000
#define D_INF   0x7ff0000000000000
#define D_MINF  0xfff0000000000000
#define D_2P31  0x41e0000000000000
#define D_M2P31 0xc1e0000000000000
#define D_2P63  0x43e0000000000000
#define D_M2P63 0xc3e0000000000000
#define D_2P64  0x43f0000000000000
#define D_MONE  0xbff0000000000000

TEST_BEGIN
  # fcvt.w.d
  TEST_FP 1, x, 0x000000007fffffff, NV, d, D_2P31, 0, 0, fcvt.w.d a0, fa1, rtz
  TEST_FP 2, x, 0xffffffff80000000, 0, d, D_M2P31, 0, 0, fcvt.w.d a0, fa1, rtz
  TEST_FP 3, x, 0xffffffff80000000, NV, d, 0xc1e0000000200000, 0, 0, fcvt.w.d a0, fa1, rtz
  TEST_FP 4, x, 0x000000007fffffff, NV, d, D_NAN, 0, 0, fcvt.w.d a0, fa1, rtz
  TEST_FP 5, x, 0x000000007fffffff, NV, d, D_INF, 0, 0, fcvt.w.d a0, fa1, rtz
  TEST_FP 6, x, 0xffffffff80000000, NV, d, D_MINF, 0, 0, fcvt.w.d a0, fa1, rtz
  TEST_FP 7, x, 0x000000007fffffff, NX, d, 0x41dfffffffe00000, 0, 0, fcvt.w.d a0, fa1, rtz
  # 2147483647.5 rounds to even 2^31, which no longer fits: NV, not NX.
  TEST_FP 8, x, 0x000000007fffffff, NV, d, 0x41dfffffffe00000, 0, 0, fcvt.w.d a0, fa1, rne
  TEST_FP 9, x, 0x7fffffff, NV, d, 0xfff8000000000123, 0, 0, fcvt.w.d a0, fa1, rne
  # fcvt.wu.d: negative values that round to 0 are only inexact.
  TEST_FP 10, x, 0, NV, d, D_MONE, 0, 0, fcvt.wu.d a0, fa1, rtz
  TEST_FP 11, x, 0, NX, d, 0xbfe0000000000000, 0, 0, fcvt.wu.d a0, fa1, rtz
  TEST_FP 12, x, 0, NX, d, 0xbfe0000000000000, 0, 0, fcvt.wu.d a0, fa1, rne
  TEST_FP 13, x, 0, NV, d, 0xbfe0000000000000, 0, 0, fcvt.wu.d a0, fa1, rdn
  TEST_FP 14, x, 0xffffffffffffffff, NV, d, D_NAN, 0, 0, fcvt.wu.d a0, fa1, rtz
  TEST_FP 15, x, 0xffffffffffffffff, 0, d, 0x41efffffffe00000, 0, 0, fcvt.wu.d a0, fa1, rtz
  TEST_FP 16, x, 0xffffffffffffffff, NV, d, 0x41f0000000000000, 0, 0, fcvt.wu.d a0, fa1, rtz
  TEST_FP 17, x, 0xffffffffffffffff, NV, d, D_INF, 0, 0, fcvt.wu.d a0, fa1, rtz
  TEST_FP 18, x, 0, NV, d, D_MINF, 0, 0, fcvt.wu.d a0, fa1, rtz
  TEST_FP 19, x, 0xffffffff80000000, 0, d, D_2P31, 0, 0, fcvt.wu.d a0, fa1, rtz
  TEST_FP 20, x, 0, 0, d, 0x8000000000000000, 0, 0, fcvt.wu.d a0, fa1, rtz
  # fcvt.l.d / fcvt.lu.d
  TEST_FP 21, x, 0x7fffffffffffffff, NV, d, D_2P63, 0, 0, fcvt.l.d a0, fa1, rtz
  TEST_FP 22, x, 0x8000000000000000, 0, d, D_M2P63, 0, 0, fcvt.l.d a0, fa1, rtz
  TEST_FP 23, x, 0x7fffffffffffffff, NV, d, D_NAN, 0, 0, fcvt.l.d a0, fa1, rtz
  TEST_FP 24, x, 0x8000000000000000, NV, d, D_MINF, 0, 0, fcvt.l.d a0, fa1, rtz
  TEST_FP 25, x, 0x7ffffffffffffc00, 0, d, 0x43dfffffffffffff, 0, 0, fcvt.l.d a0, fa1, rtz
  TEST_FP 26, x, 0xffffffffffffffff, NV, d, D_NAN, 0, 0, fcvt.lu.d a0, fa1, rtz
  TEST_FP 27, x, 0, NV, d, D_MONE, 0, 0, fcvt.lu.d a0, fa1, rtz
  TEST_FP 28, x, 0xffffffffffffffff, NV, d, D_2P64, 0, 0, fcvt.lu.d a0, fa1, rtz
  TEST_FP 29, x, 0xfffffffffffff800, 0, d, 0x43efffffffffffff, 0, 0, fcvt.lu.d a0, fa1, rtz
  TEST_FP 30, x, 0x8000000000000000, 0, d, D_2P63, 0, 0, fcvt.lu.d a0, fa1, rtz
  # From single.
  TEST_FP 31, x, 0x000000007fffffff, NV, s, 0x4f000000, 0, 0, fcvt.w.s a0, fa1, rtz
  TEST_FP 32, x, 0x000000007fffffff, NV, s, 0x7fc00000, 0, 0, fcvt.w.s a0, fa1, rtz
  TEST_FP 33, x, 0xffffffff80000000, 0, s, 0xcf000000, 0, 0, fcvt.w.s a0, fa1, rtz
  TEST_FP 34, x, 0x8000000000000000, 0, s, 0xdf000000, 0, 0, fcvt.l.s a0, fa1, rtz
  TEST_FP 35, x, 0x7fffffffffffffff, NV, s, 0x5f000000, 0, 0, fcvt.l.s a0, fa1, rtz
  TEST_FP 36, x, 0xffffffffffffffff, NV, s, 0x7f800000, 0, 0, fcvt.lu.s a0, fa1, rtz
  TEST_FP 37, x, 0, NV, s, 0xff800000, 0, 0, fcvt.lu.s a0, fa1, rtz
  TEST_FP 38, x, 0xffffffffffffffff, NV, s, 0x7f800000, 0, 0, fcvt.wu.s a0, fa1, rtz
  TEST_FP 39, x, 0x000000007fffffff, NV, d, 0x000000003f800000, 0, 0, fcvt.w.s a0, fa1, rtz

  # Every rounding mode on +-2.5 (ties) and 2.75.
  TEST_FP 40, x, 2, NX, d, 0x4004000000000000, 0, 0, fcvt.w.d a0, fa1, rne
  TEST_FP 41, x, 2, NX, d, 0x4004000000000000, 0, 0, fcvt.w.d a0, fa1, rtz
  TEST_FP 42, x, 2, NX, d, 0x4004000000000000, 0, 0, fcvt.w.d a0, fa1, rdn
  TEST_FP 43, x, 3, NX, d, 0x4004000000000000, 0, 0, fcvt.w.d a0, fa1, rup
  TEST_FP 44, x, 3, NX, d, 0x4004000000000000, 0, 0, fcvt.w.d a0, fa1, rmm
  TEST_FP 45, x, -2, NX, d, 0xc004000000000000, 0, 0, fcvt.l.d a0, fa1, rne
  TEST_FP 46, x, -2, NX, d, 0xc004000000000000, 0, 0, fcvt.l.d a0, fa1, rtz
  TEST_FP 47, x, -3, NX, d, 0xc004000000000000, 0, 0, fcvt.l.d a0, fa1, rdn
  TEST_FP 48, x, -2, NX, d, 0xc004000000000000, 0, 0, fcvt.l.d a0, fa1, rup
  TEST_FP 49, x, -3, NX, d, 0xc004000000000000, 0, 0, fcvt.l.d a0, fa1, rmm
  TEST_FP 50, x, 3, NX, s, 0x40300000, 0, 0, fcvt.w.s a0, fa1, rne
  TEST_FP 51, x, 2, NX, s, 0x40300000, 0, 0, fcvt.w.s a0, fa1, rtz
  TEST_FP 52, x, 2, NX, s, 0x40300000, 0, 0, fcvt.lu.s a0, fa1, rdn
  TEST_FP 53, x, 3, NX, s, 0x40300000, 0, 0, fcvt.lu.s a0, fa1, rup
  TEST_FP 54, x, 4, NX, s, 0x40600000, 0, 0, fcvt.wu.s a0, fa1, rmm
  TEST_FP_FRM 55, 2, x, 2, NX, d, 0x4004000000000000, 0, 0, fcvt.w.d a0, fa1, dyn

  # Integer to float: the *W sources use only the low 32 bits.
  TEST_FP 60, d, 0xbff0000000000000, 0, x, -1, 0, 0, fcvt.d.w fa0, a1
  TEST_FP 61, d, 0x41efffffffe00000, 0, x, -1, 0, 0, fcvt.d.wu fa0, a1
  TEST_FP 62, d, 0xc1e0000000000000, 0, x, 0x0000000080000000, 0, 0, fcvt.d.w fa0, a1
  TEST_FP 63, d, 0x3ff0000000000000, 0, x, 0xffffffff00000001, 0, 0, fcvt.d.w fa0, a1
  TEST_FP 64, d, 0x4340000000000000, NX, x, 0x0020000000000001, 0, 0, fcvt.d.l fa0, a1, rne
  TEST_FP 65, d, 0x4340000000000001, NX, x, 0x0020000000000001, 0, 0, fcvt.d.l fa0, a1, rup
  TEST_FP 66, d, 0x43f0000000000000, NX, x, 0xffffffffffffffff, 0, 0, fcvt.d.lu fa0, a1, rne
  TEST_FP 67, d, 0x43efffffffffffff, NX, x, 0xffffffffffffffff, 0, 0, fcvt.d.lu fa0, a1, rtz
  TEST_FP 68, d, 0xc3e0000000000000, 0, x, 0x8000000000000000, 0, 0, fcvt.d.l fa0, a1, rne
  TEST_FP 69, d, 0xbff0000000000000, 0, x, 0xffffffffffffffff, 0, 0, fcvt.d.l fa0, a1, rne
  TEST_FP 70, s, 0x5f000000, NX, x, 0x7fffffffffffffff, 0, 0, fcvt.s.l fa0, a1, rne
  TEST_FP 71, s, 0x5effffff, NX, x, 0x7fffffffffffffff, 0, 0, fcvt.s.l fa0, a1, rtz
  TEST_FP 72, s, 0x4f800000, NX, x, 0xffffffff, 0, 0, fcvt.s.wu fa0, a1, rne
  TEST_FP 73, s, 0x4f7fffff, NX, x, 0xffffffff, 0, 0, fcvt.s.wu fa0, a1, rdn
  TEST_FP 74, s, 0xcf000000, 0, x, 0x80000000, 0, 0, fcvt.s.w fa0, a1, rne
  TEST_FP 75, s, 0x00000000, 0, x, 0, 0, 0, fcvt.s.lu fa0, a1, rdn
  # Double to single at the range limits.
  TEST_FP 80, s, 0x7f800000, OF|NX, d, 0x7fefffffffffffff, 0, 0, fcvt.s.d fa0, fa1, rne
  TEST_FP 81, s, 0x7f7fffff, OF|NX, d, 0x7fefffffffffffff, 0, 0, fcvt.s.d fa0, fa1, rtz
  TEST_FP 82, s, 0x00000000, UF|NX, d, 0x358dee7a4ad4b81f, 0, 0, fcvt.s.d fa0, fa1, rne
  TEST_FP 83, s, 0x00000001, UF|NX, d, 0x358dee7a4ad4b81f, 0, 0, fcvt.s.d fa0, fa1, rup
  TEST_FP 84, s, 0xff800000, 0, d, 0xfff0000000000000, 0, 0, fcvt.s.d fa0, fa1, rne
TEST_END
