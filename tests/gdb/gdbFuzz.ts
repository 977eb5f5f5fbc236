// The gdb stub's input is whatever connects to its port: random and mutated byte streams
// (packets of every command with random arguments, bad checksums, truncated frames,
// garbage, Ctrl-C) go to a GdbStub over a guest that loops forever, while the host loop
// runs the guest whenever the stub lets it. Nothing may throw, every byte the stub sends
// must be an ack or a well-formed packet, and nothing outside RAM may change (the reset
// ROM is compared after every case).
import { GdbStub } from '../../src/gdb/GdbStub.ts';
import { framePacket, RspFraming } from '../../src/gdb/RspFraming.ts';
import { RAM_BASE } from '../../src/machine/Core.ts';
import { SeededRandom } from '../SeededRandom.ts';
import { loopingVm } from './loopingGuest.ts';

const HEX = '0123456789abcdef';

export interface GdbFuzzStats {
  cases: number;
  packets: number;
  replies: number;
  stops: number;
  failures: string[];
}

function hexText(r: SeededRandom, max: number): string {
  return r.text(r.int(0, max), HEX);
}

/** An address that is often in RAM, sometimes in ROM or devices, sometimes anything. */
function address(r: SeededRandom): string {
  switch (r.below(4)) {
    case 0:
      return (RAM_BASE + BigInt(r.below(0x2000))).toString(16);
    case 1:
      return r.below(0x1_0000).toString(16);
    case 2:
      return (0x1000_0000 + r.below(0x9000)).toString(16);
    default:
      return hexText(r, 24);
  }
}

function randomPacket(r: SeededRandom): string {
  switch (r.below(22)) {
    case 0: return 'g';
    case 1: return `G${hexText(r, 33 * 16 + 4)}`;
    case 2: return `p${r.chance(0.8) ? r.below(4200).toString(16) : hexText(r, 10)}`;
    case 3: return `P${r.below(4200).toString(16)}=${hexText(r, 18)}`;
    case 4: return `m${address(r)},${r.chance(0.9) ? r.below(0x200).toString(16) : hexText(r, 20)}`;
    case 5: {
      const len = r.below(16);
      return `M${address(r)},${(r.chance(0.9) ? len : r.below(40)).toString(16)}:${r.text(len * 2, HEX)}`;
    }
    case 6:
    case 7: return `${r.chance(0.5) ? 'Z' : 'z'}${r.below(6)},${address(r)},${r.below(12).toString(16)}`;
    case 8: return r.chance(0.7) ? 'c' : `c${address(r)}`;
    case 9: return r.chance(0.7) ? 's' : `s${address(r)}`;
    case 10: return r.pick(['vCont?', 'vCont;c', 'vCont;s:1', 'vCont;c:2;s:1', 'vCont;t', 'vCont;', 'vKill;1', 'vMustReplyEmpty', 'vFoo']);
    case 11: return `H${r.pick(['g', 'c', 'x'])}${r.pick(['0', '-1', '1', '2', 'p1.1', hexText(r, 6)])}`;
    case 12: return `T${r.pick(['1', '0', '-1', '9', hexText(r, 4)])}`;
    case 13: return r.pick(['qSupported:multiprocess+;swbreak+', 'qC', 'qfThreadInfo', 'qsThreadInfo', 'qAttached', 'qSymbol::', 'qOffsets', 'qTStatus']);
    case 14: return `qXfer:features:read:${r.pick(['target.xml', 'x.xml', ''])}:${hexText(r, 6)},${hexText(r, 6)}`;
    case 15: return `qThreadExtraInfo,${r.pick(['1', '2', '0', hexText(r, 5)])}`;
    case 16: return r.pick(['QStartNoAckMode', 'QNonStop:1', 'Qfoo']);
    case 17: return '?';
    case 18: return r.chance(0.2) ? 'D' : '?';
    case 19: return r.chance(0.1) ? 'k' : 'g';
    case 20: return `X${address(r)},4:${r.text(4, 'ab}#$*\x00\xff')}`;
    default: return r.text(r.int(0, 40), 'gGpPmMzZcsvHTqQ?Dk0123456789abcdef,:;=#$}*\x03');
  }
}

/** The bytes gdb might send: a packet, maybe damaged, or noise. */
function randomBytes(r: SeededRandom): Uint8Array {
  const frame = framePacket(randomPacket(r));
  switch (r.below(8)) {
    case 0: { // a bad checksum
      const b = frame.slice();
      b[b.length - 1] = HEX.charCodeAt(r.below(16));
      return b;
    }
    case 1: return frame.subarray(0, r.below(frame.length)); // cut short: the next bytes continue it
    case 2: return Uint8Array.from({ length: r.below(64) }, () => r.below(256)); // noise
    case 3: return Uint8Array.of(0x03);
    case 4: return Uint8Array.of(0x2b); // a stray ack
    default: return frame;
  }
}

/** Checks that `bytes` is a sequence of acks and valid `$...#cc` packets. */
function wellFormed(bytes: Uint8Array): string | undefined {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === 0x2b || b === 0x2d) {
      i++;
      continue;
    }
    if (b !== 0x24) return `byte 0x${b.toString(16)} at ${i} is neither an ack nor a packet start`;
    const end = bytes.indexOf(0x23, i);
    if (end < 0 || end + 3 > bytes.length) return `packet at ${i} has no #cc`;
    const events = new RspFraming().feed(bytes.subarray(i, end + 3));
    if (events.length !== 1 || events[0]!.kind !== 'packet') return `packet at ${i} does not check: ${Buffer.from(bytes.subarray(i, end + 3)).toString('latin1')}`;
    i = end + 3;
  }
  return undefined;
}

export async function fuzzGdbPackets(count: number, seed: number): Promise<GdbFuzzStats> {
  const stats: GdbFuzzStats = { cases: 0, packets: 0, replies: 0, stops: 0, failures: [] };
  const r = new SeededRandom(seed);
  const CASES_PER_VM = 100;
  for (let base = 0; base < count; base += CASES_PER_VM) {
    // The ROM filled with a pattern: the fuzzer checks that nothing the stub does changes it.
    const vm = await loopingVm({ load: (core) => core.rom.fill(0x5a) });
    const rom = vm.core.rom.slice();
    const sent: Uint8Array[] = [];
    const stub = new GdbStub(vm, { send: (b) => sent.push(b.slice()), kill: () => stub.detach() }, { startHalted: true });
    stub.attach();
    for (let c = base; c < Math.min(count, base + CASES_PER_VM); c++) {
      stats.cases++;
      sent.length = 0;
      const input = randomBytes(r);
      try {
        stub.receive(input);
        stats.packets++;
        // The host's loop: run while the stub lets the guest run.
        for (let slice = 0; slice < 3 && !stub.halted; slice++) {
          if (stub.afterRun(vm.runUntil({ maxInsns: BigInt(r.int(1, 2000)), maxMs: Infinity }))) stats.stops++;
        }
        if (!stub.attached) stub.attach();
      } catch (e) {
        stats.failures.push(`case ${c} (seed ${seed}): ${JSON.stringify(Buffer.from(input).toString('latin1'))} threw ${(e as Error).stack ?? e}`);
        continue;
      }
      const out = Uint8Array.from(sent.flatMap((b) => [...b]));
      stats.replies += sent.length;
      const bad = wellFormed(out);
      if (bad) stats.failures.push(`case ${c} (seed ${seed}): ${JSON.stringify(Buffer.from(input).toString('latin1'))}: reply ${bad}`);
      if (!vm.core.rom.every((b, i) => b === rom[i])) {
        stats.failures.push(`case ${c} (seed ${seed}): ${JSON.stringify(Buffer.from(input).toString('latin1'))} changed the reset ROM`);
        rom.set(vm.core.rom);
      }
    }
    await vm.dispose();
  }
  return stats;
}
