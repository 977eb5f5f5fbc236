/* Sorting 512Ki 32-bit keys: an introsort-style quicksort (median of three, insertion sort
 * for short runs) and a bottom-up merge sort of the same data, each verified sorted. */
#include "bench.h"

#define N (1u << 19)

static uint32_t a[N], b[N], tmp[N];

static void insertion(uint32_t *v, long lo, long hi) {
  for (long i = lo + 1; i <= hi; i++) {
    uint32_t x = v[i];
    long j = i - 1;
    while (j >= lo && v[j] > x) {
      v[j + 1] = v[j];
      j--;
    }
    v[j + 1] = x;
  }
}

static void quicksort(uint32_t *v, long lo, long hi) {
  while (hi - lo > 16) {
    long mid = lo + (hi - lo) / 2;
    if (v[mid] < v[lo]) { uint32_t t = v[mid]; v[mid] = v[lo]; v[lo] = t; }
    if (v[hi] < v[lo]) { uint32_t t = v[hi]; v[hi] = v[lo]; v[lo] = t; }
    if (v[hi] < v[mid]) { uint32_t t = v[hi]; v[hi] = v[mid]; v[mid] = t; }
    uint32_t pivot = v[mid];
    long i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        uint32_t t = v[i]; v[i] = v[j]; v[j] = t;
        i++;
        j--;
      }
    }
    /* Recurse into the smaller half, loop on the larger: bounded stack. */
    if (j - lo < hi - i) {
      quicksort(v, lo, j);
      lo = i;
    } else {
      quicksort(v, i, hi);
      hi = j;
    }
  }
  insertion(v, lo, hi);
}

static void mergesort(uint32_t *v, uint32_t *scratch, size_t n) {
  for (size_t width = 1; width < n; width *= 2) {
    for (size_t lo = 0; lo < n; lo += 2 * width) {
      size_t mid = lo + width < n ? lo + width : n;
      size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) scratch[k++] = v[i] <= v[j] ? v[i++] : v[j++];
      while (i < mid) scratch[k++] = v[i++];
      while (j < hi) scratch[k++] = v[j++];
    }
    for (size_t k = 0; k < n; k++) v[k] = scratch[k];
  }
}

int main(void) {
  uint64_t seed = 0x853c49e6748fea9bull;
  for (size_t i = 0; i < N; i++) a[i] = b[i] = (uint32_t)(bench_random(&seed) >> 16);
  quicksort(a, 0, N - 1);
  mergesort(b, tmp, N);
  uint64_t sum = 0;
  for (size_t i = 0; i < N; i++) {
    if ((i > 0 && a[i - 1] > a[i]) || a[i] != b[i]) {
      bench_puts("sort: result not sorted at ");
      bench_putdec(i);
      bench_putc('\n');
      return 1;
    }
    sum = sum * 31 + a[i];
  }
  bench_report("sort", sum);
  return 0;
}
