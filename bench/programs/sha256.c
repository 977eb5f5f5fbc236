/* SHA-256 (FIPS 180-4) over a 1 MiB pseudo-random buffer, hashed repeatedly (each round
 * hashes the buffer with the previous digest prepended). The round constants are derived
 * here from their definition (fractional parts of cube and square roots of primes) with
 * 128-bit integer roots, and the implementation checks itself on "abc" first. */
#include "bench.h"

#define BUF_BYTES (1u << 20)
#define ROUNDS 24

static uint8_t buf[BUF_BYTES];
static uint32_t K[64];
static uint32_t H0[8];

static uint64_t iroot(unsigned __int128 n, int k) {
  /* Largest x with x^k <= n, by bisection (k is 2 or 3; n < 2^110). */
  uint64_t lo = 0, hi = (uint64_t)1 << 40;
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo + 1) / 2;
    unsigned __int128 p = (unsigned __int128)mid * mid;
    if (k == 3) p *= mid;
    if (p <= n) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

static void derive_constants(void) {
  int found = 0;
  for (uint32_t p = 2; found < 64; p++) {
    int prime = 1;
    for (uint32_t d = 2; d * d <= p; d++)
      if (p % d == 0) prime = 0;
    if (!prime) continue;
    K[found] = (uint32_t)iroot((unsigned __int128)p << 96, 3);
    if (found < 8) H0[found] = (uint32_t)iroot((unsigned __int128)p << 64, 2);
    found++;
  }
}

static inline uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

typedef struct {
  uint32_t h[8];
  uint8_t block[64];
  uint32_t used;
  uint64_t length;
} Sha256;

static void compress(uint32_t h[8], const uint8_t *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

static void sha_init(Sha256 *s) {
  for (int i = 0; i < 8; i++) s->h[i] = H0[i];
  s->used = 0;
  s->length = 0;
}

static void sha_update(Sha256 *s, const uint8_t *p, size_t n) {
  s->length += n;
  while (n) {
    if (s->used == 0 && n >= 64) {
      compress(s->h, p);
      p += 64;
      n -= 64;
      continue;
    }
    s->block[s->used++] = *p++;
    n--;
    if (s->used == 64) {
      compress(s->h, s->block);
      s->used = 0;
    }
  }
}

static void sha_final(Sha256 *s, uint8_t out[32]) {
  uint64_t bits = s->length * 8;
  uint8_t pad = 0x80;
  sha_update(s, &pad, 1);
  pad = 0;
  while (s->used != 56) sha_update(s, &pad, 1);
  uint8_t len[8];
  for (int i = 0; i < 8; i++) len[i] = (uint8_t)(bits >> (56 - 8 * i));
  sha_update(s, len, 8);
  for (int i = 0; i < 8; i++) {
    out[4 * i] = (uint8_t)(s->h[i] >> 24);
    out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
    out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
    out[4 * i + 3] = (uint8_t)s->h[i];
  }
}

/* The FIPS 180-4 example: SHA-256("abc"). */
static const uint8_t abc_digest[32] = {
  0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
  0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
};

int main(void) {
  derive_constants();
  Sha256 s;
  uint8_t digest[32];
  sha_init(&s);
  sha_update(&s, (const uint8_t *)"abc", 3);
  sha_final(&s, digest);
  for (int i = 0; i < 32; i++) {
    if (digest[i] != abc_digest[i]) {
      bench_puts("sha256: self-check on \"abc\" failed\n");
      return 1;
    }
  }

  uint64_t seed = 0x9e3779b97f4a7c15ull;
  for (size_t i = 0; i < BUF_BYTES; i += 8) {
    uint64_t r = bench_random(&seed);
    for (int k = 0; k < 8; k++) buf[i + k] = (uint8_t)(r >> (8 * k));
  }
  for (int round = 0; round < ROUNDS; round++) {
    sha_init(&s);
    sha_update(&s, digest, 32);
    sha_update(&s, buf, BUF_BYTES);
    sha_final(&s, digest);
  }
  uint64_t sum = 0;
  for (int i = 0; i < 8; i++) sum = (sum << 8) | digest[i];
  bench_report("sha256", sum);
  return 0;
}
