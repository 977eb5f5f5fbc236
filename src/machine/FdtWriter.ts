/**
 * Writes a flattened device tree blob (Devicetree Specification v0.4, ch. 5): a header,
 * an empty memory-reservation block, the structure block and the strings block, all
 * big-endian. Nodes are written in order with beginNode/endNode.
 */

const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1;
const FDT_END_NODE = 2;
const FDT_PROP = 3;
const FDT_END = 9;
const HEADER_SIZE = 40;
const RESERVE_MAP_SIZE = 16; // one terminating {0, 0} entry

/** A property value: a string, a string list, u32 cells, or raw bytes. */
export type FdtValue = string | string[] | number[] | Uint8Array;

export class FdtWriter {
  private struct: number[] = [];
  private strings: number[] = [];
  private stringOffsets = new Map<string, number>();
  private depth = 0;

  beginNode(name: string): this {
    this.word(FDT_BEGIN_NODE);
    this.bytes(new TextEncoder().encode(name + '\0'));
    this.depth++;
    return this;
  }

  endNode(): this {
    if (this.depth === 0) throw new Error('FdtWriter: endNode without beginNode');
    this.word(FDT_END_NODE);
    this.depth--;
    return this;
  }

  prop(name: string, value: FdtValue = new Uint8Array(0)): this {
    const data = encodeValue(value);
    this.word(FDT_PROP);
    this.word(data.length);
    this.word(this.stringOffset(name));
    this.bytes(data);
    return this;
  }

  /** A 64-bit value as two cells (#address-cells = #size-cells = 2). */
  static cells64(...values: bigint[]): number[] {
    return values.flatMap((v) => [Number(v >> 32n), Number(v & 0xffffffffn)]);
  }

  finish(bootCpu = 0): Uint8Array {
    if (this.depth !== 0) throw new Error(`FdtWriter: ${this.depth} node(s) left open`);
    this.word(FDT_END);
    const structOff = HEADER_SIZE + RESERVE_MAP_SIZE;
    const stringsOff = structOff + this.struct.length;
    const total = stringsOff + this.strings.length;
    const out = new Uint8Array(align4(total));
    const dv = new DataView(out.buffer);
    const header = [FDT_MAGIC, out.length, structOff, stringsOff, HEADER_SIZE, 17, 16, bootCpu, this.strings.length, this.struct.length];
    header.forEach((v, i) => dv.setUint32(i * 4, v));
    out.set(this.struct, structOff);
    out.set(this.strings, stringsOff);
    return out;
  }

  private stringOffset(name: string): number {
    let off = this.stringOffsets.get(name);
    if (off === undefined) {
      off = this.strings.length;
      this.strings.push(...new TextEncoder().encode(name + '\0'));
      this.stringOffsets.set(name, off);
    }
    return off;
  }

  private word(v: number): void {
    this.struct.push((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  }

  /** Appends bytes, padded with zeros to a 4-byte boundary. */
  private bytes(b: Uint8Array): void {
    this.struct.push(...b);
    while (this.struct.length % 4) this.struct.push(0);
  }
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function encodeValue(value: FdtValue): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === 'string') return new TextEncoder().encode(value + '\0');
  if (value.length > 0 && typeof value[0] === 'string') {
    return new TextEncoder().encode((value as string[]).map((s) => s + '\0').join(''));
  }
  const cells = value as number[];
  const out = new Uint8Array(cells.length * 4);
  const dv = new DataView(out.buffer);
  cells.forEach((c, i) => dv.setUint32(i * 4, c >>> 0));
  return out;
}
