/** Cylinders / heads / sectors-per-track as stored in the VHD footer (16, 8, 8 bits). */
export interface ChsGeometry {
  cylinders: number;
  heads: number;
  sectorsPerTrack: number;
}

/** The largest geometry the footer can express: 65535 × 16 × 255 sectors (~127 GiB). */
export const MAX_CHS_SECTORS = 65535 * 16 * 255;

/**
 * The geometry for a disk of `totalSectors`, by the algorithm in the VHD specification
 * (appendix "CHS calculation"). It rounds down, so cylinders × heads × sectors may be
 * less than the disk; romvisor's own images are sized by current_size, not by this.
 */
export function chsGeometry(totalSectors: number): ChsGeometry {
  const sectors = Math.min(totalSectors, MAX_CHS_SECTORS);
  let sectorsPerTrack: number;
  let heads: number;
  let cylTimesHeads: number;
  if (sectors >= 65535 * 16 * 63) {
    sectorsPerTrack = 255;
    heads = 16;
    cylTimesHeads = Math.floor(sectors / sectorsPerTrack);
  } else {
    sectorsPerTrack = 17;
    cylTimesHeads = Math.floor(sectors / sectorsPerTrack);
    heads = Math.max(4, Math.floor((cylTimesHeads + 1023) / 1024));
    if (cylTimesHeads >= heads * 1024 || heads > 16) {
      sectorsPerTrack = 31;
      heads = 16;
      cylTimesHeads = Math.floor(sectors / sectorsPerTrack);
    }
    if (cylTimesHeads >= heads * 1024) {
      sectorsPerTrack = 63;
      heads = 16;
      cylTimesHeads = Math.floor(sectors / sectorsPerTrack);
    }
  }
  return { cylinders: Math.floor(cylTimesHeads / heads), heads, sectorsPerTrack };
}

export function chsSectors(g: ChsGeometry): number {
  return g.cylinders * g.heads * g.sectorsPerTrack;
}
