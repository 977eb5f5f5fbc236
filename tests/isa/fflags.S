# The FP control and status register: fflags accrue until written, fcsr = frm << 5 |
# fflags with the three CSR views aliasing it, invalid frm makes dynamic-rounding
# instructions illegal (and so do reserved static rm values), mstatus.FS goes Dirty
# when FP state changes, and FS = Off makes every FP instruction and CSR illegal.
#include "env/harness.h"

#define FADD_D_FA0_FA1_FA2_DYN 0x02c5f553
#define FADD_D_FA0_FA1_FA2_RM5 0x02c5d553
#define FADD_D_FA0_FA1_FA2_RM6 0x02c5e553
#define FRCSR_A0               0x00302573

TEST_BEGIN
  li gp, 1
  li a1, 0x3ff0000000000000
  fmv.d.x fa1, a1
  fmv.d.x fa2, zero
  li a2, 0x3ca0000000000000
  fmv.d.x fa3, a2
  fsflags zero
  fdiv.d fa0, fa1, fa2
  fadd.d fa0, fa1, fa3
  frflags a0
  CHECK a0, DZ|NX
  li gp, 2
  fsub.d fa0, fa2, fa1
  fsgnjn.d fa0, fa0, fa0
  fmv.x.d a0, fa0
  fsqrt.d fa0, fa2
  frflags a0
  CHECK a0, DZ|NX
  li gp, 3
  fsqrt.d fa0, fa0, rne
  fmv.d.x fa4, a1
  fneg.d fa4, fa4
  fsqrt.d fa0, fa4
  frflags a0
  CHECK a0, NV|DZ|NX
  li gp, 4
  csrrw a0, fflags, zero
  CHECK a0, NV|DZ|NX
  frflags a0
  CHECK a0, 0

  # fcsr packs frm above fflags; the views alias it.
  li gp, 10
  fsrmi 3
  fsflagsi 5
  frcsr a0
  CHECK a0, 0x65
  li gp, 11
  li a1, 0xffffffff
  fscsr a1
  frcsr a0
  CHECK a0, 0xff
  li gp, 12
  frrm a0
  CHECK a0, 7
  li gp, 13
  frflags a0
  CHECK a0, 0x1f
  li gp, 14
  fsrmi 2
  frcsr a0
  CHECK a0, 0x5f
  li gp, 15
  fsflags a0, zero
  CHECK a0, 0x1f
  li gp, 16
  csrrsi a0, fflags, 3
  CHECK a0, 0
  csrrci a0, fflags, 1
  CHECK a0, 3
  frcsr a0
  CHECK a0, 0x42
  li gp, 17
  li a1, 4
  fsrm a0, a1
  CHECK a0, 2
  frrm a0
  CHECK a0, 4
  li gp, 18
  li a1, 0xffffffffffffff23
  csrrw a0, frm, a1
  CHECK a0, 4
  frcsr a0
  CHECK a0, 0x62

  # Invalid rounding modes.
  fscsr zero
  fsrmi 5
  TEST_TRAP_ILLEGAL 20, FADD_D_FA0_FA1_FA2_DYN, .word FADD_D_FA0_FA1_FA2_DYN
  fsrmi 7
  TEST_TRAP_ILLEGAL 21, FADD_D_FA0_FA1_FA2_DYN, .word FADD_D_FA0_FA1_FA2_DYN
  # Instructions without rounding still work under an invalid frm.
  li gp, 22
  fsgnj.d fa0, fa1, fa1
  fmv.x.d a0, fa0
  CHECK a0, 0x3ff0000000000000
  fsrmi 0
  TEST_TRAP_ILLEGAL 23, FADD_D_FA0_FA1_FA2_RM5, .word FADD_D_FA0_FA1_FA2_RM5
  TEST_TRAP_ILLEGAL 24, FADD_D_FA0_FA1_FA2_RM6, .word FADD_D_FA0_FA1_FA2_RM6
  li gp, 25
  frflags a0
  CHECK a0, 0

  # mstatus.FS: Dirty after an FP write; Off disables the FP unit.
  li gp, 30
  csrr a0, mstatus
  srli a0, a0, 13
  andi a0, a0, 3
  CHECK a0, 3
  li gp, 31
  csrr a0, mstatus
  srli a0, a0, 63
  CHECK a0, 1
  li a1, MSTATUS_FS
  csrc mstatus, a1
  TEST_TRAP_ILLEGAL 32, FADD_D_FA0_FA1_FA2_DYN, .word FADD_D_FA0_FA1_FA2_DYN
  TEST_TRAP_ILLEGAL 33, FRCSR_A0, .word FRCSR_A0
  li a1, MSTATUS_FS
  csrs mstatus, a1
  li gp, 34
  fadd.d fa0, fa1, fa1
  fmv.x.d a0, fa0
  CHECK a0, 0x4000000000000000
TEST_END
