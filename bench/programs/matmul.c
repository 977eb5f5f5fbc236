/* Double-precision matrix multiply, C = A * B for 200x200 matrices, in i-k-j order (the
 * inner loop streams rows), repeated with B perturbed each time. The checksum is the raw
 * bits of the sum of C, so any rounding difference between machines shows. */
#include "bench.h"

#define N 200
#define ROUNDS 4

static double A[N][N], B[N][N], C[N][N];

int main(void) {
  uint64_t seed = 0xda3e39cb94b95bdbull;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < N; j++) {
      A[i][j] = (double)(int64_t)(bench_random(&seed) % 2001) / 1000.0 - 1.0;
      B[i][j] = (double)(int64_t)(bench_random(&seed) % 2001) / 1000.0 - 1.0;
    }
  double total = 0;
  for (int round = 0; round < ROUNDS; round++) {
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++) C[i][j] = 0;
    for (int i = 0; i < N; i++)
      for (int k = 0; k < N; k++) {
        double aik = A[i][k];
        for (int j = 0; j < N; j++) C[i][j] += aik * B[k][j];
      }
    for (int i = 0; i < N; i++)
      for (int j = 0; j < N; j++) total += C[i][j];
    B[round][round] += 0.5;
  }
  union { double d; uint64_t u; } bits = { total };
  bench_report("matmul", bits.u);
  return 0;
}
