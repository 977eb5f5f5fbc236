/**
 * Classic libpcap capture files (the format tcpdump -r and Wireshark read): a 24-byte
 * global header, then per frame a 16-byte record header and the bytes. Written in little
 * endian with the microsecond magic; link type Ethernet.
 *
 *   global  magic u32 0xa1b2c3d4, version 2.4 (u16 u16), thiszone i32 0, sigfigs u32 0,
 *           snaplen u32, network u32 (1 = LINKTYPE_ETHERNET)
 *   record  ts_sec u32, ts_usec u32, incl_len u32, orig_len u32, then incl_len bytes
 *
 * Timestamps are what the switch's clock says: host time in realtime, guest time in
 * deterministic runs (so the capture of a replayed run is the same file, byte for byte).
 */
const MAGIC_MICROSECONDS = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;
const GLOBAL_HEADER = 24;
const RECORD_HEADER = 16;
/** Bytes of a frame kept at most: every frame the switch carries fits. */
export const PCAP_SNAPLEN = 65535;

export class PcapWriter {
  /** Frames written, and bytes written (headers included). */
  frames = 0;
  bytes = 0;

  constructor(private readonly out: (chunk: Uint8Array) => void) {
    const h = new Uint8Array(GLOBAL_HEADER);
    const v = new DataView(h.buffer);
    v.setUint32(0, MAGIC_MICROSECONDS, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setUint32(16, PCAP_SNAPLEN, true);
    v.setUint32(20, LINKTYPE_ETHERNET, true);
    this.emit(h);
  }

  /** One frame seen at `timeUs` microseconds since the epoch. */
  write(frame: Uint8Array, timeUs: number): void {
    const kept = Math.min(frame.length, PCAP_SNAPLEN);
    const r = new Uint8Array(RECORD_HEADER + kept);
    const v = new DataView(r.buffer);
    const us = Math.max(0, Math.floor(timeUs));
    v.setUint32(0, Math.floor(us / 1e6) >>> 0, true);
    v.setUint32(4, us % 1e6, true);
    v.setUint32(8, kept, true);
    v.setUint32(12, frame.length, true);
    r.set(frame.subarray(0, kept), RECORD_HEADER);
    this.frames++;
    this.emit(r);
  }

  private emit(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    this.out(chunk);
  }
}
