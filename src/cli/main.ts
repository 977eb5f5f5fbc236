/**
 * The `romvisor` command. One exit-code table for every subcommand:
 *   0 success (pass, or a guest that powered off)   1 the guest or a script step failed
 *   2 bad input                                      3 budget or timeout (hung guest)
 *   4 emulator fault
 */
import { runElfCommand } from './runElfCommand.ts';

export const EXIT = { ok: 0, failed: 1, badInput: 2, timeout: 3, fault: 4 } as const;

const USAGE = `usage: romvisor <command> [options]

commands:
  run-elf FILE.elf [--max-insns N] [--trace]   run a bare-metal RISC-V program in M-mode
  boot [...]                                   boot firmware + Linux (see romvisor boot --help)
  vhd info|check|create|convert|export|cat     VHD disk images
  scenario encode|decode                       scenario files and URLs

exit codes: 0 success, 1 guest/script failure, 2 bad input, 3 budget/timeout, 4 emulator fault`;

export interface CliIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  /** Raw bytes to stdout, for binary output such as `vhd cat` of a kernel. */
  stdoutBytes?: (b: Uint8Array) => void;
}

const processIo: CliIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  stdoutBytes: (b) => process.stdout.write(b),
};

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run-elf':
      return runElfCommand(rest, io);
    case 'boot': {
      const { bootCommand } = await import('./bootCommand.ts');
      return bootCommand(rest, io);
    }
    case 'vhd': {
      const { vhdCommand } = await import('./vhdCommand.ts');
      return vhdCommand(rest, io);
    }
    case 'scenario': {
      const { scenarioCommand } = await import('./scenarioCommand.ts');
      return scenarioCommand(rest, io);
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      io.stdout(USAGE + '\n');
      return command === undefined ? EXIT.badInput : EXIT.ok;
    default:
      io.stderr(`romvisor: unknown command "${command}"\n${USAGE}\n`);
      return EXIT.badInput;
  }
}
