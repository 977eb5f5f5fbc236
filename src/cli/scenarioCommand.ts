/**
 * `romvisor scenario encode|decode`: scenario files to links and back, with the same
 * validation as the page. Exit codes follow the CLI table: 0 ok, 2 bad input (one line
 * on stderr saying what and where).
 */
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { decodeScenarioUrl, encodeScenarioUrl, parseScenarioJsonBytes, SCENARIO_LIMITS, ScenarioError, scenarioToJson } from '../scenario/index.ts';
import { EXIT, type CliIo } from './CliIo.ts';
import { runSubcommand, UsageError } from './subcommands.ts';

const USAGE = `usage: romvisor scenario encode FILE.json [--base URL]   print the scenario's link
       romvisor scenario decode URL                        print the link's scenario as JSON
URL may be a whole link, its fragment (#s=...), or the s=... part.
Exit codes: 0 ok, 2 bad input.`;

export async function scenarioCommand(argv: string[], io: CliIo): Promise<number> {
  return runSubcommand('scenario', argv, io, USAGE, {
    encode: async (rest) => {
      io.stdout(`${await encode(rest)}\n`);
      return EXIT.ok;
    },
    decode: (rest) => {
      io.stdout(decode(rest));
      return EXIT.ok;
    },
  });
}

function parse(argv: string[], options: { base?: { type: 'string' } }): { positionals: string[]; base?: string } {
  try {
    const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, options });
    return { positionals, base: (values as { base?: string }).base };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

async function encode(argv: string[]): Promise<string> {
  const { positionals, base } = parse(argv, { base: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError(`encode takes one FILE.json, got ${positionals.length} arguments`);
  const file = positionals[0]!;
  if (base !== undefined) {
    try {
      new URL(base);
    } catch {
      throw new UsageError(`--base ${JSON.stringify(base)} is not an absolute URL`);
    }
  }
  let bytes: Uint8Array;
  try {
    // Sized before reading, so a huge file is refused without being loaded.
    const size = (await stat(file)).size;
    if (size > SCENARIO_LIMITS.jsonBytes) {
      throw new ScenarioError('too-large', `${file} is ${size} bytes, the limit for a scenario is ${SCENARIO_LIMITS.jsonBytes}`);
    }
    bytes = new Uint8Array(await readFile(file));
  } catch (e) {
    if (e instanceof ScenarioError) throw e;
    throw new UsageError(`${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    return encodeScenarioUrl(parseScenarioJsonBytes(bytes, file), base);
  } catch (e) {
    // JSON and size messages already name the file; schema messages name only the field.
    if (e instanceof ScenarioError && (e.code === 'invalid' || e.code === 'unsupported-version')) {
      throw new ScenarioError(e.code, `${file}: ${e.message}`, e.problems);
    }
    throw e;
  }
}

function decode(argv: string[]): string {
  const { positionals } = parse(argv, {});
  if (positionals.length !== 1) throw new UsageError(`decode takes one URL, got ${positionals.length} arguments`);
  return scenarioToJson(decodeScenarioUrl(positionals[0]!));
}
