import type { BlockBackend } from './BlockBackend.ts';
import type { ByteSource } from './ByteSource.ts';
import { isAllZero, setSectors } from './sectorBitmap.ts';
import { bitmapSize, DEFAULT_BLOCK_SIZE, HEADER_SIZE, MAX_BLOCK_SIZE, serializeDynamicHeader } from './VhdDynamicHeader.ts';
import { FOOTER_SIZE, MAX_VIRTUAL_SIZE, randomUniqueId, SECTOR_SIZE, serializeFooter, vhdTimeNow } from './VhdFooter.ts';
import { VhdError } from './VhdError.ts';

export interface WriteVhdOptions {
  uniqueId?: Uint8Array;
  timeStamp?: number;
  /** Block size of a dynamic image (default 2 MiB); also the copy granularity. */
  blockSize?: number;
}

/**
 * Writes the bytes of `source` (a raw disk, or a whole VHD chain) as one standalone VHD
 * into an empty `target`: `vhd convert` and `VhdDisk.exportTo`. All-zero blocks are
 * left unallocated in a dynamic image and unwritten (a hole) in a fixed one.
 */
export async function writeVhdImage(source: ByteSource, target: BlockBackend, type: 'dynamic' | 'fixed', opts: WriteVhdOptions = {}): Promise<void> {
  const size = source.size;
  if (!Number.isSafeInteger(size) || size <= 0 || size % SECTOR_SIZE !== 0 || size > MAX_VIRTUAL_SIZE) {
    throw new VhdError('bad-size', `VHD size ${size} is not a positive multiple of 512 up to ${MAX_VIRTUAL_SIZE}`);
  }
  const step = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
  if (!Number.isSafeInteger(step) || step < SECTOR_SIZE || step > MAX_BLOCK_SIZE || (step & (step - 1)) !== 0) {
    throw new VhdError('bad-block-size', `VHD block size ${step} is not a power of two from 512 to ${MAX_BLOCK_SIZE}`);
  }
  const footerFields = { size, timeStamp: opts.timeStamp ?? vhdTimeNow(), uniqueId: opts.uniqueId ?? randomUniqueId() };
  if (type === 'fixed') {
    for (let pos = 0; pos < size; pos += step) {
      const data = await source.read(pos, Math.min(step, size - pos));
      if (!isAllZero(data)) await target.write(pos, data);
    }
    // Writing the footer grows the target; a gap left by zero blocks reads as zeros.
    await target.write(size, serializeFooter({ type: 'fixed', ...footerFields }));
    await target.flush();
    return;
  }
  const tableOffset = FOOTER_SIZE + HEADER_SIZE;
  const entries = Math.ceil(size / step);
  const batBytes = Math.ceil((entries * 4) / SECTOR_SIZE) * SECTOR_SIZE;
  const bitmapBytes = bitmapSize(step);
  const bat = new Uint8Array(batBytes).fill(0xff);
  const batView = new DataView(bat.buffer);
  let at = tableOffset + batBytes;
  for (let i = 0; i < entries; i++) {
    const len = Math.min(step, size - i * step);
    const data = await source.read(i * step, len);
    if (isAllZero(data)) continue;
    const buf = new Uint8Array(bitmapBytes + step);
    setSectors(buf.subarray(0, bitmapBytes), 0, len / SECTOR_SIZE);
    buf.set(data, bitmapBytes);
    await target.write(at, buf);
    batView.setUint32(i * 4, at / SECTOR_SIZE);
    at += buf.length;
  }
  // Metadata last: until the footers exist, a half-written export is not a VHD at all.
  const footer = serializeFooter({ type: 'dynamic', dataOffset: FOOTER_SIZE, ...footerFields });
  await target.write(tableOffset, bat);
  await target.write(FOOTER_SIZE, serializeDynamicHeader({ tableOffset, maxTableEntries: entries, blockSize: step }));
  await target.write(at, footer);
  await target.write(0, footer);
  await target.flush();
}
