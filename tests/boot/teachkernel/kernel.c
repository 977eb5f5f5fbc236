// romvisor's teaching kernel: the smallest kernel that does what an operating-systems
// course's first weeks do, on QEMU's virt board with -bios none (and on romvisor with the
// same flags). Every hart prints its id, takes timer interrupts from the CLINT, adds to a
// counter under a spinlock and sends an IPI to the next hart; hart 0 then reads and writes
// a raw disk over modern virtio-mmio virtio-blk and powers off. Written for N harts; with
// one hart, the IPI goes to itself. Its output must not depend on timing: the boot test
// compares it byte for byte with QEMU's.
#include <stdint.h>

#define UART 0x10000000UL
#define UART_THR 0
#define UART_LSR 5
#define UART_LSR_THRE 0x20

#define TEST_DEVICE 0x100000UL
#define TEST_POWEROFF 0x5555
#define TEST_FAIL 0x3333

#define CLINT 0x2000000UL
#define CLINT_MSIP(h) ((volatile uint32_t *)(CLINT + 4 * (h)))
#define CLINT_MTIMECMP(h) ((volatile uint64_t *)(CLINT + 0x4000 + 8 * (h)))
#define CLINT_MTIME ((volatile uint64_t *)(CLINT + 0xbff8))

#define MAX_HARTS 8
#define TICKS 3
/** 1 ms of the 10 MHz timebase. */
#define TICK_INTERVAL 10000
#define COUNT_PER_HART 1000

#define MSTATUS_MIE (1UL << 3)
#define MSTATUS_FS_INITIAL (1UL << 13)
#define MIE_MSIE (1UL << 3)
#define MIE_MTIE (1UL << 7)
#define CAUSE_INTERRUPT (1UL << 63)
#define IRQ_M_SOFT 3
#define IRQ_M_TIMER 7

#define csr_read(name) ({ uint64_t v_; __asm__ volatile("csrr %0, " #name : "=r"(v_)); v_; })
#define csr_set(name, bits) __asm__ volatile("csrs " #name ", %0" ::"r"(bits))
#define csr_clear(name, bits) __asm__ volatile("csrc " #name ", %0" ::"r"(bits))

// ---------------------------------------------------------------- console

static void putc_raw(char c) {
  volatile uint8_t *uart = (volatile uint8_t *)UART;
  while ((uart[UART_LSR] & UART_LSR_THRE) == 0) {
  }
  uart[UART_THR] = (uint8_t)c;
}

static void puts_raw(const char *s) {
  while (*s) putc_raw(*s++);
}

static void putdec(uint64_t v) {
  char buf[21];
  int i = 20;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  puts_raw(&buf[i]);
}

static void puthex(uint64_t v) {
  char buf[19];
  int i = 18;
  buf[i] = 0;
  do {
    buf[--i] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v);
  buf[--i] = 'x';
  buf[--i] = '0';
  puts_raw(&buf[i]);
}

// ---------------------------------------------------------------- locks

struct spinlock {
  volatile uint32_t locked;
};

static void acquire(struct spinlock *lk) {
  while (__atomic_exchange_n(&lk->locked, 1, __ATOMIC_ACQUIRE) != 0) {
  }
}

static void release(struct spinlock *lk) {
  __atomic_store_n(&lk->locked, 0, __ATOMIC_RELEASE);
}

static struct spinlock print_lock;
static struct spinlock counter_lock;

/** The counter every hart adds to under counter_lock; gdb reads it in the boot test. */
volatile uint64_t counter;

// ---------------------------------------------------------------- harts

static volatile uint32_t nharts;
static volatile uint32_t started;
static volatile uint32_t turn;
static volatile uint32_t arrived;
static volatile uint64_t ticks[MAX_HARTS];
static volatile uint64_t ipis[MAX_HARTS];
static volatile uint64_t unexpected_cause;

/** Waits until every hart has called it `round` times. */
static void barrier(uint32_t round) {
  __atomic_fetch_add(&arrived, 1, __ATOMIC_ACQ_REL);
  while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < round * nharts) {
  }
}

/** Harts print in hart order: each waits for its turn, then passes it on. */
static void wait_turn(uint32_t round, uint64_t hart) {
  while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != round * nharts + hart) {
  }
}

static void pass_turn(void) {
  __atomic_fetch_add(&turn, 1, __ATOMIC_RELEASE);
}

static uint64_t hartid(void) {
  return csr_read(mhartid);
}

static void poweroff(uint32_t code) {
  *(volatile uint32_t *)TEST_DEVICE = code == 0 ? TEST_POWEROFF : (code << 16) | TEST_FAIL;
  for (;;) __asm__ volatile("wfi");
}

/** Called from trap_vector in entry.S. */
void trap(uint64_t cause, uint64_t epc) {
  uint64_t h = hartid();
  if (cause == (CAUSE_INTERRUPT | IRQ_M_TIMER)) {
    ticks[h]++;
    *CLINT_MTIMECMP(h) = ticks[h] < TICKS ? *CLINT_MTIME + TICK_INTERVAL : ~0UL;
  } else if (cause == (CAUSE_INTERRUPT | IRQ_M_SOFT)) {
    *CLINT_MSIP(h) = 0;
    ipis[h]++;
  } else {
    acquire(&print_lock);
    puts_raw("hart ");
    putdec(h);
    puts_raw(": unexpected trap, mcause ");
    puthex(cause);
    puts_raw(" mepc ");
    puthex(epc);
    puts_raw("\n");
    release(&print_lock);
    unexpected_cause = cause;
    poweroff(2);
  }
}

/**
 * Sleeps until an interrupt handler has raised `*v` to `at_least`. The test runs with
 * interrupts off, so an interrupt between it and the wfi cannot be lost: wfi still wakes
 * on a pending interrupt, which is taken once they are on again.
 */
static void wait_for(volatile uint64_t *v, uint64_t at_least) {
  for (;;) {
    csr_clear(mstatus, MSTATUS_MIE);
    if (*v >= at_least) break;
    __asm__ volatile("wfi");
    csr_set(mstatus, MSTATUS_MIE);
  }
  csr_set(mstatus, MSTATUS_MIE);
}

// ---------------------------------------------------------------- device tree

static uint32_t be32(const void *p) {
  const uint8_t *b = p;
  return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/** Counts the /cpus/cpu@N nodes of a flattened device tree (0 if it is not one). */
static uint32_t count_cpus(const uint8_t *fdt) {
  if (be32(fdt) != 0xd00dfeed) return 0;
  const uint8_t *p = fdt + be32(fdt + 8);
  uint32_t cpus = 0;
  for (;;) {
    uint32_t token = be32(p);
    p += 4;
    if (token == 1) {  // FDT_BEGIN_NODE: a NUL-terminated name, padded to 4 bytes
      const char *name = (const char *)p;
      if (name[0] == 'c' && name[1] == 'p' && name[2] == 'u' && name[3] == '@') cpus++;
      uint32_t len = 0;
      while (name[len]) len++;
      p += (len + 4) & ~3u;
    } else if (token == 3) {  // FDT_PROP: length, name offset, value padded to 4 bytes
      p += 8 + ((be32(p) + 3) & ~3u);
    } else if (token == 2 || token == 4) {  // FDT_END_NODE, FDT_NOP
    } else {
      break;  // FDT_END or garbage
    }
  }
  return cpus;
}

// ---------------------------------------------------------------- virtio-blk

#define VIRTIO_BASE 0x10001000UL
#define VIRTIO_STRIDE 0x1000UL
#define VIRTIO_SLOTS 8
#define VIRTIO_MAGIC 0x74726976
#define VIRTIO_ID_BLOCK 2

#define R_MAGIC 0x000
#define R_VERSION 0x004
#define R_DEVICE_ID 0x008
#define R_DEVICE_FEATURES 0x010
#define R_DEVICE_FEATURES_SEL 0x014
#define R_DRIVER_FEATURES 0x020
#define R_DRIVER_FEATURES_SEL 0x024
#define R_QUEUE_SEL 0x030
#define R_QUEUE_NUM_MAX 0x034
#define R_QUEUE_NUM 0x038
#define R_QUEUE_READY 0x044
#define R_QUEUE_NOTIFY 0x050
#define R_INTERRUPT_STATUS 0x060
#define R_INTERRUPT_ACK 0x064
#define R_STATUS 0x070
#define R_QUEUE_DESC_LOW 0x080
#define R_QUEUE_DESC_HIGH 0x084
#define R_QUEUE_DRIVER_LOW 0x090
#define R_QUEUE_DRIVER_HIGH 0x094
#define R_QUEUE_DEVICE_LOW 0x0a0
#define R_QUEUE_DEVICE_HIGH 0x0a4
#define R_CONFIG 0x100

#define S_ACKNOWLEDGE 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8

#define QUEUE_SIZE 8
#define DESC_F_NEXT 1
#define DESC_F_WRITE 2
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define SECTOR 512

struct virtq_desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};

struct virtq_avail {
  uint16_t flags;
  uint16_t idx;
  uint16_t ring[QUEUE_SIZE];
};

struct virtq_used_elem {
  uint32_t id;
  uint32_t len;
};

struct virtq_used {
  uint16_t flags;
  uint16_t idx;
  struct virtq_used_elem ring[QUEUE_SIZE];
};

static struct {
  struct virtq_desc desc[QUEUE_SIZE];
  struct virtq_avail avail;
  struct virtq_used used __attribute__((aligned(4)));
} queue __attribute__((aligned(4096)));

static struct {
  uint32_t type;
  uint32_t reserved;
  uint64_t sector;
} request_header;
static uint8_t sector_buf[SECTOR];
static volatile uint8_t request_status;
static uint16_t used_seen;
static uintptr_t blk;

static volatile uint32_t *reg(uintptr_t base, uint32_t off) {
  return (volatile uint32_t *)(base + off);
}

static void set_addr(uintptr_t base, uint32_t low, uint64_t addr) {
  *reg(base, low) = (uint32_t)addr;
  *reg(base, low + 4) = (uint32_t)(addr >> 32);
}

/** Finds and sets up the first virtio-blk device; 0 if there is none it can drive. */
static uintptr_t blk_init(void) {
  uintptr_t base = 0;
  for (uint32_t slot = 0; slot < VIRTIO_SLOTS; slot++) {
    uintptr_t b = VIRTIO_BASE + slot * VIRTIO_STRIDE;
    if (*reg(b, R_MAGIC) == VIRTIO_MAGIC && *reg(b, R_DEVICE_ID) == VIRTIO_ID_BLOCK) {
      base = b;
      break;
    }
  }
  if (!base) {
    puts_raw("disk: no virtio-blk device\n");
    return 0;
  }
  puts_raw("disk: virtio-blk at ");
  puthex(base);
  puts_raw(", IRQ ");
  putdec((base - VIRTIO_BASE) / VIRTIO_STRIDE + 1);
  puts_raw("\n");
  if (*reg(base, R_VERSION) != 2) {
    puts_raw("disk: legacy virtio-mmio (version 1); run with -global virtio-mmio.force-legacy=false\n");
    return 0;
  }
  *reg(base, R_STATUS) = 0;
  *reg(base, R_STATUS) = S_ACKNOWLEDGE;
  *reg(base, R_STATUS) = S_ACKNOWLEDGE | S_DRIVER;
  *reg(base, R_DEVICE_FEATURES_SEL) = 1;
  if ((*reg(base, R_DEVICE_FEATURES) & 1) == 0) {
    puts_raw("disk: the device does not offer VIRTIO_F_VERSION_1\n");
    return 0;
  }
  // Only VIRTIO_F_VERSION_1 (feature bit 32): no flush, no segment limits to honour.
  *reg(base, R_DRIVER_FEATURES_SEL) = 0;
  *reg(base, R_DRIVER_FEATURES) = 0;
  *reg(base, R_DRIVER_FEATURES_SEL) = 1;
  *reg(base, R_DRIVER_FEATURES) = 1;
  *reg(base, R_STATUS) = S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK;
  if ((*reg(base, R_STATUS) & S_FEATURES_OK) == 0) {
    puts_raw("disk: features refused\n");
    return 0;
  }
  *reg(base, R_QUEUE_SEL) = 0;
  if (*reg(base, R_QUEUE_NUM_MAX) < QUEUE_SIZE) {
    puts_raw("disk: queue too small\n");
    return 0;
  }
  *reg(base, R_QUEUE_NUM) = QUEUE_SIZE;
  set_addr(base, R_QUEUE_DESC_LOW, (uintptr_t)queue.desc);
  set_addr(base, R_QUEUE_DRIVER_LOW, (uintptr_t)&queue.avail);
  set_addr(base, R_QUEUE_DEVICE_LOW, (uintptr_t)&queue.used);
  *reg(base, R_QUEUE_READY) = 1;
  *reg(base, R_STATUS) = S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK;
  uint64_t sectors = *reg(base, R_CONFIG) | (uint64_t)*reg(base, R_CONFIG + 4) << 32;
  puts_raw("disk: ");
  putdec(sectors);
  puts_raw(" sectors\n");
  return base;
}

/** One request through a three-descriptor chain, polled to completion; the status byte. */
static uint8_t blk_rw(uint32_t type, uint64_t sector) {
  request_header.type = type;
  request_header.reserved = 0;
  request_header.sector = sector;
  request_status = 0xff;
  queue.desc[0] = (struct virtq_desc){(uintptr_t)&request_header, sizeof request_header, DESC_F_NEXT, 1};
  queue.desc[1] = (struct virtq_desc){(uintptr_t)sector_buf, SECTOR, DESC_F_NEXT | (type == BLK_T_IN ? DESC_F_WRITE : 0), 2};
  queue.desc[2] = (struct virtq_desc){(uintptr_t)&request_status, 1, DESC_F_WRITE, 0};
  queue.avail.ring[queue.avail.idx % QUEUE_SIZE] = 0;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  queue.avail.idx++;
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  *reg(blk, R_QUEUE_NOTIFY) = 0;
  while (*(volatile uint16_t *)&queue.used.idx == used_seen) {
  }
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
  used_seen++;
  *reg(blk, R_INTERRUPT_ACK) = *reg(blk, R_INTERRUPT_STATUS);
  return request_status;
}

static void print_line(const uint8_t *p, uint32_t max) {
  for (uint32_t i = 0; i < max && p[i] != '\n' && p[i] != 0; i++) putc_raw(p[i] >= 32 && p[i] < 127 ? (char)p[i] : '.');
  puts_raw("\n");
}

static void copy_text(uint8_t *to, const char *from) {
  while (*from) *to++ = (uint8_t)*from++;
}

static void disk_test(void) {
  blk = blk_init();
  if (!blk) return;
  if (blk_rw(BLK_T_IN, 0) != 0) {
    puts_raw("disk: read of sector 0 failed\n");
    return;
  }
  puts_raw("disk: sector 0 says: ");
  print_line(sector_buf, 64);
  uint32_t sum = 0;
  for (int i = 0; i < SECTOR; i++) sum = sum * 31 + sector_buf[i];

  if (blk_rw(BLK_T_IN, 2) != 0) {
    puts_raw("disk: read of sector 2 failed\n");
    return;
  }
  uint32_t boots = sector_buf[0] | sector_buf[1] << 8 | sector_buf[2] << 16 | (uint32_t)sector_buf[3] << 24;
  boots++;
  for (int i = 0; i < 4; i++) sector_buf[i] = (uint8_t)(boots >> (8 * i));
  uint8_t wrote = blk_rw(BLK_T_OUT, 2);
  puts_raw("disk: boot count ");
  putdec(boots);
  puts_raw(wrote == 0 ? " written\n" : " not written (read-only disk?)\n");

  for (int i = 0; i < SECTOR; i++) sector_buf[i] = 0;
  copy_text(sector_buf, "written by the romvisor teaching kernel, sector 0 sum ");
  for (int i = 0; i < 8; i++) sector_buf[54 + i] = (uint8_t)"0123456789abcdef"[(sum >> (28 - 4 * i)) & 15];
  sector_buf[62] = '\n';
  if (blk_rw(BLK_T_OUT, 1) != 0) {
    puts_raw("disk: write of sector 1 failed\n");
    return;
  }
  for (int i = 0; i < SECTOR; i++) sector_buf[i] = 0;
  if (blk_rw(BLK_T_IN, 1) != 0) {
    puts_raw("disk: read back of sector 1 failed\n");
    return;
  }
  puts_raw("disk: sector 1 now says: ");
  print_line(sector_buf, 80);
}

// ---------------------------------------------------------------- the kernel

/** Adds to the shared counter under its lock: what the gdb test breaks on and steps through. */
void count_up(uint64_t times) {
  for (uint64_t i = 0; i < times; i++) {
    acquire(&counter_lock);
    counter = counter + 1;
    release(&counter_lock);
  }
}

/**
 * Shows what this hart sees in mscratch and ft0: the gdb test sets them from the debugger
 * and breaks here, so the values in the arguments are the guest's own reads. Nothing else
 * uses them; the kernel prints nothing of them (its output stays QEMU's).
 */
__attribute__((noinline)) void observed(uint64_t hart, uint64_t mscratch, uint64_t ft0) {
  __asm__ volatile("" ::"r"(hart), "r"(mscratch), "r"(ft0));
}

static void observe(uint64_t hart) {
  uint64_t f;
  csr_set(mstatus, MSTATUS_FS_INITIAL); // FP on, or reading ft0 traps
  __asm__ volatile("fmv.x.d %0, ft0" : "=r"(f));
  observed(hart, csr_read(mscratch), f);
}

void start(uint64_t hart, const uint8_t *dtb) {
  if (hart == 0) {
    uint32_t n = count_cpus(dtb);
    nharts = n == 0 ? 1 : n > MAX_HARTS ? MAX_HARTS : n;
    puts_raw("\nromvisor teaching kernel\n");
    puts_raw(n == 0 ? "a1 is not a device tree\n" : "device tree: ");
    if (n) {
      putdec(n);
      puts_raw(n == 1 ? " hart\n" : " harts\n");
    }
    __atomic_store_n(&started, 1, __ATOMIC_RELEASE);
  } else {
    while (__atomic_load_n(&started, __ATOMIC_ACQUIRE) == 0) {
    }
    if (hart >= nharts) for (;;) __asm__ volatile("wfi");
  }

  wait_turn(0, hart);
  acquire(&print_lock);
  puts_raw("hart ");
  putdec(hart);
  puts_raw(" up\n");
  release(&print_lock);
  pass_turn();

  // Timer and software interrupts, in M-mode.
  *CLINT_MTIMECMP(hart) = *CLINT_MTIME + TICK_INTERVAL;
  csr_set(mie, MIE_MTIE | MIE_MSIE);
  csr_set(mstatus, MSTATUS_MIE);
  wait_for(&ticks[hart], TICKS);

  count_up(COUNT_PER_HART);
  observe(hart);

  // An IPI to the next hart (to itself when alone); then wait for the one sent to it.
  *CLINT_MSIP((hart + 1) % nharts) = 1;
  wait_for(&ipis[hart], 1);
  barrier(1);

  wait_turn(1, hart);
  acquire(&print_lock);
  puts_raw("hart ");
  putdec(hart);
  puts_raw(": ");
  putdec(ticks[hart]);
  puts_raw(" timer interrupts, ");
  putdec(ipis[hart]);
  puts_raw(ipis[hart] == 1 ? " IPI\n" : " IPIs\n");
  release(&print_lock);
  pass_turn();
  barrier(2);

  if (hart != 0) for (;;) __asm__ volatile("wfi");
  puts_raw("counter: ");
  putdec(counter);
  puts_raw(counter == (uint64_t)COUNT_PER_HART * nharts ? " (as expected)\n" : " (WRONG)\n");
  disk_test();
  puts_raw("teaching kernel done\n");
  poweroff(0);
}
