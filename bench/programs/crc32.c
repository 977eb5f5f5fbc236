/* CRC-32 (the reflected 0xEDB88320 polynomial of zlib and Ethernet), table-driven, over
 * a 4 MiB pseudo-random buffer several times; checks itself on the standard check value
 * CRC-32("123456789") = 0xCBF43926 first. */
#include "bench.h"

#define BUF_BYTES (4u << 20)
#define ROUNDS 16

static uint8_t buf[BUF_BYTES];
static uint32_t table[256];

static void make_table(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, size_t n) {
  crc = ~crc;
  while (n--) crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

int main(void) {
  make_table();
  if (crc32(0, (const uint8_t *)"123456789", 9) != 0xCBF43926u) {
    bench_puts("crc32: self-check failed\n");
    return 1;
  }
  uint64_t seed = 0x2545f4914f6cdd1dull;
  for (size_t i = 0; i < BUF_BYTES; i += 8) {
    uint64_t r = bench_random(&seed);
    for (int k = 0; k < 8; k++) buf[i + k] = (uint8_t)(r >> (8 * k));
  }
  uint32_t crc = 0;
  for (int round = 0; round < ROUNDS; round++) {
    crc = crc32(crc, buf, BUF_BYTES);
    buf[round] ^= (uint8_t)crc;
  }
  bench_report("crc32", crc);
  return 0;
}
