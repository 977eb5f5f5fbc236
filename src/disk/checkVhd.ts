import type { BlockBackend } from './BlockBackend.ts';
import { VhdDisk, type VhdOpenOptions } from './VhdDisk.ts';
import { VhdError } from './VhdError.ts';

export interface VhdCheckReport {
  /** Everything wrong, one line each, in the typed errors' wording. Empty means clean. */
  problems: string[];
  /** The chain as far as it opened, child first. */
  chain: { uuid: string; type: string; virtualSize: number; allocatedBlocks: number; blockCount: number }[];
}

/**
 * The full structural check behind `romvisor vhd check` (qemu-img check does not do
 * VHD): opens the image and its chain read-only, which validates every structure, then
 * adds what open tolerates (warnings, stray BAT entries, bitmap bits past the end).
 * Takes ownership of `backend` and disposes the chain.
 */
export async function checkVhd(backend: BlockBackend, opts: VhdOpenOptions = {}): Promise<VhdCheckReport> {
  const report: VhdCheckReport = { problems: [], chain: [] };
  let disk: VhdDisk;
  try {
    disk = await VhdDisk.open(backend, { ...opts, readOnly: true });
  } catch (e) {
    if (!(e instanceof VhdError)) throw e;
    report.problems.push(e.message);
    await backend.dispose();
    return report;
  }
  try {
    for (let d: VhdDisk | undefined = disk, depth = 0; d; d = d.parent, depth++) {
      const prefix = depth === 0 ? '' : `parent ${d.uuid}: `;
      report.chain.push({ uuid: d.uuid, type: d.type, virtualSize: d.virtualSize, allocatedBlocks: d.allocatedBlocks, blockCount: d.blockCount });
      for (const w of d.warnings) report.problems.push(prefix + w);
      for (const p of await d.structuralProblems()) report.problems.push(prefix + p);
    }
  } finally {
    await disk.dispose();
  }
  return report;
}
