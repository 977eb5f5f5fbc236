/**
 * How a guest gets into a fresh machine. The Vm does not know what it boots: the caller
 * hands it a loader (src/boot/ has Linux behind the reset ROM and OpenSBI, and bare-metal
 * ELF programs; a raw `-bios none` kernel is one more loader), so src/machine/ never
 * imports src/boot/.
 */
import type { Core } from './Core.ts';

export interface GuestLoader {
  /**
   * Fills a newly instantiated core's RAM and reset ROM and sets the hart where the guest
   * starts (pc, and whatever else it expects: a0/a1, a `tohost` word). Called once, before
   * the first run. Throws a CodedError when the images do not fit the machine.
   */
  load(core: Core): void;
}
