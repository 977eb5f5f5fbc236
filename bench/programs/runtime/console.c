/* See bench.h. Also the memcpy/memset/memmove that gcc may call even when freestanding. */
#include "bench.h"

#define UART_THR ((volatile uint8_t *)0x10000000)
#define SIFIVE_TEST ((volatile uint32_t *)0x100000)

volatile uint64_t tohost __attribute__((section(".tohost"), aligned(8)));
volatile uint64_t fromhost __attribute__((section(".tohost"), aligned(8)));

void bench_putc(char c) { *UART_THR = (uint8_t)c; }

void bench_puts(const char *s) {
  while (*s) bench_putc(*s++);
}

void bench_puthex(uint64_t v, int digits) {
  for (int i = digits - 1; i >= 0; i--) bench_putc("0123456789abcdef"[(v >> (i * 4)) & 15]);
}

void bench_putdec(uint64_t v) {
  char buf[24];
  int n = 0;
  do {
    buf[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  while (n) bench_putc(buf[--n]);
}

void bench_report(const char *name, uint64_t checksum) {
  bench_puts(name);
  bench_puts(": checksum 0x");
  bench_puthex(checksum, 16);
  bench_putc('\n');
}

void bench_exit(int code) {
  if (code == 0) {
    tohost = 1;
    *SIFIVE_TEST = 0x5555;
  } else {
    tohost = ((uint64_t)code << 1) | 1;
    *SIFIVE_TEST = ((uint32_t)code << 16) | 0x3333;
  }
  for (;;) {
  }
}

void bench_trap(uint64_t mcause, uint64_t mepc, uint64_t mtval) {
  bench_puts("trap: mcause 0x");
  bench_puthex(mcause, 16);
  bench_puts(" mepc 0x");
  bench_puthex(mepc, 16);
  bench_puts(" mtval 0x");
  bench_puthex(mtval, 16);
  bench_putc('\n');
  bench_exit(255);
}

void *memcpy(void *dst, const void *src, size_t n) {
  uint8_t *d = dst;
  const uint8_t *s = src;
  while (n--) *d++ = *s++;
  return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
  uint8_t *d = dst;
  const uint8_t *s = src;
  if (d < s) {
    while (n--) *d++ = *s++;
  } else {
    while (n--) d[n] = s[n];
  }
  return dst;
}

void *memset(void *dst, int c, size_t n) {
  uint8_t *d = dst;
  while (n--) *d++ = (uint8_t)c;
  return dst;
}
