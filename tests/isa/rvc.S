# RVC: every RV64C encoding at least once (quadrants 0, 1 and 2), checked against the
# 32-bit instruction it expands to, plus reserved encodings that must be illegal.
#include "env/harness.h"

#define C_LUI_A0_0     0x6501
#define C_ADDI16SP_0   0x6101
#define C_LDSP_X0      0x6002
#define C_LWSP_X0      0x4002
#define C_JR_X0        0x8002

TEST_BEGIN
  # Quadrant 1: immediates and register-register ALU.
  li gp, 1
  c.li a0, -32
  CHECK a0, -32
  li gp, 2
  c.li a0, 31
  CHECK a0, 31
  li gp, 3
  c.lui a0, 0xfffff
  CHECK a0, 0xfffffffffffff000
  li gp, 4
  c.lui a0, 0x1f
  CHECK a0, 0x1f000
  li gp, 5
  c.lui a0, 0xfffe0
  CHECK a0, 0xfffffffffffe0000
  li gp, 6
  li a0, 100
  c.addi a0, -32
  CHECK a0, 68
  c.addi a0, 31
  CHECK a0, 99
  c.nop
  li gp, 7
  li a0, 0x7fffffff
  c.addiw a0, 1
  CHECK a0, 0xffffffff80000000
  li gp, 8
  li a0, 0x1234567880000000
  c.addiw a0, 0
  CHECK a0, 0xffffffff80000000
  li gp, 9
  li a0, 1
  c.slli a0, 63
  CHECK a0, 0x8000000000000000
  li gp, 10
  c.srai a0, 63
  CHECK a0, -1
  li gp, 11
  c.srli a0, 32
  CHECK a0, 0xffffffff
  li gp, 12
  li a0, -1
  c.andi a0, -32
  CHECK a0, -32
  c.andi a0, 31
  CHECK a0, 0
  li gp, 13
  li a0, 0x00ff00ff00ff00ff
  li a1, 0x0ff00ff00ff00ff0
  mv a2, a0
  c.and a2, a1
  CHECK a2, 0x00f000f000f000f0
  mv a2, a0
  c.or a2, a1
  CHECK a2, 0x0fff0fff0fff0fff
  mv a2, a0
  c.xor a2, a1
  CHECK a2, 0x0f0f0f0f0f0f0f0f
  mv a2, a0
  c.sub a2, a1
  CHECK a2, 0xf10ef10ef10ef10f
  li gp, 14
  li a2, 0x7fffffff
  li a3, 1
  c.addw a2, a3
  CHECK a2, 0xffffffff80000000
  li a2, 0x100000000
  c.subw a2, a3
  CHECK a2, -1
  li gp, 15
  li a1, 0x123
  c.mv a0, a1
  CHECK a0, 0x123
  c.add a0, a1
  CHECK a0, 0x246

  # Stack-pointer forms: addi16sp, addi4spn, and the sp-relative loads/stores.
  li gp, 20
  c.mv a5, sp
  c.addi16sp sp, -512
  sub a0, a5, sp
  CHECK a0, 512
  li gp, 21
  c.addi4spn a0, sp, 1020
  sub a0, a0, sp
  CHECK a0, 1020
  c.addi4spn s1, sp, 4
  sub a0, s1, sp
  CHECK a0, 4
  li gp, 22
  li a1, 0x8877665544332211
  c.sdsp a1, 504(sp)
  c.ldsp a0, 504(sp)
  CHECK a0, 0x8877665544332211
  c.swsp a1, 252(sp)
  c.lwsp a0, 252(sp)
  CHECK a0, 0x44332211
  li a1, 0xfedcba98
  c.swsp a1, 0(sp)
  c.lwsp a0, 0(sp)
  CHECK a0, 0xfffffffffedcba98
  li gp, 23
  li a1, 0x400921fb54442d18
  fmv.d.x fa1, a1
  c.fsdsp fa1, 8(sp)
  c.fldsp ft0, 8(sp)
  fmv.x.d a0, ft0
  CHECK a0, 0x400921fb54442d18
  ld a0, 8(sp)
  CHECK a0, 0x400921fb54442d18

  # Register-based loads/stores (rs1' in x8..x15).
  li gp, 24
  mv a5, sp
  li a1, 0x0123456789abcdef
  c.sd a1, 248(a5)
  c.ld a0, 248(a5)
  CHECK a0, 0x0123456789abcdef
  c.sd a1, 120(a5)
  c.lw s0, 124(a5)
  CHECK s0, 0x01234567
  c.sw a1, 124(a5)
  c.lw a0, 124(a5)
  CHECK a0, 0xffffffff89abcdef
  li gp, 25
  c.fsd fa1, 16(a5)
  c.fld fa0, 16(a5)
  fmv.x.d a0, fa0
  CHECK a0, 0x400921fb54442d18
  c.addi16sp sp, 496
  c.addi16sp sp, 16
  li gp, 26
  sub a0, a5, sp
  CHECK a0, -512

  # Control transfers.
  li gp, 30
  li a0, 0
  c.j 1f
  li a0, 1
1:
  CHECK a0, 0
  li gp, 31
  li s0, 0
  c.beqz s0, 2f
  j fail
2:
  c.bnez s0, fail_far
  li s0, -1
  c.bnez s0, 3f
  j fail
3:
  c.beqz s0, fail_far
  li gp, 32
  la a1, 4f
  c.jr a1
  j fail
4:
  li gp, 33
  la a1, 5f
  c.jalr a1
6:
  j fail
5:
  la a0, 6b
  bne ra, a0, fail_far
  # A 32-bit instruction at a 2-byte boundary after a compressed one.
  li gp, 34
  .balign 4
  c.li a0, 1
  addi a0, a0, 1
  CHECK a0, 2

  TEST_TRAP_BREAK 40, c.ebreak
  # Reserved encodings.
  TEST_TRAP_ILLEGAL 41, C_LUI_A0_0, .2byte C_LUI_A0_0
  TEST_TRAP_ILLEGAL 42, C_ADDI16SP_0, .2byte C_ADDI16SP_0
  TEST_TRAP_ILLEGAL 43, C_LDSP_X0, .2byte C_LDSP_X0
  TEST_TRAP_ILLEGAL 44, C_LWSP_X0, .2byte C_LWSP_X0
  TEST_TRAP_ILLEGAL 45, C_JR_X0, .2byte C_JR_X0
  TEST_TRAP_ILLEGAL 46, 0, .2byte 0
TEST_END

fail_far:
  j fail
