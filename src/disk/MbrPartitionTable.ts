import { ByteSlice } from './ByteSlice.ts';
import type { ByteSource } from './ByteSource.ts';
import { PartitionError } from './PartitionError.ts';

/*
 * MBR layout (sector 0, little-endian): 440 boot code, 440 disk signature (u32),
 * 444 reserved (u16), 446 four 16-byte entries, 510 signature 0x55 0xAA.
 * Entry: +0 status (0x80 active / 0x00), +1 CHS first (3), +4 type, +5 CHS last (3),
 * +8 first LBA (u32), +12 sector count (u32).
 */
const SECTOR = 512;
const ENTRIES_AT = 446;
const ENTRY_SIZE = 16;
const SIGNATURE_AT = 510;
const TYPE_GPT_PROTECTIVE = 0xee;
/** Partition type 0x83: Linux native (ext2/3/4). */
export const MBR_TYPE_LINUX = 0x83;
/** 0x0c: FAT32 with LBA, the usual type for a firmware-readable boot partition. */
export const MBR_TYPE_FAT32_LBA = 0x0c;

export interface MbrPartition {
  /** 1-based, as Linux names them (sda1..sda4); the slot in the table. */
  number: number;
  type: number;
  bootable: boolean;
  firstLba: number;
  sectorCount: number;
}

export interface NewMbrPartition {
  type: number;
  firstLba: number;
  sectorCount: number;
  bootable?: boolean;
}

/** A classic MBR with up to four primary partitions. Extended partitions are listed, not followed. */
export class MbrPartitionTable {
  private constructor(
    readonly partitions: readonly MbrPartition[],
    readonly diskSignature: number,
  ) {}

  /** Reads and validates sector 0 of `disk`: signature, status bytes, bounds, overlaps. */
  static async read(disk: ByteSource): Promise<MbrPartitionTable> {
    if (disk.size < SECTOR) {
      throw new PartitionError('out-of-range', `MBR: disk is ${disk.size} bytes, smaller than one sector`, 0);
    }
    const s = await disk.read(0, SECTOR);
    if (s[SIGNATURE_AT] !== 0x55 || s[SIGNATURE_AT + 1] !== 0xaa) {
      const got = `0x${s[SIGNATURE_AT]!.toString(16).padStart(2, '0')}${s[SIGNATURE_AT + 1]!.toString(16).padStart(2, '0')}`;
      throw new PartitionError('no-signature', `MBR at 0x1fe: boot signature is ${got}, expected 0x55aa`, SIGNATURE_AT);
    }
    const view = new DataView(s.buffer, s.byteOffset, SECTOR);
    const diskSectors = Math.floor(disk.size / SECTOR);
    const parts: MbrPartition[] = [];
    for (let i = 0; i < 4; i++) {
      const at = ENTRIES_AT + i * ENTRY_SIZE;
      const type = s[at + 4]!;
      const status = s[at]!;
      const firstLba = view.getUint32(at + 8, true);
      const sectorCount = view.getUint32(at + 12, true);
      if (type === 0 && sectorCount === 0) continue;
      if (type === TYPE_GPT_PROTECTIVE) {
        throw new PartitionError('gpt-unsupported', `MBR entry ${i + 1} at 0x${at.toString(16)}: type 0xee is a GPT protective MBR; GPT disks are not supported`, at + 4);
      }
      if (status !== 0 && status !== 0x80) {
        throw new PartitionError('bad-status', `MBR entry ${i + 1} at 0x${at.toString(16)}: status is 0x${status.toString(16)}, expected 0x00 or 0x80`, at);
      }
      if (type === 0 || sectorCount === 0 || firstLba === 0) {
        throw new PartitionError('bad-entry', `MBR entry ${i + 1} at 0x${at.toString(16)}: type 0x${type.toString(16)}, first LBA ${firstLba}, ${sectorCount} sectors is not a usable partition`, at);
      }
      if (firstLba + sectorCount > diskSectors) {
        throw new PartitionError('out-of-range', `MBR entry ${i + 1} at 0x${at.toString(16)}: sectors ${firstLba}..${firstLba + sectorCount - 1} run past the disk's ${diskSectors} sectors`, at + 8);
      }
      parts.push({ number: i + 1, type, bootable: status === 0x80, firstLba, sectorCount });
    }
    checkOverlaps(parts);
    return new MbrPartitionTable(parts, view.getUint32(440, true));
  }

  /**
   * Sector 0 for a disk of `diskSize` bytes with these partitions, in slot order.
   * CHS fields are filled the usual LBA-era way (255 heads × 63 sectors, saturating).
   */
  static create(partitions: NewMbrPartition[], diskSize: number, diskSignature = 0): Uint8Array {
    if (partitions.length > 4) {
      throw new PartitionError('too-many', `MBR: ${partitions.length} partitions requested, at most 4 primary partitions fit`);
    }
    const diskSectors = Math.floor(diskSize / SECTOR);
    const s = new Uint8Array(SECTOR);
    const view = new DataView(s.buffer);
    view.setUint32(440, diskSignature >>> 0, true);
    const parts: MbrPartition[] = [];
    partitions.forEach((p, i) => {
      const at = ENTRIES_AT + i * ENTRY_SIZE;
      if (!Number.isInteger(p.firstLba) || !Number.isInteger(p.sectorCount) || p.firstLba < 1 || p.sectorCount < 1 || p.firstLba + p.sectorCount > diskSectors || p.firstLba + p.sectorCount > 0x100000000) {
        throw new PartitionError('out-of-range', `MBR entry ${i + 1}: first LBA ${p.firstLba}, ${p.sectorCount} sectors does not fit a disk of ${diskSectors} sectors`, at + 8);
      }
      if (!Number.isInteger(p.type) || p.type < 1 || p.type > 0xff || p.type === TYPE_GPT_PROTECTIVE) {
        throw new PartitionError('bad-entry', `MBR entry ${i + 1}: type ${p.type} is not a partition type byte`, at + 4);
      }
      s[at] = p.bootable ? 0x80 : 0;
      s.set(chs(p.firstLba), at + 1);
      s[at + 4] = p.type;
      s.set(chs(p.firstLba + p.sectorCount - 1), at + 5);
      view.setUint32(at + 8, p.firstLba, true);
      view.setUint32(at + 12, p.sectorCount, true);
      parts.push({ number: i + 1, type: p.type, bootable: !!p.bootable, firstLba: p.firstLba, sectorCount: p.sectorCount });
    });
    checkOverlaps(parts);
    s[SIGNATURE_AT] = 0x55;
    s[SIGNATURE_AT + 1] = 0xaa;
    return s;
  }

  /** Partition `number` (1..4) as a byte source of its own. */
  partition(disk: ByteSource, number: number): ByteSlice {
    const p = this.partitions.find((x) => x.number === number);
    if (!p) {
      throw new PartitionError('not-found', `MBR: no partition ${number} (present: ${this.partitions.map((x) => x.number).join(', ') || 'none'})`);
    }
    return new ByteSlice(disk, p.firstLba * SECTOR, p.sectorCount * SECTOR);
  }
}

function checkOverlaps(parts: MbrPartition[]): void {
  const sorted = [...parts].sort((a, b) => a.firstLba - b.firstLba);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (b.firstLba < a.firstLba + a.sectorCount) {
      throw new PartitionError('overlap', `MBR: partition ${b.number} (from sector ${b.firstLba}) overlaps partition ${a.number} (sectors ${a.firstLba}..${a.firstLba + a.sectorCount - 1})`, ENTRIES_AT + (b.number - 1) * ENTRY_SIZE + 8);
    }
  }
}

/** CHS address of an LBA with 255 heads and 63 sectors/track; beyond 1023 cylinders, the maximum. */
function chs(lba: number): Uint8Array {
  const heads = 255;
  const spt = 63;
  let c = Math.floor(lba / (heads * spt));
  let h = Math.floor(lba / spt) % heads;
  let sct = (lba % spt) + 1;
  if (c > 1023) {
    c = 1023;
    h = 254;
    sct = 63;
  }
  return new Uint8Array([h, ((c >> 2) & 0xc0) | sct, c & 0xff]);
}
