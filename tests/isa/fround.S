# Every rounding mode, static (rm field) and dynamic (frm), on ties and non-ties, for
# add, divide, square root and exact cancellation (x - x is -0 only under rdn).
#include "env/harness.h"

#define ONE    0x3ff0000000000000
#define MONE   0xbff0000000000000
#define HALFUP 0x3ca0000000000000  /* 2^-53: 1 + this is a tie */
#define MHALF  0xbca0000000000000
#define TQUART 0x3ca8000000000000  /* 3 * 2^-54: three quarters of an ulp of 1 */
#define ONEUP  0x3ff0000000000001
#define MONEUP 0xbff0000000000001

/* \num..\num+4: \op under rne, rtz, rdn, rup, rmm with expected results \e0..\e4 (all NX
 * unless \flags says otherwise). */
.macro TEST_RM5 num, t, op, flags, a, b, e0, e1, e2, e3, e4
  TEST_FP (\num + 0), \t, \e0, \flags, \t, \a, \b, 0, \op fa0, fa1, fa2, rne
  TEST_FP (\num + 1), \t, \e1, \flags, \t, \a, \b, 0, \op fa0, fa1, fa2, rtz
  TEST_FP (\num + 2), \t, \e2, \flags, \t, \a, \b, 0, \op fa0, fa1, fa2, rdn
  TEST_FP (\num + 3), \t, \e3, \flags, \t, \a, \b, 0, \op fa0, fa1, fa2, rup
  TEST_FP (\num + 4), \t, \e4, \flags, \t, \a, \b, 0, \op fa0, fa1, fa2, rmm
.endm

/* The same through frm: the instruction says dyn. */
.macro TEST_DYN5 num, t, op, flags, a, b, e0, e1, e2, e3, e4
  TEST_FP_FRM (\num + 0), 0, \t, \e0, \flags, \t, \a, \b, 0, \op fa0, fa1, fa2, dyn
  TEST_FP_FRM (\num + 1), 1, \t, \e1, \flags, \t, \a, \b, 0, \op fa0, fa1, fa2, dyn
  TEST_FP_FRM (\num + 2), 2, \t, \e2, \flags, \t, \a, \b, 0, \op fa0, fa1, fa2, dyn
  TEST_FP_FRM (\num + 3), 3, \t, \e3, \flags, \t, \a, \b, 0, \op fa0, fa1, fa2, dyn
  TEST_FP_FRM (\num + 4), 4, \t, \e4, \flags, \t, \a, \b, 0, \op fa0, fa1, fa2, dyn

.endm

TEST_BEGIN
  TEST_RM5 10, d, fadd.d, NX, ONE, HALFUP, ONE, ONE, ONE, ONEUP, ONEUP
  TEST_RM5 20, d, fadd.d, NX, MONE, MHALF, MONE, MONE, MONEUP, MONE, MONEUP
  TEST_RM5 30, d, fadd.d, NX, ONE, TQUART, ONEUP, ONE, ONE, ONEUP, ONEUP
  TEST_RM5 40, d, fdiv.d, NX, ONE, 0x4008000000000000, 0x3fd5555555555555, 0x3fd5555555555555, 0x3fd5555555555555, 0x3fd5555555555556, 0x3fd5555555555555
  TEST_RM5 50, s, fdiv.s, NX, 0xbf800000, 0x40400000, 0xbeaaaaab, 0xbeaaaaaa, 0xbeaaaaab, 0xbeaaaaaa, 0xbeaaaaab
  TEST_RM5 60, s, fadd.s, NX, 0x3f800000, 0x33800000, 0x3f800000, 0x3f800000, 0x3f800000, 0x3f800001, 0x3f800001
  TEST_RM5 70, d, fsub.d, 0, ONE, ONE, 0, 0, 0x8000000000000000, 0, 0
  TEST_RM5 80, d, fmul.d, OF|NX, 0x7fefffffffffffff, 0x4000000000000000, 0x7ff0000000000000, 0x7fefffffffffffff, 0x7fefffffffffffff, 0x7ff0000000000000, 0x7ff0000000000000
  TEST_RM5 90, d, fmul.d, OF|NX, 0xffefffffffffffff, 0x4000000000000000, 0xfff0000000000000, 0xffefffffffffffff, 0xfff0000000000000, 0xffefffffffffffff, 0xfff0000000000000

  TEST_DYN5 110, d, fadd.d, NX, ONE, HALFUP, ONE, ONE, ONE, ONEUP, ONEUP
  TEST_DYN5 120, d, fadd.d, NX, MONE, MHALF, MONE, MONE, MONEUP, MONE, MONEUP
  TEST_DYN5 130, s, fdiv.s, NX, 0xbf800000, 0x40400000, 0xbeaaaaab, 0xbeaaaaaa, 0xbeaaaaab, 0xbeaaaaaa, 0xbeaaaaab
  TEST_DYN5 140, d, fsub.d, 0, ONE, ONE, 0, 0, 0x8000000000000000, 0, 0

  # Square root: sqrt(2) lies just below the double ...bcd, above ...bcc.
  TEST_FP 150, d, 0x3ff6a09e667f3bcc, NX, d, 0x4000000000000000, 0, 0, fsqrt.d fa0, fa1, rtz
  TEST_FP 151, d, 0x3ff6a09e667f3bcc, NX, d, 0x4000000000000000, 0, 0, fsqrt.d fa0, fa1, rdn
  TEST_FP 152, d, 0x3ff6a09e667f3bcd, NX, d, 0x4000000000000000, 0, 0, fsqrt.d fa0, fa1, rup
  TEST_FP 153, d, 0x3ff6a09e667f3bcd, NX, d, 0x4000000000000000, 0, 0, fsqrt.d fa0, fa1, rmm
  TEST_FP_FRM 154, 1, d, 0x3ff6a09e667f3bcc, NX, d, 0x4000000000000000, 0, 0, fsqrt.d fa0, fa1, dyn

  # A static rm overrides frm.
  TEST_FP_FRM 160, 1, d, ONEUP, NX, d, ONE, HALFUP, 0, fadd.d fa0, fa1, fa2, rup
  # Conversions to double that are exact ignore the mode entirely.
  TEST_FP_FRM 161, 3, d, 0x3fb99999a0000000, 0, s, 0x3dcccccd, 0, 0, fcvt.d.s fa0, fa1
TEST_END
