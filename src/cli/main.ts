/** The `romvisor` command. The exit-code table every subcommand uses is in CliIo.ts. */
import { escapeControl } from '../format/escapeControl.ts';
import { EXIT, type CliIo } from './CliIo.ts';
import { runElfCommand } from './runElfCommand.ts';

const USAGE = `usage: romvisor <command> [options]

commands:
  run-elf FILE.elf [--max-insns N] [--trace]   run a bare-metal RISC-V program in M-mode
  boot [...]                                   boot firmware + Linux (see romvisor boot --help)
  vhd info|check|create|convert|export|cat     VHD disk images
  appliance create|diff                        make a bootable appliance VHD from a kernel and a root; a patch between versions
  repo build|verify|fetch                      appliance repositories (repository.json + VHDs)
  scenario encode|decode                       scenario files and URLs
  backup create|restore|verify                 whole-server backup archives (the page's Backup/Restore)

exit codes: 0 success, 1 guest/script failure, 2 bad input, 3 budget/timeout, 4 emulator fault`;

const processIo: CliIo = {
  stdout: (s) => process.stdout.write(s),
  // Every stderr line is a message the CLI composed, often around a file's bytes, a path,
  // a scenario title or a guest's panic line: no control byte in it reaches the terminal.
  stderr: (s) => process.stderr.write(escapeControl(s, { keepNewlines: true })),
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
    case 'appliance': {
      const { applianceCommand } = await import('./applianceCommand.ts');
      return applianceCommand(rest, io);
    }
    case 'repo': {
      const { repoCommand } = await import('./repoCommand.ts');
      return repoCommand(rest, io);
    }
    case 'backup': {
      const { backupCommand } = await import('./backupCommand.ts');
      return backupCommand(rest, io);
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
