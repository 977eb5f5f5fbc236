/**
 * The shape every command group of the CLI shares (`romvisor vhd|appliance|repo|backup|scenario
 * SUB …`), kept in one place: `help`, `--help` and `-h` print the group's usage (exit 0); no
 * subcommand prints it and exits 2; an unknown one is named beside the ones there are; bad
 * input from any subcommand (a CodedError, or what the group's `isBadInput` also counts) is one
 * message on stderr, `romvisor GROUP SUB: message`, and exit 2. Anything else is a bug and
 * propagates to the caller.
 */
import { CodedError } from '../errors/CodedError.ts';
import { EXIT, type CliIo } from './CliIo.ts';

/** Bad command-line input (as opposed to a bad image or file, which have their own error types). */
export class UsageError extends CodedError<'usage'> {
  override readonly name = 'UsageError';
  constructor(message: string) {
    super('usage', message);
  }
}

/** One subcommand: its arguments after its name, its exit code. */
export type Subcommand = (args: string[]) => Promise<number> | number;

export interface SubcommandOptions {
  /** Errors that are the user's input besides CodedError (a wrong path's ENOENT, say). */
  isBadInput?: (e: unknown) => e is Error;
  /** Print a message's first line only (vhd: an image error carries the parser's detail after it). */
  firstLineOnly?: boolean;
}

const HELP = new Set(['help', '--help', '-h']);

export async function runSubcommand(
  group: string,
  argv: readonly string[],
  io: CliIo,
  usage: string,
  subcommands: Readonly<Record<string, Subcommand>>,
  options: SubcommandOptions = {},
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || HELP.has(sub)) {
    io.stdout(`${usage}\n`);
    return sub === undefined ? EXIT.badInput : EXIT.ok;
  }
  try {
    // Own properties only: `romvisor vhd constructor` is an unknown command, not Object's.
    const run = Object.hasOwn(subcommands, sub) ? subcommands[sub] : undefined;
    if (!run) throw new UsageError(`unknown ${group} command ${JSON.stringify(sub)}; try: ${Object.keys(subcommands).join(', ')}`);
    return await run(rest);
  } catch (e) {
    if (!(e instanceof CodedError) && !options.isBadInput?.(e)) throw e;
    const message = (e as Error).message;
    io.stderr(`romvisor ${group} ${sub}: ${options.firstLineOnly ? message.split('\n')[0] : message}\n`);
    return EXIT.badInput;
  }
}
