// Fuzzer for virtio-net: each case is a driver that sets the card up and then writes a mix
// of sane and mutated chains (buffers outside RAM, raw flags and next indices, loops, the
// wrong direction, lengths around the frame limits, an available index run ahead) on both
// queues, while the host delivers frames of random lengths. The device must end every case
// either working or in DEVICE_NEEDS_RESET with a VirtioError, never with another exception,
// and must never pass on a frame outside the Ethernet limits or a used index past the ring.
// `fuzzVirtioNet(count, seed)` is what `npm run fuzz` calls; VirtioNet.test.ts runs 1,000 cases.
import {
  ETHERNET_HEADER_BYTES,
  MAX_FRAME_BYTES,
  NET_HDR_BYTES,
  NET_RECEIVEQ,
  NET_TRANSMITQ,
  STATUS_DEVICE_NEEDS_RESET,
  VIRTIO_F_VERSION_1,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_STATUS,
  VirtioError,
  VirtioNet,
} from '../../src/machine/virtio/index.ts';
import { DEFAULT_BASE as BASE, FakeVirtioDriver, REG, type Buf } from './FakeVirtioDriver.ts';
import { SeededRandom, mix32 } from '../SeededRandom.ts';

export interface VirtioNetFuzzStats {
  cases: number;
  /** Cases that ended with the device refusing its driver (DEVICE_NEEDS_RESET). */
  needsReset: number;
  framesSent: number;
  framesReceived: number;
  /** One line per case that broke a rule; empty when the device held. */
  failures: string[];
}

const RAM = 256 * 1024;
const QSIZE = 16;
const BUFFERS = 0x40000 / 2;

function randomBuf(rnd: SeededRandom, write: boolean): Buf {
  const addr = rnd.chance(0.97)
    ? BASE + BUFFERS + rnd.below(RAM - BUFFERS)
    : rnd.pick([0, BASE - 1, BASE + RAM - 4, BASE + RAM, 2 ** 52, 2 ** 32 * 0xffff_ffff]);
  const len = rnd.weighted({ hdr: 2, frame: 6, any: 2 }) === 'hdr'
    ? NET_HDR_BYTES
    : rnd.chance(0.7) ? rnd.int(0, NET_HDR_BYTES + MAX_FRAME_BYTES + 2) : rnd.u32();
  const b: Buf = { addr, len, write };
  if (rnd.chance(0.02)) b.flags = rnd.below(8);
  if (rnd.chance(0.02)) b.next = rnd.chance(0.5) ? rnd.below(QSIZE) : rnd.below(0x10000);
  return b;
}

function randomFrame(rnd: SeededRandom): Uint8Array {
  const f = new Uint8Array(rnd.chance(0.9) ? rnd.int(0, MAX_FRAME_BYTES + 4) : rnd.int(0, 70_000));
  for (let i = 0; i < Math.min(f.length, 64); i++) f[i] = rnd.u32() & 0xff;
  return f;
}

export function fuzzVirtioNet(count: number, seed: number): VirtioNetFuzzStats {
  const stats: VirtioNetFuzzStats = { cases: 0, needsReset: 0, framesSent: 0, framesReceived: 0, failures: [] };
  for (let c = 0; c < count; c++) {
    const rnd = new SeededRandom(mix32(seed + c));
    const where = `case ${c} (seed ${seed})`;
    stats.cases++;
    try {
      const d = new FakeVirtioDriver(new VirtioNet(Uint8Array.of(0x52, 0x54, 0, 1, 2, 3), { queueSize: QSIZE }), { ramSize: RAM, queueSize: QSIZE });
      for (let i = 0; i < 2000; i++) d.ram[BUFFERS + rnd.below(RAM - BUFFERS)] = rnd.u32() & 0xff;
      d.device.onTransmit = (f) => {
        if (f.length < ETHERNET_HEADER_BYTES || f.length > MAX_FRAME_BYTES) stats.failures.push(`${where}: a ${f.length}-byte frame was passed on`);
        stats.framesSent++;
      };
      d.start(VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS);
      const steps = rnd.int(1, 40);
      for (let s = 0; s < steps; s++) {
        switch (rnd.weighted({ tx: 4, rx: 3, deliver: 4, avail: 0.3, reset: 0.3 })) {
          case 'tx': {
            const bufs = Array.from({ length: rnd.int(1, 4) }, () => randomBuf(rnd, rnd.chance(0.02)));
            d.submit(NET_TRANSMITQ, bufs, rnd.chance(0.9));
            break;
          }
          case 'rx': {
            const bufs = Array.from({ length: rnd.int(1, 3) }, () => randomBuf(rnd, rnd.chance(0.98)));
            d.submit(NET_RECEIVEQ, bufs, rnd.chance(0.9));
            break;
          }
          case 'deliver':
            d.device.receive(randomFrame(rnd));
            break;
          case 'avail':
            d.setAvailIdx(rnd.below(2), rnd.below(0x10000));
            d.kick(rnd.below(3));
            break;
          case 'reset':
            d.set(REG.status, 0);
            d.start(VIRTIO_F_VERSION_1 | VIRTIO_NET_F_MAC);
            break;
        }
        d.t.service(BigInt(s));
      }
      stats.framesReceived += d.device.stats.rxFrames;
      if (d.reg(REG.status) & STATUS_DEVICE_NEEDS_RESET) {
        stats.needsReset++;
        const e = d.failures[d.failures.length - 1];
        if (!(e instanceof VirtioError)) stats.failures.push(`${where}: NEEDS_RESET without a VirtioError (${String(e)})`);
      }
      for (const q of [NET_RECEIVEQ, NET_TRANSMITQ]) {
        for (let i = 0; i < QSIZE; i++) {
          const { id } = d.usedEntry(q, i);
          if (id >= QSIZE) stats.failures.push(`${where}: used ring ${q} slot ${i} names descriptor ${id}`);
        }
      }
    } catch (e) {
      stats.failures.push(`${where}: ${(e as Error)?.stack ?? String(e)}`);
    }
  }
  return stats;
}
