/**
 * `romvisor appliance create`: turns a kernel and a root file system into an appliance VHD
 * that `romvisor boot`, the page and a repository take (see src/repo/createAppliance.node.ts).
 */
import { parseArgs } from 'node:util';
import { formatBytes } from '../format/formatBytes.ts';
import { createAppliance, diffAppliance } from '../repo/node.ts';
import { EXIT, type CliIo } from './CliIo.ts';
import { runSubcommand, UsageError } from './subcommands.ts';
import { parseSize } from './parseSize.ts';

const USAGE = `usage: romvisor appliance create --kernel Image[.gz] [--initrd FILE] --root DIR|EXT4-IMAGE
                                 --name NAME --cmdline "ARGS" [--mem 128M] [--title TEXT]
                                 [--description TEXT] [--version V] [--try "COMMAND"]...
                                 [--data-disk 64M] [--root-size 256M] -o NAME.vhd
Makes a bootable appliance: an MBR disk (dynamic VHD) whose partition 1 (ext2) holds
appliance.json, the kernel and the initrd, and partition 2 the root file system: a new
ext4 made by mke2fs -d from DIR (sized to its contents unless --root-size), or the
ext2/3/4 image given, as it is. The command line should mount the root from
/dev/vda2 (e.g. "console=hvc0 root=/dev/vda2 rw rootwait"). --mem is the RAM the
appliance asks for; --data-disk the size of the data disk a VM of it gets; --version
defaults to 1. SOURCE_DATE_EPOCH makes the output reproducible (fixed times and ids).

usage: romvisor appliance diff OLD.vhd NEW.vhd -o PATCH.vhd [--block-size 64K]
Makes NEW a patch over OLD: a differencing VHD whose parent is OLD (named by its path
relative to PATCH, and absolute) holding only the sectors where NEW differs, so OLD +
PATCH reads as NEW. Put OLD and PATCH in one folder and \`romvisor repo build\` publishes
PATCH as NEW's version with OLD's version as its parent: an update that downloads little.`;

const OPTIONS = {
  kernel: { type: 'string' },
  initrd: { type: 'string' },
  root: { type: 'string' },
  name: { type: 'string' },
  cmdline: { type: 'string' },
  mem: { type: 'string' },
  title: { type: 'string' },
  description: { type: 'string' },
  version: { type: 'string' },
  try: { type: 'string', multiple: true },
  'data-disk': { type: 'string' },
  'root-size': { type: 'string' },
  output: { type: 'string', short: 'o' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A size option in whole MiB ("128M", "1G"). */
function mebibytes(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const bytes = parseSize(text);
  if (bytes === undefined || bytes <= 0 || bytes % 2 ** 20 !== 0) throw new UsageError(`--${flag} "${text}" is not a whole number of MiB like 128M or 1G`);
  return bytes / 2 ** 20;
}

export async function applianceCommand(argv: string[], io: CliIo): Promise<number> {
  return runSubcommand('appliance', argv, io, USAGE, { create: (rest) => createCommand(rest, io), diff: (rest) => diffCommand(rest, io) });
}

async function createCommand(rest: string[], io: CliIo): Promise<number> {
  let v;
  try {
    ({ values: v } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: false }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (v.help) {
    io.stdout(USAGE + '\n');
    return EXIT.ok;
  }
  for (const required of ['kernel', 'root', 'name', 'cmdline', 'output'] as const) {
    if (v[required] === undefined) throw new UsageError(`--${required === 'output' ? 'o' : required} is required`);
  }
  let rootBytes: number | undefined;
  if (v['root-size'] !== undefined) {
    rootBytes = parseSize(v['root-size']);
    if (rootBytes === undefined || rootBytes <= 0 || rootBytes % 4096 !== 0) throw new UsageError(`--root-size "${v['root-size']}" is not a size in whole 4 KiB blocks like 256M`);
  }
  const epochText = process.env.SOURCE_DATE_EPOCH;
  const epoch = epochText !== undefined && /^\d+$/.test(epochText) ? Number(epochText) : undefined;
  const made = await createAppliance({
    kernel: v.kernel!,
    initrd: v.initrd,
    root: v.root!,
    rootBytes,
    epoch,
    output: v.output!,
    manifest: {
      name: v.name!,
      cmdline: v.cmdline!,
      title: v.title,
      description: v.description,
      version: v.version,
      memoryMiB: mebibytes('mem', v.mem),
      dataDiskMiB: mebibytes('data-disk', v['data-disk']),
      tryFirst: v.try,
    },
  });
  const parts = made.partitions.map((p) => `  partition ${p.number}: ${formatBytes(p.size)} at ${formatBytes(p.start)}, ${p.what}`).join('\n');
  io.stdout(`${made.path}: appliance "${made.manifest.name}" version ${made.manifest.version}, disk ${formatBytes(made.virtualSize)} (dynamic VHD)\n${parts}\n`);
  return EXIT.ok;
}

async function diffCommand(argv: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { output: { type: 'string', short: 'o' }, 'block-size': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    io.stdout(USAGE + '\n');
    return EXIT.ok;
  }
  if (positionals.length !== 2) throw new UsageError(`appliance diff takes OLD.vhd and NEW.vhd, got ${positionals.length} file(s)`);
  if (v.output === undefined) throw new UsageError('-o PATCH.vhd is required');
  let blockSize: number | undefined;
  if (v['block-size'] !== undefined) {
    blockSize = parseSize(v['block-size']);
    if (blockSize === undefined) throw new UsageError(`--block-size "${v['block-size']}" is not a size like 64K`);
  }
  const r = await diffAppliance(positionals[0]!, positionals[1]!, v.output, blockSize);
  const share = ((r.size / r.newFileSize) * 100).toFixed(1);
  io.stdout(`${r.path}: patch over ${positionals[0]}, ${r.changedSectors} changed sector(s), ${formatBytes(r.size)} (${share} % of NEW's ${formatBytes(r.newFileSize)})\n`);
  return EXIT.ok;
}
