/**
 * virtio-console (virtio 1.x §5.3) with one port and the size feature: the guest's hvc0.
 * What the guest writes arrives on the transmitq and goes to `onOutput` as soon as the
 * transport hands the queue over (between slices, right after the kick): Linux's hvc
 * console spins until its buffer comes back, so a transmit is answered at once. Keyboard
 * input fills the buffers the driver left on the receiveq, when the host delivers it
 * (`input`), which the Vm does at the same points as for the UART.
 *
 * VIRTIO_CONSOLE_F_SIZE: the terminal's columns and rows are in the configuration space
 * (cols u16 @0, rows u16 @2, max_nr_ports u32 @4); `resize` changes them and raises a
 * configuration-change interrupt, on which Linux resizes the tty (and the shell gets
 * SIGWINCH). Linux reads the size only on that interrupt, so the device raises one when the
 * console first transmits too, by which time the driver has created its port.
 *
 * Every chain is checked by Virtqueue; a device-writable buffer on the transmitq or a
 * device-readable one on the receiveq is a hostile driver: DEVICE_NEEDS_RESET.
 */
import type { Virtqueue } from './Virtqueue.ts';
import type { VirtioDevice, VirtioDeviceHost } from './Types.ts';
import { VirtioError } from './VirtioError.ts';
import { VIRTIO_F_VERSION_1 } from './VirtioMmioTransport.ts';

export const VIRTIO_ID_CONSOLE = 3;
/** Feature bit (§5.3.3): cols and rows in the configuration space are valid. */
export const VIRTIO_CONSOLE_F_SIZE = 1n << 0n;
/** Queue indices (§5.3.2) of port 0. */
export const CONSOLE_RECEIVEQ = 0;
export const CONSOLE_TRANSMITQ = 1;

const CONFIG_BYTES = 8;
const DEFAULT_QUEUE_SIZE = 64;
/** Bytes of one transmit chain passed on at most; the rest are dropped (host memory guard). */
export const MAX_TRANSMIT_BYTES = 1024 * 1024;
/** The terminal size the device starts with, and the one deterministic runs keep. */
export const DEFAULT_CONSOLE_SIZE = { cols: 80, rows: 24 } as const;

export interface ConsoleSize {
  cols: number;
  rows: number;
}

export interface VirtioConsoleStats {
  bytesOut: number;
  bytesIn: number;
  /** Transmitted bytes beyond MAX_TRANSMIT_BYTES in one chain, not passed on. */
  dropped: number;
  resizes: number;
}

/** Whether `n` is a size the configuration space can carry (1..65535). */
const validDimension = (n: number) => Number.isInteger(n) && n >= 1 && n <= 0xffff;

export class VirtioConsole implements VirtioDevice {
  readonly deviceId = VIRTIO_ID_CONSOLE;
  readonly features = VIRTIO_F_VERSION_1 | VIRTIO_CONSOLE_F_SIZE;
  readonly queueSizes: readonly number[];
  readonly config = new Uint8Array(CONFIG_BYTES);
  readonly stats: VirtioConsoleStats = { bytesOut: 0, bytesIn: 0, dropped: 0, resizes: 0 };
  /** Receives every byte the guest writes to the console. */
  onOutput: ((bytes: Uint8Array) => void) | undefined;
  private host: VirtioDeviceHost | undefined;
  /** Whether the size was announced (configuration change) since the last reset. */
  private announced = false;
  private readonly view = new DataView(this.config.buffer);

  constructor(size: ConsoleSize = DEFAULT_CONSOLE_SIZE, opts: { queueSize?: number } = {}) {
    const queueSize = opts.queueSize ?? DEFAULT_QUEUE_SIZE;
    if (!Number.isInteger(queueSize) || queueSize < 2 || queueSize > 32768 || (queueSize & (queueSize - 1)) !== 0) {
      throw new RangeError(`virtio-console: queue size ${queueSize} is not a power of two from 2 to 32768`);
    }
    this.queueSizes = [queueSize, queueSize];
    this.setConfig(size);
    this.view.setUint32(4, 1, true); // max_nr_ports: meaningful only with MULTIPORT, which is not offered
  }

  attach(host: VirtioDeviceHost): void {
    this.host = host;
  }

  /** The size the configuration space says. */
  get size(): ConsoleSize {
    return { cols: this.view.getUint16(0, true), rows: this.view.getUint16(2, true) };
  }

  private setConfig({ cols, rows }: ConsoleSize): void {
    if (!validDimension(cols) || !validDimension(rows)) throw new RangeError(`virtio-console: size ${cols}x${rows} is not 1..65535 columns by 1..65535 rows`);
    this.view.setUint16(0, cols, true);
    this.view.setUint16(2, rows, true);
  }

  /** Changes the terminal size; the guest is told by a configuration-change interrupt. */
  resize(size: ConsoleSize): void {
    const old = this.size;
    this.setConfig(size);
    if (old.cols === size.cols && old.rows === size.rows) return;
    this.stats.resizes++;
    this.host?.configChanged();
  }

  reset(): void {
    this.announced = false;
  }

  /** What a machine state keeps: whether the size was announced, and the size. */
  captureState(): { announced: boolean; size: ConsoleSize } {
    return { announced: this.announced, size: this.size };
  }

  applyState(s: { announced: boolean; size: ConsoleSize }): void {
    this.setConfig(s.size);
    this.announced = s.announced;
  }

  process(index: number, queue: Virtqueue, host: VirtioDeviceHost): boolean {
    if (index === CONSOLE_TRANSMITQ) {
      for (let chain = queue.pop(); chain; chain = queue.pop()) {
        if (chain.writable.length > 0) {
          throw new VirtioError('bad-descriptor', `virtio-console: transmit chain at descriptor ${chain.head} has a device-writable buffer`);
        }
        const n = Math.min(chain.readableBytes, MAX_TRANSMIT_BYTES);
        this.stats.dropped += chain.readableBytes - n;
        const bytes = host.memory.gather(chain.readable, 0, n);
        host.putUsed(index, chain.head, 0, host.epoch);
        if (bytes.length) {
          this.stats.bytesOut += bytes.length;
          this.onOutput?.(bytes);
        }
      }
      if (!this.announced) {
        this.announced = true;
        host.configChanged();
      }
    }
    // Receive buffers stay in the ring until there is input (`input`).
    return false;
  }

  /** Whether the driver is up and has left receive buffers: input now goes to the guest. */
  get ready(): boolean {
    return this.host?.liveQueue(CONSOLE_RECEIVEQ) !== undefined;
  }

  /**
   * Whether the guest uses this console: it is live and has written to it since the last
   * reset (a guest with another console leaves it alone, and its input goes elsewhere).
   */
  get inUse(): boolean {
    return this.announced && this.ready;
  }

  /**
   * Copies `bytes` into the receive buffers the driver made available and returns how many
   * fitted (0 when the driver is not ready or has left no buffer).
   */
  input(bytes: Uint8Array): number {
    const host = this.host;
    const queue = host?.liveQueue(CONSOLE_RECEIVEQ);
    if (!host || !queue) return 0;
    let done = 0;
    try {
      while (done < bytes.length) {
        const chain = queue.pop();
        if (!chain) break;
        if (chain.readable.length > 0) {
          throw new VirtioError('bad-descriptor', `virtio-console: receive chain at descriptor ${chain.head} has a device-readable buffer`);
        }
        const n = host.memory.scatter(chain.writable, bytes.subarray(done));
        host.putUsed(CONSOLE_RECEIVEQ, chain.head, n, host.epoch);
        done += n;
      }
    } catch (e) {
      if (!(e instanceof VirtioError)) throw e;
      host.fail(e);
    }
    this.stats.bytesIn += done;
    return done;
  }
}
