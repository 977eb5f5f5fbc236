/**
 * A deterministic scenario's network in the page: its guests on a switch of their own, in
 * lockstep quanta (src/net/Lockstep.ts, the rule `romvisor boot SCENARIO.json` runs), so the
 * page prints the CLI's bytes and every run replays exactly, whatever the host's speed.
 *
 * How the guests run: each stays a VM in a worker of its own, and the page coordinates the
 * quanta. Per quantum the page posts each worker, on its MessagePort, the frames the switch
 * forwarded to it and the guest time to run to; every worker runs its guest there (all at
 * once, on as many cores as the host has) and answers with the frames the guest sent; when
 * all have answered the frames cross this switch and the next quantum starts.
 * The alternative, one worker stepping all of a scenario's guests, was not taken: the page
 * would need a second kind of VM handle (several consoles, inspectors and Stop buttons
 * behind one worker) and the guests would share one core. The price of coordination is a
 * message round trip per guest per millisecond of guest time, and the scenario moves at the
 * pace of its slowest guest (a paused guest holds all of them, as it must).
 *
 * Not the server's switch: its realtime VMs deliver frames at host-time points, and a
 * deterministic scenario must not see them. Realtime scenario guests join the server's
 * switch instead (ServerNetwork).
 *
 * Its traffic is captured from the start (SwitchCapture), stamped with guest time: the same
 * file `romvisor boot SCENARIO.json --pcap` writes.
 *
 * The workers run guest-driven code: a reply that is not a list of Ethernet-sized frames,
 * or one nobody asked for, is dropped and counted.
 */
import { ETHERNET_HEADER_BYTES, MAX_FRAME_BYTES } from '../machine/virtio/VirtioNet.ts';
import { formatIpv4, Lockstep, type LockstepPort } from '../net/index.ts';
import type { LockstepQuantum, LockstepReply } from '../worker/VmWorkerApi.ts';
import type { NetAttachment } from './ServerNetwork.ts';
import { SwitchCapture } from './SwitchCapture.ts';

interface Member {
  readonly name: string;
  readonly page: MessagePort;
  readonly lp: LockstepPort;
  readonly attachment: NetAttachment & { rejected: number };
  gone: boolean;
  /** Resolves the quantum posted to the worker: its reply, or undefined if it left. */
  answer?: (reply: LockstepReply | undefined) => void;
}

export class LockstepNetwork {
  private readonly ls = new Lockstep();
  /** Everything this scenario's switch carried, as pcap. */
  readonly capture = new SwitchCapture(this.ls.sw);
  private readonly members: Member[] = [];
  private running = false;
  private started = false;
  private disposed = false;
  /** Quanta run so far (tests, the readout). */
  quanta = 0;

  get switch() {
    return this.ls.sw;
  }

  /**
   * Puts guest `name` on this scenario's switch; its worker (spec.net with `lockstep`) runs
   * only the quanta posted on the attachment's port. Throws NetError for a name the switch
   * refuses.
   */
  attach(name: string): NetAttachment {
    const lp = this.ls.join(name);
    const channel = new MessageChannel();
    const page = channel.port1;
    const key = name.toLowerCase();
    const sw = this.ls.sw;
    const attachment = {
      workerPort: channel.port2,
      port: lp.port,
      lockstep: true,
      rejected: 0,
      undelivered: 0,
      lease: () => {
        const ip = sw.services.dhcp.leases.get(key);
        return ip === undefined ? undefined : formatIpv4(ip);
      },
      detach: () => this.leave(m),
    };
    const m: Member = { name, page, lp, attachment, gone: false };
    page.onmessage = (e: MessageEvent) => {
      const answer = m.answer;
      const reply = answer && readReply(e.data);
      if (!reply) {
        attachment.rejected++;
        return;
      }
      attachment.rejected += reply.bad;
      m.answer = undefined;
      answer(reply);
    };
    page.start();
    this.members.push(m);
    // A guest started again from its card after the run began joins the running quanta
    // (its time catches up in its first one); if every guest had left, they start again.
    if (this.started) this.start();
    return attachment;
  }

  /**
   * Starts the quanta once every guest of the scenario is attached, so all of them start
   * at guest time 0 as under `romvisor boot`. Runs until every guest has left or dispose.
   */
  start(): void {
    this.started = true;
    if (this.running || this.disposed) return;
    this.running = true;
    void this.run();
  }

  /** Stops the quanta and lets every guest go; the capture stays readable. */
  dispose(): void {
    this.disposed = true;
    for (const m of [...this.members]) this.leave(m);
  }

  private async run(): Promise<void> {
    while (!this.disposed) {
      const live = this.members.filter((m) => !m.gone);
      if (live.length === 0) break;
      const boundary = this.ls.boundary;
      const replies = await Promise.all(live.map((m) => this.post(m, boundary)));
      if (this.disposed) break;
      // In the scenario's order, as the CLI's guests hand their frames to the switch.
      for (const [i, m] of live.entries()) {
        const reply = replies[i];
        if (m.gone || !reply) continue;
        // An ended guest leaves before its last frames cross, as in the CLI.
        if (reply.ended) {
          this.leave(m);
          continue;
        }
        for (const f of reply.frames) m.lp.send(new Uint8Array(f));
      }
      this.ls.cross();
      this.quanta++;
    }
    this.running = false;
  }

  /** One quantum for `m`'s worker: what the switch forwarded to it, and the time to run to. */
  private post(m: Member, boundary: bigint): Promise<LockstepReply | undefined> {
    return new Promise((resolve) => {
      m.answer = resolve;
      // A frame may have gone to several ports: each worker gets its own copy to own.
      const frames = m.lp.takeInbox().map((f) => f.slice().buffer);
      const q: LockstepQuantum = { boundary, frames };
      m.page.postMessage(q, frames);
    });
  }

  private leave(m: Member): void {
    if (m.gone) return;
    m.gone = true;
    m.page.onmessage = null;
    m.page.close();
    m.lp.detach();
    this.ls.sw.services.dhcp.leases.delete(m.name.toLowerCase());
    const answer = m.answer;
    m.answer = undefined;
    answer?.(undefined);
  }
}

/**
 * A worker's reply, if it is one: a list of frames and an `ended` flag. Anything in the list
 * that is not an Ethernet-sized frame is left out and counted in `bad`.
 */
function readReply(data: unknown): (LockstepReply & { bad: number }) | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const { frames, ended } = data as Partial<LockstepReply>;
  if (!Array.isArray(frames) || typeof ended !== 'boolean') return undefined;
  const good = frames.filter((f): f is ArrayBuffer => f instanceof ArrayBuffer && f.byteLength >= ETHERNET_HEADER_BYTES && f.byteLength <= MAX_FRAME_BYTES);
  return { frames: good, ended, bad: frames.length - good.length };
}
