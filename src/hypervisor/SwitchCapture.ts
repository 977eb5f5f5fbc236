/**
 * A switch's traffic kept in the page as a classic pcap (link type Ethernet), from the
 * moment this object taps the switch: every frame entering it, stamped with the switch's
 * clock (host time for the server's switch, guest time for a deterministic scenario's, so
 * that one is the same file `romvisor boot SCENARIO.json --pcap` writes). Up to
 * CAPTURE_MAX_BYTES are kept; frames past that are counted, not kept, so a long session
 * cannot eat the tab's memory.
 */
import { PcapWriter, type EthernetSwitch } from '../net/index.ts';

/** Capture kept in memory at most (then frames are counted as not captured). */
export const CAPTURE_MAX_BYTES = 64 * 1024 * 1024;

export interface CaptureStats {
  frames: number;
  bytes: number;
  /** Frames seen after the capture was full. */
  notCaptured: number;
  /** Host time the capture started, ms since the epoch. */
  since: number;
}

export class SwitchCapture {
  private readonly chunks: Uint8Array[] = [];
  private readonly pcap = new PcapWriter((c) => this.chunks.push(c));
  private notCaptured = 0;
  private readonly since = Date.now();
  private readonly untap: () => void;

  constructor(sw: EthernetSwitch) {
    this.untap = sw.tap((frame, timeUs) => {
      if (this.pcap.bytes + frame.length + 16 > CAPTURE_MAX_BYTES) this.notCaptured++;
      else this.pcap.write(frame, timeUs);
    });
  }

  stats(): CaptureStats {
    return { frames: this.pcap.frames, bytes: this.pcap.bytes, notCaptured: this.notCaptured, since: this.since };
  }

  /** Everything captured so far as one pcap file. */
  blob(): Blob {
    return new Blob(this.chunks as BlobPart[], { type: 'application/vnd.tcpdump.pcap' });
  }

  dispose(): void {
    this.untap();
    this.chunks.length = 0;
  }
}
