/**
 * `romvisor repo build|verify`: appliance repositories (src/repo/). Exit 0 when the index
 * was written or every file matches it; 2 for bad input or any mismatch, each printed with
 * the file and chunk it concerns.
 */
import { parseArgs } from 'node:util';
import { formatBytes } from '../format/formatBytes.ts';
import { buildRepository, fetchRemoteAppliance, verifyRepository } from '../repo/node.ts';
import { EXIT, type CliIo } from './CliIo.ts';
import { runSubcommand, UsageError } from './subcommands.ts';
import { parseSize } from './parseSize.ts';

const USAGE = `usage: romvisor repo build DIR [--name NAME] [--chunk-size 128K]
       romvisor repo verify URL|DIR
       romvisor repo fetch URL NAME[@VERSION]
build writes DIR/repository.json for the VHDs in DIR: each is named by the
appliance.json on its boot partition (its version, or 1), with its size, its sha256
and a sha256 per chunk (64K to 256K, default 128K), its URL relative to the index.
Serve DIR from any web server; \`romvisor boot --repo URL NAME[@VERSION]\` boots from it,
reading only what the guest reads. verify reads every file the index names and
checks its size, each chunk and the whole file against it. fetch makes an appliance
available offline: every chunk the local store ($XDG_DATA_HOME/romvisor/chunks) lacks
is fetched and verified, so \`boot --repo\` needs no network for it.`;


export async function repoCommand(argv: string[], io: CliIo): Promise<number> {
  return runSubcommand('repo', argv, io, USAGE, {
    build: async (rest) => {
      const { values, positionals } = parse(rest, { name: { type: 'string' }, 'chunk-size': { type: 'string' } });
      if (positionals.length !== 1) throw new UsageError(`repo build takes one folder, got ${positionals.length}`);
      let chunkSize: number | undefined;
      if (values['chunk-size'] !== undefined) {
        chunkSize = parseSize(values['chunk-size'] as string);
        if (chunkSize === undefined) throw new UsageError(`--chunk-size "${values['chunk-size']}" is not a size like 128K`);
      }
      const { path, index } = await buildRepository(positionals[0]!, { name: values.name as string | undefined, chunkSize });
      const lines = index.appliances.flatMap((a) => a.versions.map((v) => `  ${a.name}@${v.version}  ${v.url}  ${formatBytes(v.size)}, ${v.chunks.length} chunks of ${formatBytes(v.chunkSize)}`));
      io.stdout(`${path}: repository "${index.name}", ${index.appliances.length} appliance(s)\n${lines.join('\n')}\n`);
      return EXIT.ok;
    },
    verify: async (rest) => {
      const { positionals } = parse(rest, {});
      if (positionals.length !== 1) throw new UsageError(`repo verify takes one URL or folder, got ${positionals.length}`);
      const report = await verifyRepository(positionals[0]!, (line) => io.stdout(`${line}\n`));
      for (const p of report.problems) io.stderr(`romvisor repo verify: ${p.message}\n`);
      if (report.problems.length > 0) {
        io.stderr(`romvisor repo verify: ${report.indexUrl.href}: ${report.problems.length} problem(s) in ${report.files} file(s)\n`);
        return EXIT.badInput;
      }
      io.stdout(`${report.indexUrl.href}: ${report.files} file(s), ${report.chunks} chunks, ${formatBytes(report.bytes)}: all match the index\n`);
      return EXIT.ok;
    },
    fetch: async (rest) => {
      const { positionals } = parse(rest, {});
      if (positionals.length !== 2) throw new UsageError(`repo fetch takes a repository URL and NAME[@VERSION], got ${positionals.length} argument(s)`);
      const r = await fetchRemoteAppliance({ repo: positionals[0]!, spec: positionals[1]! });
      io.stdout(`${r.appliance.name}@${r.version.version}: available offline; fetched ${r.stats.fetchedBytes} bytes in ${r.stats.requests} request(s), ${r.stats.storeChunks} of ${r.chunks} chunks were kept already\n`);
      return EXIT.ok;
    },
  });
}

function parse(args: string[], options: Record<string, { type: 'string' }>) {
  try {
    return parseArgs({ args, options, allowPositionals: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
