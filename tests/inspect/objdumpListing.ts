// Runs GNU objdump and parses its listing into one record per instruction, normalised the
// way disassemble() prints: no `# comment`, branch and jump targets as absolute `0x...`
// addresses without `<symbol+off>`.
import { execFileSync } from 'node:child_process';

export interface ListedInsn {
  address: bigint;
  /** The instruction bits as objdump shows them (a 16- or 32-bit value). */
  bits: number;
  length: 2 | 4;
  mnemonic: string;
  operands: string[];
  /** The raw line, for failure messages. */
  line: string;
}

/** Mnemonics whose last operand is a pc-relative target. */
const TARGET_MNEMONICS = new Set([
  'jal', 'j', 'beq', 'bne', 'blt', 'bge', 'bltu', 'bgeu', 'beqz', 'bnez', 'bltz', 'bgez',
  'blez', 'bgtz', 'bgt', 'ble', 'bgtu', 'bleu', 'c.j', 'c.jal', 'c.beqz', 'c.bnez',
]);

const LINE = /^\s*([0-9a-f]+):\s+([0-9a-f]{4}|[0-9a-f]{8})\s+(\S+)(?:\s+(.*))?$/;

/** objdump's output lines for instructions, parsed. `args` choose the file and options. */
export function objdumpListing(args: string[]): ListedInsn[] {
  // -z: objdump otherwise collapses runs of zero bytes (c.unimp) into `...`.
  const out = execFileSync('riscv64-unknown-elf-objdump', ['-z', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const result: ListedInsn[] = [];
  for (const line of out.split('\n')) {
    const m = LINE.exec(line);
    if (m === null) continue;
    const [, addr, hex, mnemonic, rest = ''] = m;
    const text = rest.replace(/\s+#.*$/, '').trim();
    const operands = text === '' ? [] : text.split(',');
    if (TARGET_MNEMONICS.has(mnemonic) && operands.length > 0) {
      const last = operands[operands.length - 1].replace(/\s*<.*>$/, '').replace(/^0x/, '');
      operands[operands.length - 1] = `0x${BigInt(`0x${last}`).toString(16)}`;
    }
    result.push({
      address: BigInt(`0x${addr}`),
      bits: parseInt(hex, 16),
      length: hex.length === 4 ? 2 : 4,
      mnemonic,
      operands,
      line: line.trim(),
    });
  }
  return result;
}
