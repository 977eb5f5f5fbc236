/**
 * A disk whose every request waits `delay()` host milliseconds before it reaches the real
 * one, so requests are in flight (and complete at host-chosen times) while a test drives
 * the guest. `onRead` counts completed reads.
 */
import type { VhdDisk } from '../../src/disk/index.ts';
import type { BlockDevice } from '../../src/machine/virtio/index.ts';

export function delayedDisk(disk: VhdDisk, delayMs: () => number, onRead?: () => void): BlockDevice {
  const later = () => new Promise<void>((r) => setTimeout(r, delayMs()));
  return {
    get size() {
      return disk.size;
    },
    get readOnly() {
      return disk.readOnly;
    },
    read: async (o, l) => {
      await later();
      const data = await disk.read(o, l);
      onRead?.();
      return data;
    },
    write: async (o, d) => {
      await later();
      return disk.write(o, d);
    },
    flush: async () => {
      await later();
      return disk.flush();
    },
  };
}
