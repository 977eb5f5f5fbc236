# Fused multiply-add: one rounding of a*b+c, shown on cases where rounding the product
# first gives a different answer, all four sign forms, the invalid inf*0 (+ quiet NaN
# too, as the RISC-V spec requires), and signed zeros by rounding mode.
#include "env/harness.h"

#define A_D    0x3ff0000002000000  /* 1 + 2^-27 */
#define B_D    0x3feffffffc000000  /* 1 - 2^-27; A_D * B_D = 1 - 2^-54 exactly */
#define ONE    0x3ff0000000000000
#define MONE   0xbff0000000000000
#define P2M54  0x3c90000000000000
#define M2M54  0xbc90000000000000
#define M2M100 0xb9b0000000000000
#define INF    0x7ff0000000000000
#define QNAN   0x7ff8000000000000

#define A_S    0x3f800800          /* 1 + 2^-12 */
#define B_S    0x3f7ff000          /* 1 - 2^-12; product 1 - 2^-24 */

TEST_BEGIN
  TEST_FP 1, d, M2M54, 0, d, A_D, B_D, MONE, fmadd.d fa0, fa1, fa2, fa3, rne
  # Unfused, the product alone rounds to 1.0 (a tie, to even), so the sum would be 0.
  TEST_FP 2, d, ONE, NX, d, A_D, B_D, 0, fmul.d fa0, fa1, fa2, rne
  TEST_FP 3, d, M2M54, 0, d, A_D, B_D, ONE, fmsub.d fa0, fa1, fa2, fa3, rne
  TEST_FP 4, d, P2M54, 0, d, A_D, B_D, ONE, fnmsub.d fa0, fa1, fa2, fa3, rne
  TEST_FP 5, d, P2M54, 0, d, A_D, B_D, MONE, fnmadd.d fa0, fa1, fa2, fa3, rne
  # 1 - 2^-54 - 2^-100 is below the midpoint: fused rounds down to 1 - 2^-53, while the
  # rounded product 1.0 minus 2^-100 rounds back to 1.0.
  TEST_FP 6, d, 0x3fefffffffffffff, NX, d, A_D, B_D, M2M100, fmadd.d fa0, fa1, fa2, fa3, rne
  TEST_FP 7, d, 0x3fefffffffffffff, NX, d, A_D, B_D, M2M100, fmadd.d fa0, fa1, fa2, fa3, rtz
  TEST_FP 8, d, ONE, NX, d, A_D, B_D, M2M100, fmadd.d fa0, fa1, fa2, fa3, rup
  TEST_FP 9, d, 0xbfefffffffffffff, NX, d, A_D, B_D, M2M100, fnmadd.d fa0, fa1, fa2, fa3, rne
  TEST_FP 10, s, 0xb3800000, 0, s, A_S, B_S, 0xbf800000, fmadd.s fa0, fa1, fa2, fa3, rne
  TEST_FP 11, s, 0x33800000, 0, s, A_S, B_S, 0x3f800000, fnmsub.s fa0, fa1, fa2, fa3, rne
  TEST_FP 12, s, 0x3f7fffff, NX, s, A_S, B_S, 0x8d800000, fmadd.s fa0, fa1, fa2, fa3, rne
  # Invalid: inf * 0, even with a quiet NaN addend; inf - inf.
  TEST_FP 20, d, QNAN, NV, d, INF, 0, 0x7ff8000000000042, fmadd.d fa0, fa1, fa2, fa3, rne
  TEST_FP 21, d, QNAN, NV, d, INF, ONE, 0xfff0000000000000, fmadd.d fa0, fa1, fa2, fa3, rne
  TEST_FP 22, d, QNAN, 0, d, ONE, ONE, 0x7ff8000000000042, fmadd.d fa0, fa1, fa2, fa3, rne
  TEST_FP 23, d, QNAN, NV, d, ONE, ONE, 0x7ff0000000000042, fmsub.d fa0, fa1, fa2, fa3, rne
  TEST_FP 24, s, 0x7fc00000, NV, s, 0x7f800000, 0x80000000, 0x7fc00000, fnmadd.s fa0, fa1, fa2, fa3, rne
  # Signed zeros: an exact zero sum is +0, or -0 under rdn; (-0) + (-0) is -0.
  TEST_FP 30, d, 0, 0, d, ONE, ONE, MONE, fmadd.d fa0, fa1, fa2, fa3, rne
  TEST_FP 31, d, 0x8000000000000000, 0, d, ONE, ONE, MONE, fmadd.d fa0, fa1, fa2, fa3, rdn
  TEST_FP 32, d, 0x8000000000000000, 0, d, ONE, 0x8000000000000000, 0x8000000000000000, fmadd.d fa0, fa1, fa2, fa3, rne
  TEST_FP 33, d, 0, 0, d, 0x8000000000000000, ONE, 0, fmadd.d fa0, fa1, fa2, fa3, rne
  TEST_FP 34, d, 0, 0, d, 0, ONE, 0, fnmsub.d fa0, fa1, fa2, fa3, rup
  TEST_FP 36, d, 0x8000000000000000, 0, d, 0, ONE, 0, fnmsub.d fa0, fa1, fa2, fa3, rdn
  TEST_FP 35, d, 0x8000000000000000, 0, d, 0, ONE, 0, fnmadd.d fa0, fa1, fa2, fa3, rne
  # Overflow through the product, rescued by nothing.
  TEST_FP 40, d, INF, OF|NX, d, 0x7fefffffffffffff, 0x4000000000000000, MONE, fmadd.d fa0, fa1, fa2, fa3, rne
  TEST_FP_FRM 41, 1, d, 0x7fefffffffffffff, OF|NX, d, 0x7fefffffffffffff, 0x4000000000000000, MONE, fmadd.d fa0, fa1, fa2, fa3, dyn
TEST_END
