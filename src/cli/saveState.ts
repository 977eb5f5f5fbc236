/**
 * `romvisor boot --save-state FILE` and `--restore FILE`: the parts of a boot that save a
 * machine and bring one back (src/state/ has the format). A saved machine's overlay is
 * frozen from the save on (its sha256 is in the state); a restore writes to a new child of
 * it, so the state and its disk always match and one state can be restored many times.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unpackVhdGz, romvisorDataDir } from '../boot/applianceDisk.node.ts';
import { CodedError } from '../errors/CodedError.ts';
import type { GuestLoader, VmState } from '../machine/index.ts';
import type { StateDiskFile } from '../state/MachineStateFile.ts';
import { StateError } from '../state/StateError.ts';
import { sha256File, writeStateFile } from '../state/stateFiles.node.ts';
import { EXIT, type CliIo } from './CliIo.ts';

/** A run that saves its machine: where, the disk chains to reference, the state once taken. */
export interface SaveRequest {
  path: string;
  /** Per disk, its chain's files, top (the overlay) first. */
  chains: string[][];
  state?: VmState;
  /** --self-contained: the overlay goes into the state, the base is named by sha256. */
  selfContained?: boolean;
}

/** A restored machine's RAM, harts and devices come from its state: nothing to load. */
export const NO_LOADER: GuestLoader = { load: () => {} };

/** The overlay a --save-state run writes when no --overlay is given: FILE.vhd, new. */
export async function freshOverlayFor(statePath: string): Promise<string> {
  const overlay = `${statePath}.vhd`;
  if (existsSync(overlay)) {
    throw new CodedError('usage', `--save-state ${statePath}: its overlay ${overlay} exists already (from an earlier save?); remove it or give --overlay`);
  }
  return overlay;
}

/** After the run (its disks flushed and closed): writes the state taken, or says why there is none. */
export async function finishSave(save: SaveRequest, code: number, io: CliIo): Promise<number> {
  if (!save.state) {
    if (code === EXIT.ok) io.stderr(`romvisor boot: the guest ended before it could be saved; ${save.path} not written\n`);
    return code === EXIT.ok ? EXIT.failed : code;
  }
  try {
    if (save.selfContained && save.chains.length > 1) {
      throw new StateError('state-unsupported', `--self-contained embeds one overlay over its base; this machine has a data disk too (/dev/vdb, ${save.chains[1]![0]}), which it would not carry: save without --self-contained`);
    }
    if (save.selfContained && save.chains.some((c) => c.length !== 2)) {
      throw new StateError('state-unsupported', `--self-contained embeds one overlay over its base; this disk's chain has ${save.chains[0]?.length} files (a restored machine saved again: restore it from a self-contained state, or save without --self-contained)`);
    }
    const bytes = await writeStateFile(save.path, save.state, save.chains, save.selfContained);
    const data = save.chains[1] ? ` and its data disk ${save.chains[1][0]} are` : ' is';
    io.stderr(`romvisor: saved the machine to ${save.path} (${(bytes / 2 ** 20).toFixed(1)} MiB; its disk ${save.chains[0]?.[0] ?? '(none)'}${data} frozen)\n`);
    return code;
  } catch (e) {
    if (e instanceof StateError) {
      io.stderr(`romvisor boot: ${e.message}\n`);
      return EXIT.badInput;
    }
    throw e;
  }
}

/** A self-contained state's disk, unpacked for a restore: its base found, its overlay written out. */
export interface UnpackedState {
  /** The base's image (a built-in appliance's .vhd.gz, or the file the state names). */
  base: string;
  /** The embedded overlay, written out: the restored guest writes into it. */
  overlay: string;
  /** Removes the overlay unless it was asked for by name. */
  dispose(): Promise<void>;
}

const APPLIANCES = fileURLToPath(new URL('../../appliances/', import.meta.url));

/**
 * Writes a self-contained state's overlay to `overlay` (or a temporary file) and finds the
 * base it names by sha256: among the built-in appliances (appliances/manifest.json gives
 * each unpacked image's sha256), else the file the state was saved over if it is still
 * that file. Throws StateError('state-disk-mismatch') when the base is nowhere.
 */
export async function unpackEmbedded(statePath: string, chain: StateDiskFile[], embedded: ReadonlyMap<string, Uint8Array>, overlay: string | undefined): Promise<UnpackedState> {
  const [top, base, ...rest] = chain;
  if (!top || !base || rest.length > 0 || base.embedded) {
    throw new StateError('state-unsupported', `${statePath}: a self-contained state has one embedded overlay over a base named by sha256; this one has a chain of ${chain.length} files`);
  }
  const basePath = await findBase(statePath, base);
  const dir = overlay === undefined ? await mkdtemp(join(tmpdir(), 'romvisor-restore-')) : undefined;
  const path = overlay ?? join(dir!, 'overlay.vhd');
  await writeFile(path, embedded.get(top.sha256)!, { flag: 'wx' });
  return { base: basePath, overlay: path, dispose: async () => (dir ? rm(dir, { recursive: true, force: true }) : undefined) };
}

async function findBase(statePath: string, base: StateDiskFile): Promise<string> {
  let manifest: { appliances?: Record<string, { file?: string; gunzipped?: { sha256?: string } }> } = {};
  try {
    manifest = JSON.parse(await readFile(join(APPLIANCES, 'manifest.json'), 'utf8'));
  } catch {
    // No built-in appliances built: only the state's own path can serve.
  }
  const names: string[] = [];
  for (const [name, a] of Object.entries(manifest.appliances ?? {})) {
    names.push(name);
    if (a.gunzipped?.sha256 !== base.sha256 || !a.file) continue;
    const gz = join(APPLIANCES, a.file);
    // The manifest says what the image should be; the unpacked bytes must say it too.
    if (existsSync(gz) && (await sha256File(await unpackVhdGz(gz, join(romvisorDataDir(), 'cache')))) === base.sha256) return gz;
  }
  if (existsSync(base.path) && (await sha256File(base.path)) === base.sha256) return base.path;
  throw new StateError('state-disk-mismatch', `${statePath}: its base disk (sha256 ${base.sha256}, saved over ${base.path}) is none of the built-in appliances (${names.join(', ') || 'none built'}) and not at that path`);
}
