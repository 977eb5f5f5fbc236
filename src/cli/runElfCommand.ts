/** `romvisor run-elf FILE.elf [--max-insns N] [--smp N] [--trace] [--jit off|auto|eager]` */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { runBareMetal } from '../boot/bareMetal.ts';
import { SMP_MAX_HARTS } from '../machine/Core.ts';
import { CodedError } from '../errors/CodedError.ts';
import { EXIT, type CliIo } from './CliIo.ts';
import { defaultJitMode, parseJitMode, type JitMode } from '../jit/Jit.ts';

export async function runElfCommand(argv: string[], io: CliIo): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { 'max-insns': { type: 'string' }, smp: { type: 'string' }, trace: { type: 'boolean' }, jit: { type: 'string' } },
    });
  } catch (e) {
    io.stderr(`romvisor run-elf: ${(e as Error).message}\n`);
    return EXIT.badInput;
  }
  const [file, ...extra] = args.positionals;
  if (!file || extra.length) {
    io.stderr('usage: romvisor run-elf FILE.elf [--max-insns N] [--smp N] [--trace] [--jit off|auto|eager]\n');
    return EXIT.badInput;
  }
  let maxInstructions: bigint | undefined;
  const max = args.values['max-insns'];
  if (max !== undefined) {
    if (!/^\d+$/.test(max) || BigInt(max) === 0n) {
      io.stderr(`romvisor run-elf: --max-insns "${max}" is not a positive whole number\n`);
      return EXIT.badInput;
    }
    maxInstructions = BigInt(max);
  }
  let harts: number | undefined;
  const smp = args.values.smp;
  if (smp !== undefined) {
    harts = Number(smp);
    if (!/^\d+$/.test(smp) || harts < 1 || harts > SMP_MAX_HARTS) {
      io.stderr(`romvisor run-elf: --smp "${smp}" is not a number of harts from 1 to ${SMP_MAX_HARTS}\n`);
      return EXIT.badInput;
    }
  }
  let jit: JitMode;
  try {
    jit = args.values.jit === undefined ? defaultJitMode() : parseJitMode(args.values.jit, '--jit');
  } catch (e) {
    io.stderr(`romvisor run-elf: ${(e as Error).message}\n`);
    return EXIT.badInput;
  }
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    io.stderr(`romvisor run-elf: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return EXIT.badInput;
  }
  try {
    const trace = args.values.trace;
    const result = await runBareMetal(bytes, {
      maxInstructions,
      harts,
      onConsole: (b) => io.stdout(Buffer.from(b).toString('latin1')),
      chunk: trace ? 1 : undefined,
      jit,
      trace: trace
        ? (core) => io.stderr(`${core.instructions} pc=0x${core.pc.toString(16)} priv=${core.priv}\n`)
        : undefined,
    });
    if (result.exitCode !== 0) io.stderr(`romvisor run-elf: ${result.message}\n`);
    return result.exitCode;
  } catch (e) {
    if (e instanceof CodedError) {
      io.stderr(`romvisor run-elf: ${file}: ${e.message}\n`);
      return EXIT.badInput;
    }
    throw e;
  }
}
