/*
 * fpcheck: a user-mode smoke test of the guest's F and D extensions.
 *
 * Every value is computed at run time from inputs the compiler cannot fold
 * (they come through a volatile), so the arithmetic really runs on the hart:
 * fadd/fmul/fdiv/fsqrt.d, fmadd (gcc contracts a*b+c), int<->double converts,
 * float<->double converts, compares, and printf's own double formatting
 * (which itself leans on the FPU and on exact integer arithmetic).
 *
 * Prints one line, `fpcheck: ok pi=3.14159265358979`, and exits 0; on any
 * mismatch prints `fpcheck: FAIL <what> got=<value> want=<value>` per bad
 * value and exits 1. Checks use tolerances or exact bit patterns, never
 * printf output alone, so a broken printf cannot hide a broken FPU.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <math.h>

static volatile int seed_terms = 200000; /* Leibniz terms: error ~ 1/terms */
static volatile double seed_two = 2.0;
static volatile double seed_seven = 7.0;
static volatile float seed_third = 1.0f / 3.0f;
static volatile long seed_big = 9007199254740993L; /* 2^53 + 1 */

static int failures;

static uint64_t bits_of(double x)
{
	uint64_t u;
	memcpy(&u, &x, sizeof u);
	return u;
}

static void expect_near(const char *what, double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol)) { /* `!(<=)` also catches NaN */
		printf("fpcheck: FAIL %s got=%.17g want=%.17g\n", what, got, want);
		failures++;
	}
}

static void expect_bits(const char *what, double got, uint64_t want)
{
	if (bits_of(got) != want) {
		printf("fpcheck: FAIL %s got=%.17g (0x%016llx) want 0x%016llx\n", what,
		       got, (unsigned long long)bits_of(got), (unsigned long long)want);
		failures++;
	}
}

/* Leibniz series, summed from the small end so rounding stays small. */
static double pi_leibniz(int terms)
{
	double sum = 0.0;
	for (int k = terms - 1; k >= 0; k--) {
		double term = 1.0 / (2.0 * k + 1.0);
		sum += (k & 1) ? -term : term;
	}
	return 4.0 * sum;
}

/* Machin's formula with a Taylor series for atan(1/n): exact to the last bits. */
static double atan_inv(double n)
{
	double x = 1.0 / n, x2 = x * x, power = x, sum = 0.0;
	for (int k = 0; k < 40; k++) {
		double term = power / (2 * k + 1);
		sum += (k & 1) ? -term : term;
		power *= x2;
	}
	return sum;
}

int main(void)
{
	double two = seed_two, seven = seed_seven;

	double pi_series = pi_leibniz(seed_terms);
	expect_near("leibniz", pi_series, M_PI, 2e-5);

	double pi = 16.0 * atan_inv(5.0 * (two / 2.0)) - 4.0 * atan_inv(239.0 * (two / 2.0));
	expect_near("machin", pi, M_PI, 1e-15);

	/* IEEE 754 requires these to be correctly rounded, so compare bits. */
	double root2 = sqrt(two);
	expect_bits("sqrt(2)", root2, 0x3ff6a09e667f3bcdULL);
	expect_bits("1/7", 1.0 / seven, 0x3fc2492492492492ULL);
	expect_bits("7*1/7", seven * (1.0 / seven), 0x3ff0000000000000ULL);
	expect_near("sqrt(2)^2", root2 * root2, 2.0, 4.5e-16);

	/* float -> double is exact; 1/3 in binary32 is 0x3eaaaaab. */
	expect_bits("(double)(1f/3f)", (double)seed_third, 0x3fd5555560000000ULL);

	/* 2^53+1 is not representable: round-to-nearest-even gives 2^53. */
	expect_bits("(double)(2^53+1)", (double)seed_big, 0x4340000000000000ULL);
	long back = (long)(-(double)seed_big / two);
	if (back != -4503599627370496L) {
		printf("fpcheck: FAIL (long)(-(2^53)/2) got=%ld want=-4503599627370496\n", back);
		failures++;
	}

	/* printf rounding of a double, checked as text. */
	char text[32];
	snprintf(text, sizeof text, "%.14f", pi);
	if (strcmp(text, "3.14159265358979") != 0) {
		printf("fpcheck: FAIL printf(pi) got=%s want=3.14159265358979\n", text);
		failures++;
	}

	if (failures) {
		printf("fpcheck: FAIL %d check(s)\n", failures);
		return 1;
	}
	printf("fpcheck: ok pi=%s sqrt2=%.15f\n", text, root2);
	return 0;
}
