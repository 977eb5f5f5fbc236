/**
 * Names the part of the machine a physical address reaches, for "where does this address
 * go?": the end of a page walk is only half an answer until the student sees that
 * 0x1000_0000 is the UART rather than memory. The map is physicalMap.ts's.
 */
import type { PhysicalRegion } from './InspectorTypes.ts';
import { physicalRegions } from './physicalMap.ts';

export function physicalRegion(pa: bigint, ramBytes: number): PhysicalRegion {
  for (const r of physicalRegions(ramBytes)) if (pa >= r.base && pa < r.base + r.size) return r;
  return { name: 'nothing (reads 0, writes vanish)', base: pa & ~0xfffn, size: 0x1000n, kind: 'none' };
}
