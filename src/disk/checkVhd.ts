import type { BlockBackend } from './BlockBackend.ts';
import { VhdDisk, type VhdOpenOptions } from './VhdDisk.ts';
import { VhdError } from './VhdError.ts';

export interface VhdCheckReport {
  /**
   * Damage, one line each, in the typed errors' wording: what makes the image refuse to
   * open, or what open had to work around (a broken footer). Empty means the image is sound.
   */
  problems: string[];
  /**
   * Findings that damage nothing: every sector reads as written (a parent time stamp
   * that moved, a footer copy that differs but is valid, sector bitmap bits past the end
   * of the disk as qemu writes them, a stray block past the end of the disk).
   */
  warnings: string[];
  /** The chain as far as it opened, child first. */
  chain: { uuid: string; type: string; virtualSize: number; allocatedBlocks: number; blockCount: number }[];
}

/**
 * The full structural check behind `romvisor vhd check` (qemu-img check does not do
 * VHD): opens the image and its chain read-only, which validates every structure, then
 * adds what open tolerates (damage it worked around, warnings, stray BAT entries, bitmap
 * bits past the end). Takes ownership of `backend` and disposes the chain.
 */
export async function checkVhd(backend: BlockBackend, opts: VhdOpenOptions = {}): Promise<VhdCheckReport> {
  const report: VhdCheckReport = { problems: [], warnings: [], chain: [] };
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
      for (const w of d.warnings) (d.damage.includes(w) ? report.problems : report.warnings).push(prefix + w);
      for (const w of await d.layoutWarnings()) report.warnings.push(prefix + w);
    }
  } finally {
    await disk.dispose();
  }
  return report;
}
