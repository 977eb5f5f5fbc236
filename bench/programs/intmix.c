/* A Dhrystone-like integer mix, written afresh: a switch-dispatched stack-machine
 * interpreter (counting primes by trial division), then record shuffling with string
 * copies and compares, small calls through a function pointer table, and enum switches. */
#include "bench.h"

enum Op { PUSH, LOAD, STORE, ADD, SUB, MUL, REM, LT, LE, EQ, JZ, JMP, HALT };

/* Variables: 0 n, 1 count, 2 d, 3 isprime. */
#define LIMIT 60000
static const int32_t program[] = {
  PUSH, 2, STORE, 0, PUSH, 0, STORE, 1,
  /* 8: loop */ LOAD, 0, PUSH, LIMIT, LT, JZ, 69,
  PUSH, 2, STORE, 2, PUSH, 1, STORE, 3,
  /* 23: inner */ LOAD, 2, LOAD, 2, MUL, LOAD, 0, LE, JZ, 53,
  LOAD, 0, LOAD, 2, REM, JZ, 49,
  LOAD, 2, PUSH, 1, ADD, STORE, 2, JMP, 23,
  /* 49: composite */ PUSH, 0, STORE, 3,
  /* 53: endinner */ LOAD, 1, LOAD, 3, ADD, STORE, 1,
  LOAD, 0, PUSH, 1, ADD, STORE, 0, JMP, 8,
  /* 69: done (main checks that the jump targets above still line up) */ HALT,
};

static int64_t run_vm(const int32_t *code, int64_t *vars) {
  int64_t stack[32];
  int sp = 0;
  int pc = 0;
  int64_t steps = 0;
  for (;;) {
    steps++;
    switch (code[pc++]) {
      case PUSH: stack[sp++] = code[pc++]; break;
      case LOAD: stack[sp++] = vars[code[pc++]]; break;
      case STORE: vars[code[pc++]] = stack[--sp]; break;
      case ADD: sp--; stack[sp - 1] += stack[sp]; break;
      case SUB: sp--; stack[sp - 1] -= stack[sp]; break;
      case MUL: sp--; stack[sp - 1] *= stack[sp]; break;
      case REM: sp--; stack[sp - 1] %= stack[sp]; break;
      case LT: sp--; stack[sp - 1] = stack[sp - 1] < stack[sp]; break;
      case LE: sp--; stack[sp - 1] = stack[sp - 1] <= stack[sp]; break;
      case EQ: sp--; stack[sp - 1] = stack[sp - 1] == stack[sp]; break;
      case JZ: { int32_t t = code[pc++]; if (stack[--sp] == 0) pc = t; break; }
      case JMP: pc = code[pc]; break;
      case HALT: return steps;
      default: return -1;
    }
  }
}

typedef enum { RED, GREEN, BLUE } Colour;
typedef struct Record {
  struct Record *next;
  Colour colour;
  int32_t number;
  char name[24];
} Record;

#define RECORDS 64
static Record records[RECORDS];

static void copy_name(char *dst, const char *src) {
  while ((*dst++ = *src++) != 0) {
  }
}

static int compare_names(const char *a, const char *b) {
  while (*a && *a == *b) {
    a++;
    b++;
  }
  return (unsigned char)*a - (unsigned char)*b;
}

static int32_t add3(int32_t x) { return x + 3; }
static int32_t twice(int32_t x) { return x * 2; }
static int32_t flip(int32_t x) { return x ^ 0x5a5a; }
static int32_t (*const ops[3])(int32_t) = { add3, twice, flip };

static Colour next_colour(Colour c) {
  switch (c) {
    case RED: return GREEN;
    case GREEN: return BLUE;
    default: return RED;
  }
}

static uint64_t shuffle_records(int rounds) {
  static const char *const names[4] = { "DHRYSTONE-LIKE ALPHA", "DHRYSTONE-LIKE BETA", "DHRYSTONE-LIKE GAMMA", "DHRYSTONE-LIKE DELTA" };
  for (int i = 0; i < RECORDS; i++) {
    records[i].next = &records[(i * 7 + 1) % RECORDS];
    records[i].colour = (Colour)(i % 3);
    records[i].number = i;
    copy_name(records[i].name, names[i & 3]);
  }
  uint64_t sum = 0;
  Record *r = &records[0];
  for (int i = 0; i < rounds; i++) {
    Record *n = r->next;
    int cmp = compare_names(r->name, n->name);
    if (cmp < 0) copy_name(r->name, n->name);
    else if (cmp > 0) copy_name(n->name, names[(i >> 3) & 3]);
    r->colour = next_colour(r->colour);
    n->number = ops[r->colour](n->number + (int32_t)i) & 0xffff;
    sum += (uint64_t)n->number + (uint64_t)(cmp & 0xff);
    r = n;
  }
  return sum;
}

int main(void) {
  int64_t vars[4] = { 0, 0, 0, 0 };
  if (sizeof program / sizeof program[0] != 70 || program[69] != HALT) {
    bench_puts("intmix: interpreter program is misassembled\n");
    return 1;
  }
  int64_t steps = run_vm(program, vars);
  /* pi(60000) = 6057 primes below 60000. */
  if (steps < 0 || vars[1] != 6057) {
    bench_puts("intmix: prime count wrong: ");
    bench_putdec((uint64_t)vars[1]);
    bench_putc('\n');
    return 1;
  }
  uint64_t sum = (uint64_t)steps * 1000003u + shuffle_records(3000000);
  bench_report("intmix", sum);
  return 0;
}
