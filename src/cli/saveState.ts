/**
 * `romvisor boot --save-state FILE` and `--restore FILE`: the parts of a boot that save a
 * machine and bring one back (src/state/ has the format). A saved machine's overlay is
 * frozen from the save on (its sha256 is in the state); a restore writes to a new child of
 * it, so the state and its disk always match and one state can be restored many times.
 */
import { existsSync } from 'node:fs';
import { CodedError } from '../errors/CodedError.ts';
import type { GuestLoader, VmState } from '../machine/index.ts';
import { StateError } from '../state/StateError.ts';
import { writeStateFile } from '../state/stateFiles.node.ts';
import { EXIT, type CliIo } from './CliIo.ts';

/** A run that saves its machine: where, the disk chains to reference, the state once taken. */
export interface SaveRequest {
  path: string;
  /** Per disk, its chain's files, top (the overlay) first. */
  chains: string[][];
  state?: VmState;
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
    const bytes = await writeStateFile(save.path, save.state, save.chains);
    io.stderr(`romvisor: saved the machine to ${save.path} (${(bytes / 2 ** 20).toFixed(1)} MiB; its disk ${save.chains[0]?.[0] ?? '(none)'} is frozen)\n`);
    return code;
  } catch (e) {
    if (e instanceof StateError) {
      io.stderr(`romvisor boot: ${e.message}\n`);
      return EXIT.badInput;
    }
    throw e;
  }
}
