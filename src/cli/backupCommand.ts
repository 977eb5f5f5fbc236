/**
 * `romvisor backup create|restore|verify`: the whole-server backup archive (src/backup) on
 * the command line, the same file the page's Backup and Restore write and read. The CLI's
 * server is a directory (see ServerDirectory.node.ts): restore makes one, create reads one.
 */
import { access, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { romvisorDataDir, unpackVhdGz } from '../boot/applianceDisk.node.ts';
import { BackupArchive, writeBackupArchive } from '../backup/index.ts';
import { collectServerDirectory, restoreServerDirectory, type BuiltinImages } from '../backup/ServerDirectory.node.ts';
import { FileBackend } from '../disk/node.ts';
import { formatBytes } from '../format/formatBytes.ts';
import { BASE_APPLIANCE } from './bootCommand.ts';
import { EXIT, type CliIo } from './CliIo.ts';
import { runSubcommand, UsageError } from './subcommands.ts';

const USAGE = `usage: romvisor backup create DIR FILE.rvbackup
       romvisor backup restore FILE.rvbackup DIR
       romvisor backup verify FILE.rvbackup
A backup archive holds a whole server: every VM record, its disk (a built-in
appliance's base named by sha256, any other base carried whole), its suspended state
and its shared folder, with the sha256 of every part. The page's Backup writes one
and its Restore reads one; so do these commands, so a server moves between them.
The CLI's server is a directory: restore writes DIR (new, or empty) with server.json,
each VM's disk as DIR/vms/NAME/disk.vhd (a differencing VHD over its base, with
parent locators) and its shared folder as DIR/vms/NAME/share, and prints the
"romvisor boot ... --overlay DIR/vms/NAME/disk.vhd" that boots each VM. create writes
such a directory back into an archive, with what the VMs wrote since. verify reads
every part of an archive, checks each sha256, disk and state, and prints a summary.
A damaged, cut, altered or newer archive is refused (exit 2) and nothing is written.`;

const builtins: BuiltinImages = {
  async gz(name) {
    if (!/^[a-z0-9][a-z0-9_-]*$/i.test(name)) return undefined;
    const path = join(dirname(BASE_APPLIANCE), `${name}.vhd.gz`);
    return access(path).then(
      () => path,
      () => undefined,
    );
  },
  unpack: (gz) => unpackVhdGz(gz, join(romvisorDataDir(), 'cache')),
};

export async function backupCommand(argv: string[], io: CliIo): Promise<number> {
  return runSubcommand('backup', argv, io, USAGE, {
    verify: async (rest) => {
      const [file] = positionals(rest, 1, 'verify takes one archive');
      const { archive, backend } = await openArchive(file!);
      const bytes = await archive.verify().finally(() => backend.dispose());
      const m = archive.manifest;
      io.stdout(`${file}: romvisor backup, written ${m.createdAt} by ${m.createdBy}; ${m.entries.length} entries, ${formatBytes(bytes)}: every sha256 matches, every disk and state reads\n`);
      const suspended = new Set((m.server.stores.suspended ?? []).map((r) => r.value.vmId));
      const images = new Map(m.server.images.map((i) => [i.id, i]));
      const byUuid = new Map(m.server.images.map((i) => [i.vhdUuid, i]));
      for (const { value } of m.server.stores.vms ?? []) {
        let base = images.get(value.diskImageId as string);
        const disk = base?.entry ? archive.entry(base.entry).size : 0;
        while (base?.parentUuid) base = byUuid.get(base.parentUuid);
        const on = base?.base ? `${base.base.origin} ${base.base.name} (sha256 ${base.base.sha256.slice(0, 12)}…)` : base ? `carried base ${base.id}` : 'RAM (no disk)';
        const share = m.server.shares.find((s) => s.vmId === value.id)?.files.length ?? 0;
        // The data disk's chain (its current disk and those its snapshots froze), all carried.
        let dataBytes = 0;
        const dataTop = images.get(value.dataImageId as string);
        for (let d = dataTop; d?.entry; d = d.parentUuid ? byUuid.get(d.parentUuid) : undefined) dataBytes += archive.entry(d.entry).size;
        const data = dataTop ? `, data disk ${formatBytes(dataTop.virtualSize)} (${formatBytes(dataBytes)} in the archive)` : '';
        io.stdout(`  VM ${value.name}: ${value.memoryMiB} MiB, on ${on}${disk ? `, disk ${formatBytes(disk)}` : ''}${data}${suspended.has(value.id) ? ', suspended' : ''}${share ? `, ${share} shared-folder object(s)` : ''}\n`);
      }
      const other = Object.entries(m.server.stores).filter(([s]) => s !== 'vms' && s !== 'suspended');
      for (const [store, rs] of other) io.stdout(`  ${rs.length} record(s) of ${store}\n`);
      return EXIT.ok;
    },
    restore: async (rest) => {
      const [file, dir] = positionals(rest, 2, 'restore takes an archive and a new directory');
      const { archive, backend } = await openArchive(file!);
      const vms = await restoreServerDirectory(archive, dir!, builtins).finally(() => backend.dispose());
      io.stdout(`${dir}: ${vms.length} VM(s) restored from ${file}\n`);
      for (const vm of vms) io.stdout(`  ${vm.name}${vm.suspended ? ' (suspended in the page; the CLI boots it from its disk)' : ''}:\n    ${vm.boot}\n`);
      return EXIT.ok;
    },
    create: async (rest) => {
      const [dir, file] = positionals(rest, 2, 'create takes a server directory and the archive to write');
      const { server, sources } = await collectServerDirectory(dir!);
      const temp = `${file}.${process.pid}.tmp`;
      const out = await open(temp, 'w');
      let size = 0;
      try {
        for await (const piece of writeBackupArchive(server, sources, { createdBy: 'romvisor cli 0.1' })) {
          await out.write(piece);
          size += piece.length;
        }
        await out.sync();
        await out.close();
        await rename(temp, file!);
      } catch (e) {
        await out.close().catch(() => {});
        await rm(temp, { force: true });
        throw e;
      }
      io.stdout(`${file}: ${server.stores.vms?.length ?? 0} VM(s) of ${dir}, ${formatBytes(size)}\n`);
      return EXIT.ok;
    },
  });
}

/** The archive in `file`, header and manifest checked; the caller disposes `backend`. */
async function openArchive(file: string): Promise<{ archive: BackupArchive; backend: FileBackend }> {
  let backend: FileBackend;
  try {
    backend = await FileBackend.open(file, { readOnly: true });
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    return { archive: await BackupArchive.open(backend), backend };
  } catch (e) {
    await backend.dispose();
    throw e;
  }
}

function positionals(args: string[], n: number, what: string): string[] {
  let p: string[];
  try {
    p = parseArgs({ args, options: {}, allowPositionals: true }).positionals;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (p.length !== n) throw new UsageError(`${what}, got ${p.length} argument(s)\n${USAGE}`);
  return p;
}
