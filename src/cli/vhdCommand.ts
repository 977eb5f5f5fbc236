// `romvisor vhd info|check|create|convert|export|cat`: the disk layer from the command line.
// Exit codes follow the CLI table: 0 ok, 2 bad input (a damaged image for `check`, a
// disk in use by another romvisor process, an output that is one of the inputs).
// Commands that write never touch their inputs and replace their output only once it is
// complete (see writeOutput).
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, relative, resolve } from 'node:path';
import {
  checkVhd,
  CREATOR_APPLICATION,
  hasFooterCookie,
  quoteField,
  readPartitionFile,
  vhdTimeToDate,
  VhdDisk,
  writeVhdImage,
  type BlockBackend,
} from '../disk/index.ts';
import { chainFiles, DiskLockSet, FileBackend, fileParentResolver, findSameFile } from '../disk/node.ts';
import { escapeControl } from '../format/escapeControl.ts';
import { formatBytes } from '../format/formatBytes.ts';
import { parseSize } from './parseSize.ts';
import { EXIT, type CliIo } from './CliIo.ts';
import { runSubcommand, UsageError } from './subcommands.ts';

const USAGE = `usage: romvisor vhd <command> ...
  info FILE                                   type, size, creator, uuid, parent, allocation
  check FILE                                  structural check of the image and its chain
                                              (exit 0 sound, maybe with warnings; 2 damaged)
  create FILE SIZE [--type dynamic|fixed]     new empty image (SIZE like 64M, 1G, 512K, bytes)
  create FILE [SIZE] --parent BASE.vhd        new differencing image over BASE
  convert IN OUT [--type dynamic|fixed]       raw or VHD to a standalone VHD
  export CHILD.vhd OUT.vhd [--type ...]       flatten a chain into one VHD
  cat FILE.vhd PATH [--partition N]           print a file from an ext2/3/4 partition (default 1)`;

/** A disk size: "64M", "1G", "512K", "1048576" → bytes (binary units); must be whole sectors. */
export function parseDiskSize(text: string): number {
  const bytes = parseSize(text);
  if (bytes === undefined) throw new UsageError(`size ${JSON.stringify(text)} is not a number with an optional K/M/G/T suffix`);
  if (bytes <= 0 || bytes % 512 !== 0) {
    throw new UsageError(`size ${JSON.stringify(text)} = ${bytes} bytes is not a positive multiple of 512`);
  }
  return bytes;
}

interface Parsed {
  positional: string[];
  options: Map<string, string>;
}

function parseArgs(argv: string[], known: string[]): Parsed {
  const positional: string[] = [];
  const options = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const [name, inline] = a.slice(2).split('=', 2) as [string, string | undefined];
      if (!known.includes(name)) throw new UsageError(`unknown option --${name} (expected ${known.map((k) => `--${k}`).join(', ') || 'none'})`);
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`option --${name} needs a value`);
      options.set(name, value);
    } else {
      positional.push(a);
    }
  }
  return { positional, options };
}

function expectArgs(p: Parsed, min: number, max: number, shape: string): void {
  if (p.positional.length < min || p.positional.length > max) {
    throw new UsageError(`expected ${shape}, got ${p.positional.length} argument(s)`);
  }
}

function typeOption(p: Parsed): 'dynamic' | 'fixed' {
  const t = p.options.get('type') ?? 'dynamic';
  if (t !== 'dynamic' && t !== 'fixed') throw new UsageError(`--type is ${JSON.stringify(t)}, expected "dynamic" or "fixed"`);
  return t;
}

/** "67108864 bytes (64 MiB)": the exact count a script compares, and the size a person reads. */
function bytesExact(n: number): string {
  return n < 1024 ? `${n} bytes` : `${n} bytes (${formatBytes(n)})`;
}

/** Opens a VHD file and its chain; on failure the file is closed again. */
async function openVhd(path: string, readOnly: boolean): Promise<VhdDisk> {
  const backend = await FileBackend.open(path, { readOnly });
  try {
    return await VhdDisk.open(backend, { parentResolver: fileParentResolver(), readOnly });
  } catch (e) {
    await backend.dispose();
    throw e;
  }
}

async function info(path: string, io: CliIo): Promise<number> {
  const disk = await openVhd(path, true);
  try {
    const f = disk.footer;
    const lines = [
      `file:          ${escapeControl(path)}`,
      `type:          ${disk.type}`,
      `virtual size:  ${bytesExact(disk.virtualSize)}`,
      `current size:  ${f.currentSize}; geometry ${f.geometry.cylinders}/${f.geometry.heads}/${f.geometry.sectorsPerTrack} (C/H/S)`,
      `creator:       ${quoteField(f.creatorApplication)} version ${f.creatorVersion >>> 16}.${f.creatorVersion & 0xffff}`,
      `created:       ${vhdTimeToDate(f.timeStamp).toISOString()}`,
      `uuid:          ${disk.uuid}`,
    ];
    if (disk.header) {
      lines.push(`block size:    ${bytesExact(disk.header.blockSize)}`);
      lines.push(`allocated:     ${disk.allocatedBlocks} of ${disk.blockCount} blocks (${bytesExact(disk.allocatedBytes)}); ${bytesExact(await disk.changedBytes())} in written sectors`);
    }
    const ref = disk.parentReference;
    if (ref && disk.parent) {
      lines.push(`parent:        ${ref.uniqueId} ${quoteField(ref.unicodeName)}`);
      for (const l of ref.locators) lines.push(`  locator:     ${escapeControl(l.platform)} ${escapeControl(l.path)}`);
      for (let p: VhdDisk | undefined = disk.parent, depth = 1; p; p = p.parent, depth++) {
        const where = p.backend instanceof FileBackend ? p.backend.path : '';
        lines.push(`  chain ${depth}:     ${p.type} ${p.uuid} ${escapeControl(where)}`);
      }
    }
    const warnings = chainWarnings(disk);
    for (const w of warnings) lines.push(`warning:       ${escapeControl(w)}`);
    io.stdout(lines.join('\n') + '\n');
    return EXIT.ok;
  } finally {
    await disk.dispose();
  }
}

function chainWarnings(disk: VhdDisk): string[] {
  const out: string[] = [];
  for (let d: VhdDisk | undefined = disk; d; d = d.parent) for (const w of d.warnings) out.push(d === disk ? w : `parent ${d.uuid}: ${w}`);
  return out;
}

/**
 * Exit 0 for a sound image (warnings, such as a parent time stamp that moved or sector
 * bitmap bits past the end of the disk as qemu writes them, are printed but change no
 * data); exit 2 for a damaged one: it does not open, or open had to work around damage.
 */
async function check(path: string, io: CliIo): Promise<number> {
  const report = await checkVhd(await FileBackend.open(path, { readOnly: true }), { parentResolver: fileParentResolver() });
  const shown = escapeControl(path);
  const warnings = report.warnings.map((w) => `${shown}: warning: ${escapeControl(w)}\n`).join('');
  if (report.problems.length === 0) {
    const chain = report.chain.map((c) => `${c.type} ${c.uuid}`).join(' -> ');
    io.stdout(`${shown}: no problems found (${chain})\n${warnings}`);
    return EXIT.ok;
  }
  io.stdout(report.problems.map((p) => `${shown}: ${escapeControl(p)}\n`).join('') + warnings);
  const n = report.problems.length;
  io.stderr(`romvisor vhd check: ${shown} is damaged (${n} problem${n === 1 ? '' : 's'})\n`);
  return EXIT.badInput;
}

/** A file a command reads, and how to name it in a message. */
interface Input {
  path: string;
  what: string;
}

/**
 * Writes a command's output without ever destroying an input or a half-written result:
 * refuses an output that is the same file as one of `inputs` (device and inode, so a
 * symlink or hard link to an input counts), locks it for writing, fills a temporary file
 * beside it (through symlinks: beside the file they name) and renames that into place
 * only when `write` succeeds. On failure the old file is untouched and the temporary one
 * removed. `write` may wrap the backend in a VhdDisk and dispose it.
 */
async function writeOutput<T>(output: string, inputs: readonly Input[], locks: DiskLockSet, write: (backend: FileBackend, target: string) => Promise<T>): Promise<T> {
  const same = findSameFile(output, inputs);
  if (same) throw new UsageError(`${output} is the same file as ${same.what}; refusing to overwrite an input`);
  const lock = await locks.add(output, 'write');
  const target = lock.target;
  const temp = lock.temporaryPath();
  const backend = await FileBackend.create(temp);
  try {
    const result = await write(backend, target);
    await backend.dispose();
    await rename(temp, target);
    await syncDirectory(dirname(target));
    return result;
  } catch (e) {
    await backend.dispose();
    await rm(temp, { force: true });
    throw e;
  }
}

/** Makes a rename durable; best effort (some file systems refuse fsync on a directory). */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // The rename itself has happened; only its durability across a power cut is unsure.
  }
}

/** Takes shared locks on every file of a chain (or a raw input): read while others may read. */
async function lockInputs(inputs: readonly Input[], locks: DiskLockSet): Promise<void> {
  for (const i of inputs) await locks.add(i.path, 'read');
}

async function create(p: Parsed, io: CliIo): Promise<number> {
  const parentPath = p.options.get('parent');
  expectArgs(p, parentPath ? 1 : 2, 2, parentPath ? 'FILE [SIZE] --parent BASE.vhd' : 'FILE SIZE');
  const [file, sizeText] = p.positional as [string, string | undefined];
  const locks = new DiskLockSet();
  try {
    if (parentPath) {
      if (p.options.has('type')) throw new UsageError('--type does not apply with --parent (the new image is differencing)');
      const parent = await openVhd(parentPath, true);
      // The new child owns `parent` once created; until then it is disposed here.
      let owned = false;
      try {
        if (sizeText !== undefined && parseDiskSize(sizeText) !== parent.virtualSize) {
          throw new UsageError(`size ${sizeText} differs from the parent's ${parent.virtualSize} bytes; a differencing disk has its parent's size`);
        }
        const inputs = chainFiles(parent);
        await lockInputs(inputs, locks);
        const uuid = await writeOutput(file, inputs, locks, async (backend, target) => {
          const rel = relative(dirname(target), resolve(parentPath));
          const child = await VhdDisk.createDifferencing(backend, parent, {
            parentRelativePath: rel.startsWith('.') ? rel : `./${rel}`,
            parentAbsolutePath: resolve(parentPath),
            parentName: basename(parentPath),
          });
          owned = true;
          await child.flush();
          const id = child.uuid;
          await child.dispose();
          return id;
        });
        io.stdout(`${escapeControl(file)}: differencing, ${bytesExact(parent.virtualSize)}, uuid ${uuid}, parent ${parent.uuid}\n`);
      } finally {
        if (!owned) await parent.dispose();
      }
      return EXIT.ok;
    }
    const size = parseDiskSize(sizeText!);
    const type = typeOption(p);
    const uuid = await writeOutput(file, [], locks, async (backend) => {
      const disk = type === 'fixed' ? await VhdDisk.createFixed(backend, size) : await VhdDisk.createDynamic(backend, size);
      const id = disk.uuid;
      await disk.dispose();
      return id;
    });
    io.stdout(`${escapeControl(file)}: ${type}, ${bytesExact(size)}, uuid ${uuid}, creator ${JSON.stringify(CREATOR_APPLICATION)}\n`);
    return EXIT.ok;
  } finally {
    locks.release();
  }
}

/** A raw file is any file without a VHD cookie at its start or end. */
async function looksLikeVhd(b: BlockBackend): Promise<boolean> {
  if (b.size < 512) return false;
  return hasFooterCookie(await b.read(b.size - 512, 512)) || hasFooterCookie(await b.read(0, 512));
}

async function convert(p: Parsed, io: CliIo): Promise<number> {
  expectArgs(p, 2, 2, 'IN OUT');
  const [input, output] = p.positional as [string, string];
  const type = typeOption(p);
  const locks = new DiskLockSet();
  try {
    const inBackend = await FileBackend.open(input, { readOnly: true });
    if (await looksLikeVhd(inBackend)) {
      await inBackend.dispose();
      const disk = await openVhd(input, true);
      try {
        const inputs = chainFiles(disk);
        await lockInputs(inputs, locks);
        await writeOutput(output, inputs, locks, (out) => writeVhdImage(disk, out, type));
        io.stdout(`${escapeControl(output)}: ${type}, ${bytesExact(disk.virtualSize)} from VHD ${escapeControl(input)}\n`);
      } finally {
        await disk.dispose();
      }
      return EXIT.ok;
    }
    try {
      if (inBackend.size % 512 !== 0 || inBackend.size === 0) {
        throw new UsageError(`${input}: raw image of ${inBackend.size} bytes is not a positive multiple of 512`);
      }
      const inputs = [{ path: input, what: input }];
      await lockInputs(inputs, locks);
      await writeOutput(output, inputs, locks, (out) => writeVhdImage(inBackend, out, type));
      io.stdout(`${escapeControl(output)}: ${type}, ${bytesExact(inBackend.size)} from raw ${escapeControl(input)}\n`);
    } finally {
      await inBackend.dispose();
    }
    return EXIT.ok;
  } finally {
    locks.release();
  }
}

async function exportChain(p: Parsed, io: CliIo): Promise<number> {
  expectArgs(p, 2, 2, 'CHILD.vhd OUT.vhd');
  const [input, output] = p.positional as [string, string];
  const type = typeOption(p);
  const locks = new DiskLockSet();
  const disk = await openVhd(input, true);
  try {
    const inputs = chainFiles(disk);
    await lockInputs(inputs, locks);
    await writeOutput(output, inputs, locks, (out) => writeVhdImage(disk, out, type));
    let depth = 0;
    for (let d = disk.parent; d; d = d.parent) depth++;
    io.stdout(`${escapeControl(output)}: ${type}, ${bytesExact(disk.virtualSize)}, flattened from ${depth + 1} disk(s)\n`);
  } finally {
    await disk.dispose();
    locks.release();
  }
  return EXIT.ok;
}

async function cat(p: Parsed, io: CliIo): Promise<number> {
  expectArgs(p, 2, 2, 'FILE.vhd PATH');
  const [file, path] = p.positional as [string, string];
  const partText = p.options.get('partition') ?? '1';
  const partition = Number(partText);
  if (!Number.isInteger(partition) || partition < 1 || partition > 4) throw new UsageError(`--partition is ${JSON.stringify(partText)}, expected 1..4`);
  const disk = await openVhd(file, true);
  try {
    const data = await readPartitionFile(disk, path, { partition });
    if (io.stdoutBytes) io.stdoutBytes(data);
    else io.stdout(new TextDecoder().decode(data));
  } finally {
    await disk.dispose();
  }
  return EXIT.ok;
}

/** Besides CodedError (which every command group counts), file-system errors (ENOENT, EACCES, EISDIR) are bad input: a wrong path. */
function isFileSystemError(e: unknown): e is Error {
  return e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && (e as NodeJS.ErrnoException).syscall !== undefined;
}

export async function vhdCommand(argv: string[], io: CliIo): Promise<number> {
  return runSubcommand('vhd', argv, io, USAGE, {
    info: async (rest) => {
      const p = parseArgs(rest, []);
      expectArgs(p, 1, 1, 'FILE');
      return await info(p.positional[0]!, io);
    },
    check: async (rest) => {
      const p = parseArgs(rest, []);
      expectArgs(p, 1, 1, 'FILE');
      return await check(p.positional[0]!, io);
    },
    create: (rest) => create(parseArgs(rest, ['type', 'parent']), io),
    convert: (rest) => convert(parseArgs(rest, ['type']), io),
    export: (rest) => exportChain(parseArgs(rest, ['type']), io),
    cat: (rest) => cat(parseArgs(rest, ['partition']), io),
  }, { isBadInput: isFileSystemError, firstLineOnly: true });
}
