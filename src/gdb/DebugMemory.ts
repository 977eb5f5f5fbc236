/**
 * Guest memory as a debugger sees it: virtual addresses translated through the hart's
 * current satp by a walk on the host (src/inspect/pageWalk.ts) that reads PTEs from RAM
 * and changes nothing, not the TLBs, not a PTE's A/D bits. Only RAM and the reset ROM are
 * reachable: device registers are left alone, as reading one can change its state.
 *
 * The walk is the one a supervisor access would make with SUM and MXR set, so a stopped
 * kernel shows its own and its user's pages alike; M-mode sees physical memory.
 */
import { RAM_BASE, type Core } from '../machine/Core.ts';
import { ROM_BASE, ROM_SIZE } from '../machine/physicalMap.ts';
import { explainTranslation } from '../inspect/pageWalk.ts';

const PAGE = 0x1000n;
const SATP = 0x180;
const MSTATUS_SUM = 1n << 18n;
const MSTATUS_MXR = 1n << 19n;
const PRIV_M = 3;

export class DebugMemory {
  constructor(private readonly core: Core) {}

  /** Up to `length` bytes from `va`: fewer when the range runs into memory that cannot be read. */
  read(va: bigint, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const at = va + BigInt(done);
      const n = Math.min(length - done, Number(PAGE - (at & (PAGE - 1n))));
      const host = this.hostBytes(at, n);
      if (!host) break;
      out.set(host, done);
      done += n;
    }
    return out.subarray(0, done);
  }

  /** Writes `data` at `va` (RAM only); false, with nothing written, if any byte is not RAM. */
  write(va: bigint, data: Uint8Array): boolean {
    const pieces: [Uint8Array, number][] = [];
    let done = 0;
    while (done < data.length) {
      const at = va + BigInt(done);
      const n = Math.min(data.length - done, Number(PAGE - (at & (PAGE - 1n))));
      const pa = this.translate(at);
      if (pa === undefined || pa < RAM_BASE || pa + BigInt(n) > RAM_BASE + BigInt(this.core.ramBytes)) return false;
      pieces.push([data.subarray(done, done + n), Number(pa - RAM_BASE)]);
      done += n;
    }
    for (const [bytes, off] of pieces) {
      this.core.ram.set(bytes, off);
      // Code the JIT translated from these bytes is stale now (gdb patching an instruction).
      this.core.ramWritten(off, bytes.length);
    }
    return true;
  }

  /** The physical address `va` maps to now, or undefined (no mapping, or a reserved satp mode). */
  translate(va: bigint): bigint | undefined {
    const c = this.core;
    if (c.priv === PRIV_M) return va;
    try {
      const t = explainTranslation(va, 'load', { satp: c.csr(SATP) ?? 0n, priv: 'S', mstatus: MSTATUS_SUM | MSTATUS_MXR }, (pa) => this.readPhys64(pa));
      return t.fault ? undefined : t.pa;
    } catch {
      return undefined; // a reserved satp mode: nothing is mapped
    }
  }

  /** `n` bytes at `va` (within one page) as a view of RAM or ROM, or undefined. */
  private hostBytes(va: bigint, n: number): Uint8Array | undefined {
    const pa = this.translate(va);
    if (pa === undefined) return undefined;
    const end = pa + BigInt(n);
    if (pa >= RAM_BASE && end <= RAM_BASE + BigInt(this.core.ramBytes)) return this.core.ram.subarray(Number(pa - RAM_BASE), Number(end - RAM_BASE));
    if (pa >= ROM_BASE && end <= ROM_BASE + ROM_SIZE) return this.core.rom.subarray(Number(pa), Number(end));
    return undefined;
  }

  private readPhys64(pa: bigint): bigint | undefined {
    if (pa < RAM_BASE || pa + 8n > RAM_BASE + BigInt(this.core.ramBytes)) return undefined;
    return new DataView(this.core.ram.buffer, this.core.ram.byteOffset).getBigUint64(Number(pa - RAM_BASE), true);
  }
}
