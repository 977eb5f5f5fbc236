# RV64I loads and stores: every width, sign against zero extension, negative offsets and
# store-then-load of other widths (little-endian).
#include "env/harness.h"

.macro TEST_LD num, insn, exp, off
  li gp, \num
  la a1, ld_data
  \insn a0, \off(a1)
  CHECK a0, \exp
.endm

TEST_BEGIN
  TEST_LD 1, lb, 0xffffffffffffff87, 0
  TEST_LD 2, lbu, 0x0000000000000087, 0
  TEST_LD 3, lb, 0x0000000000000008, 8
  TEST_LD 4, lh, 0xffffffffffff8687, 0
  TEST_LD 5, lhu, 0x0000000000008687, 0
  TEST_LD 6, lh, 0x0000000000000708, 8
  TEST_LD 7, lw, 0xffffffff84858687, 0
  TEST_LD 8, lwu, 0x0000000084858687, 0
  TEST_LD 9, lw, 0x0000000005060708, 8
  TEST_LD 10, ld, 0x8081828384858687, 0
  TEST_LD 11, ld, 0x0102030405060708, 8
  TEST_LD 12, lbu, 0x0000000000000080, 7
  TEST_LD 13, lh, 0xffffffffffff8081, 6
  TEST_LD 14, lw, 0xffffffff80818283, 4

  li gp, 15
  la a1, ld_data + 16
  ld a0, -8(a1)
  CHECK a0, 0x0102030405060708
  li gp, 16
  lb a0, -1(a1)
  CHECK a0, 0x0000000000000001

  # Stores write exactly their width.
  li gp, 20
  la a1, st_data
  sd zero, 0(a1)
  li a2, 0x1122334455667788
  sb a2, 3(a1)
  ld a0, 0(a1)
  CHECK a0, 0x0000000088000000
  li gp, 21
  sh a2, 6(a1)
  ld a0, 0(a1)
  CHECK a0, 0x7788000088000000
  li gp, 22
  sw a2, 0(a1)
  ld a0, 0(a1)
  CHECK a0, 0x7788000055667788
  li gp, 23
  sd a2, 8(a1)
  lwu a0, 12(a1)
  CHECK a0, 0x0000000011223344
  li gp, 24
  addi a3, a1, 32
  sd a2, -16(a3)
  ld a0, 16(a1)
  CHECK a0, 0x1122334455667788
  li gp, 25
  lh a0, -14(a3)
  CHECK a0, 0x0000000000005566

  # Loading into the base register.
  li gp, 26
  la a1, ld_data
  ld a1, 8(a1)
  CHECK a1, 0x0102030405060708
TEST_END

  .data
  .align 3
ld_data:
  .dword 0x8081828384858687
  .dword 0x0102030405060708
st_data:
  .space 32
