# Misaligned plain loads and stores, including ones that straddle a page boundary. The
# spec lets an implementation trap or emulate these; QEMU's TCG performs them, and
# romvisor must run the same programs, so both must succeed.
#include "env/harness.h"
TEST_BEGIN
  # page_a's last 8 bytes are 0x1716151413121110 and page_b starts 0x2726252423222120.
  la a1, page_b
  li gp, 1
  ld a0, -7(a1)
  CHECK a0, 0x2017161514131211
  li gp, 2
  ld a0, -1(a1)
  CHECK a0, 0x2625242322212017
  li gp, 3
  lw a0, -2(a1)
  CHECK a0, 0x0000000021201716
  li gp, 4
  lh a0, -1(a1)
  CHECK a0, 0x0000000000002017
  li gp, 5
  lwu a0, 1(a1)
  CHECK a0, 0x0000000024232221
  li gp, 6
  lhu a0, 3(a1)
  CHECK a0, 0x0000000000002423

  # Stores across the boundary, read back aligned.
  li gp, 10
  li a2, 0x8899aabbccddeeff
  sd a2, -3(a1)
  ld a0, 0(a1)
  CHECK a0, 0x2726258899aabbcc
  li gp, 11
  ld a0, -8(a1)
  CHECK a0, 0xddeeff1413121110
  li gp, 12
  sw a2, -2(a1)
  lhu a0, 0(a1)
  CHECK a0, 0xccdd
  li gp, 13
  sh a2, 5(a1)
  ld a0, 0(a1)
  srli a0, a0, 40
  CHECK a0, 0x27eeff
  # FP loads and stores too.
  li gp, 14
  li a2, 0x400921fb54442d18
  fmv.d.x fa1, a2
  fsd fa1, -5(a1)
  fld fa0, -5(a1)
  fmv.x.d a0, fa0
  CHECK a0, 0x400921fb54442d18
  li gp, 15
  flw fa0, -1(a1)
  fmv.x.d a0, fa0
  CHECK a0, 0xffffffff400921fb
TEST_END

  .data
  .balign 4096
page_a:
  .fill 4088, 1, 0
  .dword 0x1716151413121110
page_b:
  .dword 0x2726252423222120
