/* Does nothing: its wall time is the start-up cost that the benchmark runner subtracts. */
#include "bench.h"

int main(void) {
  bench_report("empty", 0);
  return 0;
}
