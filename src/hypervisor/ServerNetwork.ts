/**
 * The server's network in the page: one EthernetSwitch (with its DHCP/DNS/ARP/ping services)
 * per powered-on server, and its capture. Each VM's worker reaches its switch port through
 * a MessagePort of its own, transferred at boot: a frame posted to an idle worker wakes it
 * through its event loop, and nothing needs SharedArrayBuffer (the page works without
 * cross-origin isolation). Frames cross as transferred ArrayBuffers, one per message.
 *
 * Bounds: what a worker sends lands in its switch port's inbound queue (PORT_QUEUE_FRAMES,
 * drops counted on the port); what the switch hands a port waits in its outbound queue,
 * then crosses the channel on credit: at most `workerQueueFrames` frames the worker has not
 * yet acknowledged (it posts back a count of frames taken after each run slice), past that
 * they are dropped and counted here, so a worker that stops reading cannot make the page
 * queue frames without end; in the worker they wait in the card's receive queue
 * (RX_QUEUE_FRAMES, drops counted by the card). A message from a worker that is not an ArrayBuffer of an Ethernet frame's size is
 * dropped and counted here: the worker runs guest-driven code, so the page trusts nothing
 * it sends.
 *
 * Capture (SwitchCapture) runs from the moment the server powers on (this object's
 * construction).
 */
import { ETHERNET_HEADER_BYTES, MAX_FRAME_BYTES, RX_QUEUE_FRAMES } from '../machine/virtio/VirtioNet.ts';
import { EthernetSwitch, formatIpv4, hostClockUs, type SwitchPort } from '../net/index.ts';
import { SwitchCapture, type CaptureStats } from './SwitchCapture.ts';

/** A VM's place on the switch, as its WorkerVm holds it while the VM runs. */
export interface NetAttachment {
  /** The VM's end of the channel, to transfer to its worker. */
  readonly workerPort: MessagePort;
  readonly port: SwitchPort;
  /** The worker runs lockstep quanta the page posts (LockstepNetwork) instead of running freely. */
  readonly lockstep?: boolean;
  /** Messages from the worker that were not a well-sized frame (or an acknowledgement of frames it never had). */
  readonly rejected: number;
  /** Frames for the worker dropped because it had not taken the earlier ones (its credit was spent). */
  readonly undelivered: number;
  /** The address the switch's DHCP acknowledged for this VM, once the guest asked. */
  lease(): string | undefined;
  /** Leaves the switch and closes the channel. */
  detach(): void;
}

export class ServerNetwork {
  readonly sw = new EthernetSwitch({ delivery: 'immediate', clockUs: hostClockUs });
  private readonly cap = new SwitchCapture(this.sw);
  private readonly attachments = new Set<NetAttachment>();

  constructor(private readonly workerQueueFrames = RX_QUEUE_FRAMES) {}

  /**
   * Puts a VM named `name` on the switch. Throws NetError when the name cannot be a host
   * name or another running VM has it.
   */
  attach(name: string): NetAttachment {
    const channel = new MessageChannel();
    const page = channel.port1;
    const sw = this.sw;
    /** Frames posted to the worker that it has not acknowledged yet. */
    let inFlight = 0;
    const port = sw.attach('vm', name, (frame) => {
      if (inFlight >= this.workerQueueFrames) {
        a.undelivered++;
        return;
      }
      inFlight++;
      // The switch's frame may go to several ports: each worker gets its own copy to own.
      const copy = frame.slice();
      page.postMessage(copy.buffer, [copy.buffer]);
    });
    const key = name.toLowerCase();
    const attachments = this.attachments;
    const a = {
      workerPort: channel.port2,
      port,
      rejected: 0,
      undelivered: 0,
      lease: () => {
        const ip = sw.services.dhcp.leases.get(key);
        return ip === undefined ? undefined : formatIpv4(ip);
      },
      detach: () => {
        if (!attachments.delete(a)) return;
        page.onmessage = null;
        page.close();
        sw.services.dhcp.leases.delete(key);
        port.detach();
      },
    };
    page.onmessage = (e: MessageEvent) => {
      const data: unknown = e.data;
      if (typeof data === 'number') {
        // The worker took `data` frames: that much credit comes back.
        if (Number.isInteger(data) && data >= 1 && data <= inFlight) inFlight -= data;
        else a.rejected++;
        return;
      }
      if (!(data instanceof ArrayBuffer) || data.byteLength < ETHERNET_HEADER_BYTES || data.byteLength > MAX_FRAME_BYTES) {
        a.rejected++;
        return;
      }
      port.send(new Uint8Array(data));
    };
    page.start();
    attachments.add(a);
    return a;
  }

  captureStats(): CaptureStats {
    return this.cap.stats();
  }

  /** Everything captured so far as one classic pcap file (link type Ethernet). */
  capture(): Blob {
    return this.cap.blob();
  }

  dispose(): void {
    for (const a of [...this.attachments]) a.detach();
    this.cap.dispose();
  }
}
