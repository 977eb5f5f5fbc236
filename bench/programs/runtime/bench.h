/* The benchmark programs' freestanding runtime: console output on the NS16550A UART and
 * exits through HTIF `tohost` plus the sifive test device (QEMU virt knows only the
 * latter, romvisor stops at the former). */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

void bench_putc(char c);
void bench_puts(const char *s);
void bench_puthex(uint64_t v, int digits);
void bench_putdec(uint64_t v);
/* Prints "name: checksum 0x..." — the line the benchmark runner compares across machines. */
void bench_report(const char *name, uint64_t checksum);
/* 0 passes; anything else fails with that code. Never returns. */
void bench_exit(int code) __attribute__((noreturn));
/* Prints what trapped and fails. */
void bench_trap(uint64_t mcause, uint64_t mepc, uint64_t mtval) __attribute__((noreturn));

/* A 64-bit xorshift generator for the programs' input data. */
static inline uint64_t bench_random(uint64_t *state) {
  uint64_t x = *state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *state = x;
}

#endif
