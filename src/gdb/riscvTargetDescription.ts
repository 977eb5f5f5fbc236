/**
 * The target description gdb reads through qXfer:features:read:target.xml (gdb manual,
 * "Target Descriptions" and "RISC-V Features"): riscv:rv64 with the integer registers and
 * pc (org.gnu.gdb.riscv.cpu), the FP registers with fflags/frm/fcsr (.fpu), the CSRs the
 * hart has (.csr) and the privilege mode (.virtual). Register numbers are gdb's own for
 * RISC-V, so `p`/`P` packets name them the same way: x0..x31 = 0..31, pc = 32,
 * f0..f31 = 33..64, CSR n = 65 + n, priv = 4161.
 */
import { fRegName, xRegName } from '../inspect/index.ts';

export const PC_REGNUM = 32;
export const FIRST_FP_REGNUM = 33;
export const FIRST_CSR_REGNUM = 65;
export const PRIV_REGNUM = 65 + 4096;

// The ABI names (src/inspect), except x8: gdb's riscv cpu feature calls it fp.
const xName = (i: number) => (i === 8 ? 'fp' : xRegName(i));
/** fflags, frm, fcsr: CSRs that gdb expects in the FP feature. */
export const FP_CSRS: readonly [string, number][] = [['fflags', 1], ['frm', 2], ['fcsr', 3]];

/**
 * The CSRs offered in the csr feature, when the hart has them (the stub asks the core).
 * Machine and supervisor trap state, translation, counters, the trigger module.
 */
export const DEBUG_CSRS: readonly [string, number][] = [
  ['sstatus', 0x100], ['sie', 0x104], ['stvec', 0x105], ['scounteren', 0x106], ['senvcfg', 0x10a],
  ['sscratch', 0x140], ['sepc', 0x141], ['scause', 0x142], ['stval', 0x143], ['sip', 0x144], ['stimecmp', 0x14d],
  ['satp', 0x180],
  ['mstatus', 0x300], ['misa', 0x301], ['medeleg', 0x302], ['mideleg', 0x303], ['mie', 0x304], ['mtvec', 0x305],
  ['mcounteren', 0x306], ['menvcfg', 0x30a], ['mscratch', 0x340], ['mepc', 0x341], ['mcause', 0x342], ['mtval', 0x343],
  ['mip', 0x344], ['pmpcfg0', 0x3a0], ['pmpaddr0', 0x3b0],
  ['tselect', 0x7a0], ['tdata1', 0x7a1], ['tdata2', 0x7a2], ['tinfo', 0x7a4], ['tcontrol', 0x7a5],
  ['mcycle', 0xb00], ['minstret', 0xb02], ['cycle', 0xc00], ['time', 0xc01], ['instret', 0xc02],
  ['mvendorid', 0xf11], ['marchid', 0xf12], ['mimpid', 0xf13], ['mhartid', 0xf14],
];

const reg = (name: string, regnum: number, type: string, bitsize = 64, group?: string) =>
  `<reg name="${name}" bitsize="${bitsize}" regnum="${regnum}" type="${type}"${group ? ` group="${group}"` : ''}/>`;

/** target.xml for a hart with the CSRs `csrs` (a subset of DEBUG_CSRS). */
export function riscvTargetXml(csrs: readonly [string, number][]): string {
  const cpu = Array.from({ length: 32 }, (_, i) => reg(xName(i), i, i === 1 ? 'code_ptr' : i === 2 || i === 8 ? 'data_ptr' : 'int'));
  cpu.push(reg('pc', PC_REGNUM, 'code_ptr'));
  const fpu = Array.from({ length: 32 }, (_, i) => reg(fRegName(i), FIRST_FP_REGNUM + i, 'riscv_double', 64, 'float'));
  fpu.push(...FP_CSRS.map(([n, csr]) => reg(n, FIRST_CSR_REGNUM + csr, 'int', 32, 'float')));
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
    '<target version="1.0">',
    '<architecture>riscv:rv64</architecture>',
    '<feature name="org.gnu.gdb.riscv.cpu">',
    ...cpu,
    '</feature>',
    '<feature name="org.gnu.gdb.riscv.fpu">',
    '<union id="riscv_double"><field name="float" type="ieee_single"/><field name="double" type="ieee_double"/></union>',
    ...fpu,
    '</feature>',
    '<feature name="org.gnu.gdb.riscv.csr">',
    ...csrs.map(([n, csr]) => reg(n, FIRST_CSR_REGNUM + csr, 'int', 64, 'csr')),
    '</feature>',
    '<feature name="org.gnu.gdb.riscv.virtual">',
    reg('priv', PRIV_REGNUM, 'int'),
    '</feature>',
    '</target>',
  ].join('\n');
}
