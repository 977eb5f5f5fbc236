import type { BlockBackend } from './BlockBackend.ts';
import {
  DEFAULT_BLOCK_SIZE,
  encodeLocatorPath,
  HEADER_SIZE,
  MAX_BLOCK_SIZE,
  PLATFORM_W2KU,
  PLATFORM_W2RU,
  serializeDynamicHeader,
  type ParentLocatorEntry,
} from './VhdDynamicHeader.ts';
import { FOOTER_SIZE, MAX_VIRTUAL_SIZE, randomUniqueId, SECTOR_SIZE, serializeFooter, vhdTimeNow, type VhdFooter } from './VhdFooter.ts';
import { VhdError } from './VhdError.ts';

/*
 * Creating VHDs: the layout of a new, empty fixed, dynamic or differencing image.
 * `VhdDisk.createFixed/createDynamic/createDifferencing` write it with this and then
 * open the result; this module knows nothing of `VhdDisk`, so opening and creating
 * import one way.
 */

export interface VhdCreateOptions {
  uniqueId?: Uint8Array;
  /** Footer time stamp (seconds since 2000); fixed values make images reproducible. */
  timeStamp?: number;
  /** Dynamic and differencing block size, a power of two (default 2 MiB). */
  blockSize?: number;
}

export interface VhdDifferencingOptions extends VhdCreateOptions {
  /** Stored in the W2ku locator: where the parent lives, absolute. */
  parentAbsolutePath?: string;
  /** Stored in the W2ru locator: the parent relative to the child, e.g. "./base.vhd". */
  parentRelativePath?: string;
  /** Stored as the parent unicode name (default: the base name of a locator path). */
  parentName?: string;
}

/** What a new differencing disk records about its parent (an open `VhdDisk` has all of it). */
export interface VhdParentIdentity {
  readonly footer: Pick<VhdFooter, 'uniqueId' | 'timeStamp'>;
  readonly header: { readonly blockSize: number } | undefined;
  readonly virtualSize: number;
}

/** What `writeEmptyVhd` lays out. */
export type EmptyVhdSpec =
  | { type: 'fixed'; size: number; opts?: VhdCreateOptions }
  | { type: 'dynamic'; size: number; opts?: VhdCreateOptions }
  | { type: 'differencing'; parent: VhdParentIdentity; opts?: VhdDifferencingOptions };

/** Where the BAT starts in images romvisor writes: after the footer copy and the header. */
const TABLE_OFFSET = FOOTER_SIZE + HEADER_SIZE;

/**
 * Writes an empty VHD into an empty `backend` and flushes it: a fixed disk (zeros, then
 * the footer), or a dynamic or differencing one (footer copy, header, BAT of unallocated
 * blocks, parent locators, footer). Open it with `VhdDisk.open` afterwards.
 */
export async function writeEmptyVhd(backend: BlockBackend, spec: EmptyVhdSpec): Promise<void> {
  const opts = spec.opts ?? {};
  if (spec.type === 'fixed') {
    checkNewSize(spec.size);
    // Writing just the footer grows the backend; the data area in front reads as zeros.
    await backend.write(spec.size, serializeFooter({ type: 'fixed', size: spec.size, timeStamp: opts.timeStamp ?? vhdTimeNow(), uniqueId: opts.uniqueId ?? randomUniqueId() }));
    await backend.flush();
    return;
  }
  if (spec.type === 'dynamic') {
    checkNewSize(spec.size);
    await writeSparseLayout(backend, 'dynamic', spec.size, opts, {});
    return;
  }
  const { parent } = spec;
  const diff: VhdDifferencingOptions = spec.opts ?? {};
  const locatorPaths: [number, string][] = [];
  if (diff.parentRelativePath) locatorPaths.push([PLATFORM_W2RU, diff.parentRelativePath]);
  if (diff.parentAbsolutePath) locatorPaths.push([PLATFORM_W2KU, diff.parentAbsolutePath]);
  const name = diff.parentName ?? baseName(diff.parentRelativePath ?? diff.parentAbsolutePath ?? '');
  await writeSparseLayout(backend, 'differencing', parent.virtualSize, { blockSize: parent.header?.blockSize, ...diff }, {
    parentUniqueId: parent.footer.uniqueId,
    parentTimeStamp: parent.footer.timeStamp,
    parentUnicodeName: name,
    locatorPaths,
  });
}

function checkNewSize(size: number): void {
  if (!Number.isSafeInteger(size) || size <= 0 || size % SECTOR_SIZE !== 0 || size > MAX_VIRTUAL_SIZE) {
    throw new VhdError('bad-size', `VHD size ${size} is not a positive multiple of 512 up to ${MAX_VIRTUAL_SIZE}`);
  }
}

function checkBlockSize(bs: number): void {
  if (!Number.isSafeInteger(bs) || bs < SECTOR_SIZE || bs > MAX_BLOCK_SIZE || (bs & (bs - 1)) !== 0) {
    throw new VhdError('bad-block-size', `VHD block size ${bs} is not a power of two from 512 to 256 MiB`);
  }
}

function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? '';
}

interface SparseParentFields {
  parentUniqueId?: Uint8Array;
  parentTimeStamp?: number;
  parentUnicodeName?: string;
  locatorPaths?: [number, string][];
}

/** Lays out an empty dynamic or differencing image: copy, header, BAT, locators, footer. */
async function writeSparseLayout(backend: BlockBackend, type: 'dynamic' | 'differencing', size: number, opts: VhdCreateOptions, parentFields: SparseParentFields): Promise<void> {
  const blockSize = opts.blockSize ?? DEFAULT_BLOCK_SIZE;
  checkBlockSize(blockSize);
  const entries = Math.ceil(size / blockSize);
  const batBytes = Math.ceil((entries * 4) / SECTOR_SIZE) * SECTOR_SIZE;
  let at = TABLE_OFFSET + batBytes;
  const locators: ParentLocatorEntry[] = [];
  for (const [code, path] of parentFields.locatorPaths ?? []) {
    const data = encodeLocatorPath(path);
    const space = Math.ceil(data.length / SECTOR_SIZE) * SECTOR_SIZE;
    // Platform data space in sectors, as the spec defines it.
    locators.push({ platformCode: code, dataSpace: space / SECTOR_SIZE, dataLength: data.length, dataOffset: at });
    const padded = new Uint8Array(space);
    padded.set(data);
    await backend.write(at, padded);
    at += space;
  }
  const footer = serializeFooter({
    type,
    size,
    dataOffset: FOOTER_SIZE,
    timeStamp: opts.timeStamp ?? vhdTimeNow(),
    uniqueId: opts.uniqueId ?? randomUniqueId(),
  });
  await backend.write(TABLE_OFFSET, new Uint8Array(batBytes).fill(0xff));
  await backend.write(
    FOOTER_SIZE,
    serializeDynamicHeader({
      tableOffset: TABLE_OFFSET,
      maxTableEntries: entries,
      blockSize,
      parentUniqueId: parentFields.parentUniqueId,
      parentTimeStamp: parentFields.parentTimeStamp,
      parentUnicodeName: parentFields.parentUnicodeName,
      locators,
    }),
  );
  await backend.write(at, footer);
  await backend.write(0, footer);
  await backend.flush();
}
