# Zicsr basics in M-mode (read-modify-write semantics, which forms write at all), and the
# synchronous exceptions a bare-metal program meets: illegal instructions (read-only and
# absent CSRs, reserved encodings), ecall and ebreak, with mcause, mepc and mtval.
#include "env/harness.h"

#define CSRW_MVENDORID_A0    0xf1151073
#define CSRRS_A0_MHARTID_A1  0xf145a573
#define CSRRWI_A0_MHARTID_0  0xf1405573
#define CSRRS_A0_0X800_ZERO  0x80002573
#define MISA_IMAFDC          0x112d

TEST_BEGIN
  li gp, 1
  li a1, 0x1234
  csrw mscratch, a1
  li a2, 0x5678
  csrrw a0, mscratch, a2
  CHECK a0, 0x1234
  csrr a0, mscratch
  CHECK a0, 0x5678
  li gp, 2
  li a1, 0xf0
  csrrs a0, mscratch, a1
  CHECK a0, 0x5678
  csrr a0, mscratch
  CHECK a0, 0x56f8
  li gp, 3
  li a1, 0xff
  csrrc a0, mscratch, a1
  CHECK a0, 0x56f8
  csrr a0, mscratch
  CHECK a0, 0x5600
  li gp, 4
  csrrwi a0, mscratch, 0x1f
  CHECK a0, 0x5600
  csrrci a0, mscratch, 3
  CHECK a0, 0x1f
  csrrsi a0, mscratch, 0x10
  CHECK a0, 0x1c
  csrr a0, mscratch
  CHECK a0, 0x1c
  li gp, 5
  li a1, -1
  csrw mscratch, a1
  csrr a0, mscratch
  CHECK a0, -1
  li gp, 6
  csrrw a0, mscratch, a0
  CHECK a0, -1

  # Read-only CSRs can be read by forms that don't write.
  li gp, 10
  csrr a0, mhartid
  CHECK a0, 0
  li gp, 11
  csrrs a0, mhartid, zero
  csrrsi a0, mhartid, 0
  csrrc a0, mvendorid, zero
  li gp, 12
  csrr a0, misa
  srli a1, a0, 62
  CHECK a1, 2
  li a1, MISA_IMAFDC
  and a0, a0, a1
  CHECK a0, MISA_IMAFDC
  # (mepc[0] reading as zero is not tested: QEMU 7.2 keeps the bit as written.)
  # Counters run forward.
  li gp, 14
  rdinstret a0
  nop
  rdinstret a1
  bgeu a0, a1, fail_far
  li gp, 15
  csrr a0, minstret
  csrr a1, mcycle
  rdcycle a2
  bltu a2, a1, fail_far

  # Writing read-only CSRs, even with csrrwi and an immediate of 0, is illegal.
  TEST_TRAP_ILLEGAL 20, CSRW_MVENDORID_A0, .word CSRW_MVENDORID_A0
  li a1, 1
  TEST_TRAP_ILLEGAL 21, CSRRS_A0_MHARTID_A1, .word CSRRS_A0_MHARTID_A1
  TEST_TRAP_ILLEGAL 22, CSRRWI_A0_MHARTID_0, .word CSRRWI_A0_MHARTID_0
  TEST_TRAP_ILLEGAL 23, CSRRS_A0_0X800_ZERO, .word CSRRS_A0_0X800_ZERO
  TEST_TRAP_ILLEGAL 24, 0xffffffff, .word 0xffffffff
  TEST_TRAP_ILLEGAL 25, 0, .2byte 0
  TEST_TRAP_ILLEGAL 26, 0x0000007f, .word 0x0000007f

  TEST_TRAP 30, CAUSE_MACHINE_ECALL, 0, ecall
  TEST_TRAP_BREAK 31, ebreak
  TEST_TRAP_BREAK 32, c.ebreak
  # A trap left mscratch alone.
  li gp, 33
  csrr a0, mscratch
  CHECK a0, -1
TEST_END

fail_far:
  j fail
