/**
 * The GDB remote serial protocol's framing (gdb manual, "Overview" of the remote protocol):
 * a packet is `$data#cc` with `cc` the modulo-256 sum of data's bytes in two hex digits;
 * the receiver answers `+` (good) or `-` (resend) until no-ack mode; a lone 0x03 byte
 * outside a packet is an interrupt (Ctrl-C). In data, `}` escapes the next byte (xor 0x20);
 * the stub escapes `$`, `#`, `}` and `*` in what it sends.
 */

export type RspEvent =
  | { kind: 'packet'; data: string }
  /** A packet whose checksum did not match: answer `-` so gdb sends it again. */
  | { kind: 'bad-checksum' }
  | { kind: 'interrupt' };

/** Longest packet accepted; gdb is told (qSupported PacketSize) and stays below it. */
export const MAX_PACKET = 0x4000;

const DOLLAR = 0x24;
const HASH = 0x23;
const ESCAPE = 0x7d;
const STAR = 0x2a;
const CTRL_C = 0x03;

export class RspFraming {
  /** Bytes of the packet being read (after `$`), or undefined between packets. */
  private body: number[] | undefined;
  /** Checksum digits read so far after `#`. */
  private sum: string | undefined;

  /** Splits received bytes into packets and interrupts; acks (`+`, `-`) and noise are dropped. */
  feed(bytes: Uint8Array): RspEvent[] {
    const out: RspEvent[] = [];
    for (const b of bytes) {
      if (this.sum !== undefined) {
        this.sum += String.fromCharCode(b);
        if (this.sum.length < 2) continue;
        const body = this.body!;
        let cs = 0;
        for (const x of body) cs = (cs + x) & 0xff;
        out.push(parseInt(this.sum, 16) === cs ? { kind: 'packet', data: unescape(body) } : { kind: 'bad-checksum' });
        this.body = undefined;
        this.sum = undefined;
      } else if (this.body !== undefined) {
        if (b === HASH) this.sum = '';
        else if (b === DOLLAR) this.body = []; // a new packet restarts a broken one
        else if (this.body.length >= MAX_PACKET) this.body = undefined; // oversized: dropped, gdb resends
        else this.body.push(b);
      } else if (b === DOLLAR) {
        this.body = [];
      } else if (b === CTRL_C) {
        out.push({ kind: 'interrupt' });
      }
    }
    return out;
  }
}

function unescape(body: number[]): string {
  let s = '';
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    s += String.fromCharCode(b === ESCAPE && i + 1 < body.length ? body[++i]! ^ 0x20 : b);
  }
  return s;
}

/** `$data#cc` with the protocol's escapes, as latin1 bytes. */
export function framePacket(data: string): Uint8Array {
  const bytes: number[] = [DOLLAR];
  let cs = 0;
  const put = (b: number) => {
    bytes.push(b);
    cs = (cs + b) & 0xff;
  };
  for (let i = 0; i < data.length; i++) {
    const b = data.charCodeAt(i) & 0xff;
    if (b === DOLLAR || b === HASH || b === ESCAPE || b === STAR) {
      put(ESCAPE);
      put(b ^ 0x20);
    } else put(b);
  }
  bytes.push(HASH, ...Array.from(cs.toString(16).padStart(2, '0'), (c) => c.charCodeAt(0)));
  return Uint8Array.from(bytes);
}
