/**
 * The crash test's two halves that do not depend on where the guest ran: the guest's
 * write-and-sync loop (each file confirmed on the console only after `sync` returned),
 * and the check of a disk after the crash and one clean boot: `e2fsck -fn` on the root
 * partition, and every confirmed file read back with debugfs, byte for byte.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, readSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROMVISOR } from '../boot/runCli.ts';

/** Where the loop writes, on the appliance's root file system. */
export const CRASH_DIR = '/root/crash';

/** The root partition of the project's appliances (appliances/build/build-appliance.sh). */
const ROOT_PARTITION = { start: 8 * 1024 * 1024, size: 64 * 1024 * 1024 };

/**
 * One shell line: each round makes, renames and deletes a few small files (metadata for
 * the sync to order), writes file i (1 to ~22 KiB, so data spans blocks), syncs, and only
 * then prints `CONFIRMED i`. The marker is built from two halves so the echoed command
 * line never matches it.
 */
export const GUEST_LOOP =
  `mkdir -p ${CRASH_DIR}; cd ${CRASH_DIR}; i=0; while [ $i -lt 100000 ]; do ` +
  `for j in 1 2 3 4 5 6; do echo $i.$j > t$j; done; rm t2 t4; mv t5 m$(( i % 50 )); ` +
  `seq 1 $(( i % 37 * 60 + 10 )) | sed "s/^/f$i:/" > f$i; sync; ` +
  `echo "CONF""IRMED $i"; i=$((i+1)); done; cd\n`;

/** What file i holds, as the loop writes it. */
export function expectedContent(i: number): string {
  const lines = (i % 37) * 60 + 10;
  let s = '';
  for (let n = 1; n <= lines; n++) s += `f${i}:${n}\n`;
  return s;
}

/** The numbers of the files the guest confirmed, from its console output. */
export function confirmedFiles(consoleText: string): number[] {
  return [...consoleText.matchAll(/CONFIRMED (\d+)\r?\n/g)].map((m) => Number(m[1]));
}

export interface CrashVerdict {
  confirmed: number;
  intact: number;
  /** e2fsck -fn's exit code (0: clean) and what it said when not clean. */
  fsck: number;
  fsckOutput: string;
  /** Confirmed files missing or with other bytes. */
  bad: string[];
}

/**
 * Checks a VHD (a chain's top, any type) whose guest crashed and then booted once and
 * powered off cleanly: the root passes e2fsck and holds every confirmed file intact.
 */
export function checkCrashedDisk(vhdPath: string, confirmed: number[]): CrashVerdict {
  const work = mkdtempSync(join(tmpdir(), 'romvisor-crash-check-'));
  try {
    const flat = join(work, 'flat.vhd');
    execFileSync(process.execPath, [ROMVISOR, 'vhd', 'export', vhdPath, flat, '--type', 'fixed'], { stdio: 'pipe' });
    // A fixed VHD is the raw disk and a footer: the partition is a plain byte range.
    const root = join(work, 'root.ext4');
    const fd = openSync(flat, 'r');
    const bytes = Buffer.alloc(ROOT_PARTITION.size);
    readSync(fd, bytes, 0, ROOT_PARTITION.size, ROOT_PARTITION.start);
    closeSync(fd);
    writeFileSync(root, bytes);
    const fsck = spawnSync('e2fsck', ['-fn', root], { encoding: 'utf8' });
    const dump = join(work, 'dump');
    execFileSync('mkdir', [dump]);
    const rd = spawnSync('debugfs', ['-R', `rdump ${CRASH_DIR} ${dump}`, root], { encoding: 'utf8' });
    const bad: string[] = [];
    for (const i of confirmed) {
      let got: string;
      try {
        got = readFileSync(join(dump, 'crash', `f${i}`), 'latin1');
      } catch {
        bad.push(`f${i}: missing${rd.status !== 0 ? ` (debugfs: ${rd.stderr.trim()})` : ''}`);
        continue;
      }
      const want = expectedContent(i);
      if (got !== want) bad.push(`f${i}: ${got.length} bytes, expected ${want.length}; starts ${JSON.stringify(got.slice(0, 24))}`);
    }
    return { confirmed: confirmed.length, intact: confirmed.length - bad.length, fsck: fsck.status ?? -1, fsckOutput: fsck.status === 0 ? '' : `${fsck.stdout}${fsck.stderr}`, bad };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** One line for a test's log or the fuzz report. */
export function describeVerdict(where: string, v: CrashVerdict): string {
  return `${where}: ${v.confirmed} files confirmed, ${v.intact} intact, e2fsck -fn exit ${v.fsck}`;
}
