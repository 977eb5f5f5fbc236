/**
 * Node: machine state files on the file system, and the disk chains they reference. A
 * state names each disk's chain by path and sha256 as it was at the save; a restore checks
 * every file before anything runs, so a state never meets a disk that moved on without it.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import type { VmState } from '../machine/index.ts';
import { decodeMachineState, encodeMachineState, type MachineStateFile, type StateDiskFile } from './MachineStateFile.ts';
import { StateError } from './StateError.ts';
import type { DeflateCodec } from './StateContainer.ts';

/** node's zlib: the same raw DEFLATE as fflate's, several times faster from a cold start. */
export const NODE_CODEC: DeflateCodec = {
  deflate: (bytes) => deflateRawSync(bytes, { level: 1 }),
  inflate: (bytes, raw) => {
    // Bounded: a stream that inflates past `raw` throws (RangeError) instead of growing.
    const out = inflateRawSync(bytes, { maxOutputLength: Math.max(raw, 1), finishFlush: constants.Z_SYNC_FLUSH });
    if (out.length !== raw) throw new Error(`inflates to ${out.length} bytes, not ${raw}`);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  },
};

/** The largest state file read: RAM (at most 3.75 GiB) plus its devices, compressed. */
const MAX_STATE_FILE = 4 * 2 ** 30;

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** Each file of a chain (top first) with its sha256 and size now. */
export async function describeChain(paths: string[]): Promise<StateDiskFile[]> {
  const out: StateDiskFile[] = [];
  for (const path of paths) out.push({ path, sha256: await sha256File(path), bytes: (await stat(path)).size });
  return out;
}

/**
 * Writes a captured state with its disks' chains (each top first, closed and flushed: their
 * sha256 goes in the state) to `path`, through a temporary name so a crash leaves no half
 * file. `selfContained`: every file of a chain but its base goes into the state, so the
 * state restores wherever that base (named by sha256) can be found. Returns the file's size.
 */
export async function writeStateFile(path: string, state: VmState, chains: string[][], selfContained = false): Promise<number> {
  const disks = [];
  const files = new Map<string, Uint8Array>();
  for (const chain of chains) {
    const described = await describeChain(chain);
    if (selfContained) {
      for (const f of described.slice(0, -1)) {
        f.embedded = true;
        files.set(f.sha256, new Uint8Array(await readFile(f.path)));
      }
    }
    disks.push({ chain: described });
  }
  const bytes = await encodeMachineState(state, { disks, files }, NODE_CODEC);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return bytes.length;
}

/** Reads and checks a state file (StateError when it is not a good one). */
export async function readStateFile(path: string): Promise<MachineStateFile> {
  const size = (await stat(path)).size;
  if (size > MAX_STATE_FILE) throw new StateError('state-malformed', `${path}: ${size} bytes, more than a machine state can be (${MAX_STATE_FILE})`);
  return decodeMachineState(new Uint8Array(await readFile(path)), NODE_CODEC);
}

/** Checks that every file of a disk chain is as the state says (StateError('state-disk-mismatch') otherwise). */
export async function verifyChain(chain: StateDiskFile[]): Promise<void> {
  for (const f of chain) {
    let size: number;
    try {
      size = (await stat(f.path)).size;
    } catch (e) {
      throw new StateError('state-disk-mismatch', `disk ${f.path} of the state is gone (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
    }
    if (size !== f.bytes) throw new StateError('state-disk-mismatch', `disk ${f.path} has ${size} bytes, at the save it had ${f.bytes}: it was written since`);
    const sum = await sha256File(f.path);
    if (sum !== f.sha256) throw new StateError('state-disk-mismatch', `disk ${f.path}: sha256 ${sum}, at the save ${f.sha256}: it was written since`);
  }
}
