/**
 * One guest machine, independent of where it runs (a Web Worker in the page, the node CLI,
 * tests): the core, its devices, the console, and the two time modes.
 *
 * - realtime: mtime follows the host clock; console input is delivered as soon as it
 *   arrives; when the guest waits for an interrupt, the host sleeps until the timer is due.
 * - deterministic: mtime follows the instruction count; input is delivered only when the
 *   guest is idle (WFI), so it lands on the same instruction on every run; an idle guest
 *   jumps straight to its next timer deadline. The same inputs give the same console bytes.
 *
 * Devices with asynchronous work (virtio-blk over a Promise-based disk) never complete
 * inside the core's MMIO callbacks: between slices the Vm hands kicked queues to the devices
 * and applies completions as its CompletionScheduler allows (as soon as settled in
 * realtime; a fixed instruction count after submission in deterministic mode). runUntil()
 * stays synchronous; the host awaits `pendingWork()` between calls when the guest idles
 * (GuestLoop does that for the page's worker and the CLI).
 *
 * `runUntil` is the one run loop: the page's worker, `romvisor boot`, `romvisor run-elf` and
 * the debugger (VmInspector) all run the guest through it, so slices, idle points, device
 * work and debugger stops behave the same everywhere.
 */
import { Core, RAM_BASE, StopReason, type MmioHandler } from './Core.ts';
import type { GuestLoader } from './GuestLoader.ts';
import { VirtioMmioBus } from './VirtioMmioBus.ts';
import { VIRTIO_SLOTS, virtioIrq } from './physicalMap.ts';
import { TIMEBASE_HZ } from '../../wasm/machineMap.ts';
import { CompletionScheduler, GuestMemory, Virtio9p, VirtioBlk, VirtioConsole, VirtioMmioTransport, VirtioNet, type BlkCompletion, type BlockDevice, type ConsoleSize, type NinePHandler, type VirtioBlkOptions } from './virtio/index.ts';
import { DETERMINISTIC_EPOCH_MS, type TimeMode } from './TimeMode.ts';
import { hex } from '../format/hex.ts';
import { privilegeOf } from '../inspect/privilege.ts';
import type { JitMode } from '../jit/Jit.ts';
import { StateError } from '../state/StateError.ts';
import { RAM_PAGE, shapeDifference, type DeviceState, type RamImage, type VmShape, type VmState } from './VmState.ts';
import { hexBytes } from '../format/hexBytes.ts';

export type { TimeMode } from './TimeMode.ts';

export interface VmConfig {
  ramBytes: number;
  /** Harts, 1..8 (default 1): one core runs them in turns (wasm/cpu/harts.ts). */
  harts?: number;
  timeMode: TimeMode;
  /** Puts the guest into the new machine: Linux, a bare-metal program, ... (see GuestLoader). */
  boot: GuestLoader;
  /** Disks on virtio-blk, in the order Linux names them: /dev/vda, /dev/vdb, ... */
  disks?: VmDisk[];
  /**
   * A virtio-console of this size (columns, rows) on virtio slot 0, Linux's hvc0: a guest
   * booted with `console=hvc0` knows its terminal's size and
   * follows `resizeConsole`. Its output joins the UART's; input goes to it once the guest
   * has written to it, or from the start with `guestConsole: 'virtio'`.
   */
  console?: ConsoleSize;
  /**
   * The console the guest's shell uses, when its command line says (`guestConsoleOf`):
   * 'virtio' holds input typed during boot until the virtio console can take it, instead
   * of handing it to a UART nobody will read.
   */
  guestConsole?: 'virtio' | 'uart';
  /**
   * A virtio-net card with this MAC on virtio slot 1 (Linux's eth0). The host connects it:
   * `netDevice.onTransmit` takes the guest's frames, `netDevice.receive` (between runs) gives
   * it frames.
   */
  net?: { mac: Uint8Array };
  /**
   * A shared folder on virtio-9p with the mount tag `host` (the appliances mount it at
   * /mnt/host): the 9P server that answers for it (NinePServer over a ShareBackend). The
   * device exists only when this is given. The Vm does not own it.
   */
  share?: NinePHandler;
  /**
   * Ends a run with 'crashed' when the hart repeats one exception (default true). Off for
   * bare-metal programs, which may loop on a fault until their budget, as under QEMU.
   */
  detectCrash?: boolean;
  /** The JIT tier: 'off', 'auto' (default) or 'eager' (src/jit/Jit.ts). */
  jit?: JitMode;
}

/** A disk of the guest. The Vm does not own it: whoever opened it flushes and disposes it, after `vm.dispose()`. */
export interface VmDisk extends VirtioBlkOptions {
  disk: BlockDevice;
  /**
   * The virtio-mmio slot (0 = 0x1000_1000 on IRQ 1, as QEMU's `bus=virtio-mmio-bus.0`);
   * by default the highest free one, where Linux looks first.
   */
  slot?: number;
}

/** What `runUntil` may stop on besides its limits. */
export interface RunOptions {
  /** Host time to run for, in ms: at least one slice (default 0: one slice). */
  maxMs?: number;
  /** Instructions to run at most; the last slice is shortened to end exactly there. */
  maxInsns?: bigint;
  /** A debugger stop besides the breakpoint: right after a trap is taken, or after the privilege mode changes. */
  stopOn?: 'trap' | 'priv';
  /**
   * What an idle hart (WFI) does. 'return' (default): the run returns as the time mode says.
   * 'skip': guest time jumps to the next timer deadline and the run goes on in either time
   * mode (a debugger or a bare-metal program does not wait on the host clock); it still
   * returns idle when nothing can wake the hart, when the hart waits for device work still
   * running on the host, or when `maxInsns` ends on the WFI.
   */
  idle?: 'return' | 'skip';
  /**
   * Deterministic time: the guest time (mtime, timebase ticks) an idle hart jumps to at
   * most. An idle hart whose timer is due later stops there and the run returns idle with
   * `wakeInMs` 0: guests in lockstep (a network) wait for each other at quantum ends.
   */
  timeLimit?: bigint;
}

/** What a call to `runUntil` ended with. */
export type RunOutcome =
  /** `maxMs` is over, or a slice ended with device work in flight (the host should let it progress). */
  | { kind: 'running' }
  /** `maxInsns` instructions ran. */
  | { kind: 'budget' }
  /**
   * The guest waits for an interrupt, or (deterministic mode) for device work it must see on
   * a fixed instruction: call again after `wakeInMs`, on input, or when `pendingWork()`
   * settles, whichever comes first (undefined: only input or device work can wake it).
   */
  | { kind: 'idle'; wakeInMs: number | undefined }
  /** The guest ended: the test device's poweroff or fail (with its code), or a bare-metal program's `tohost` word. */
  | { kind: 'poweroff'; by: 'poweroff' | 'fail' | 'htif'; value: bigint }
  | { kind: 'reboot' }
  /** A debugger stop the core was asked for: a breakpoint, a trap or a privilege change. */
  | { kind: 'debug'; reason: 'breakpoint' | 'trap' | 'priv' }
  /** A host watchpoint (Core.setHostTrigger) matched `address`, before the access: it has not happened. */
  | { kind: 'debug'; reason: 'watchpoint'; address: bigint }
  /** The guest is stuck in a loop of exceptions (it executes garbage, or its trap handler
   *  faults): it will never make progress again. */
  | { kind: 'crashed'; report: CrashReport };

export interface CrashReport {
  pc: bigint;
  priv: 'U' | 'S' | 'M';
  instructions: bigint;
  lastTrap: { cause: bigint; pc: bigint; tval: bigint; count: bigint };
}

/**
 * A hart that takes this many identical exceptions in a row (same pc, cause and tval, no
 * interrupt between) makes no progress: it executes garbage, or its handler faults and
 * returns to the same fault. Software that works never repeats a fault without fixing its
 * cause; ecalls and breakpoints are left out, as a loop of system calls is legitimate.
 */
const CRASH_REPEATS = 64;
const CAUSE_BREAKPOINT = 3n;
const ECALL_CAUSES = [8n, 9n, 11n];
/**
 * Which console a Linux command line makes the guest's /dev/console (its last `console=`):
 * 'virtio' for the virtio console, 'uart' for ttyS0. The virtio console is hvc0 on the
 * appliance kernel (built without the SBI hvc console); hvc1 on the kernel of appliances
 * made before that, where the SBI console took hvc0 (their disks keep that kernel).
 */
export function guestConsoleOf(bootargs: string): 'virtio' | 'uart' | undefined {
  const all = [...bootargs.matchAll(/(?:^|\s)console=(\S+)/g)].map((m) => m[1]!);
  const last = all[all.length - 1];
  if (last === undefined) return undefined;
  if (/^hvc[01](,|$)/.test(last)) return 'virtio';
  if (/^ttyS0(,|$)/.test(last)) return 'uart';
  return undefined;
}

/** The virtio slot of the console: the lowest, as disks take slots from the highest down. */
const CONSOLE_SLOT = 0;
/** The network card's slot, next to the console's. */
const NET_SLOT = 1;
/** virtio-mmio QueueNotify register offset (virtio 1.x §4.2.2). */
const QUEUE_NOTIFY = 0x050n;
/**
 * Instructions per core.run() call: small enough to keep the host responsive, and to pick
 * up a virtqueue notify soon (the core cannot stop on one, so kicks wait for the slice end).
 */
const SLICE = 250_000;
/**
 * Deterministic time with several harts: console input may also be taken at every multiple
 * of this many instructions where some hart sleeps in WFI (see slices()), not only when all
 * do. A hart the kernel never started waits in the firmware's WFI loop with an IPI pending
 * (OpenSBI's HSM wait, exactly as under QEMU), so it spins and the whole machine never idles.
 */
const INPUT_GRID = 100_000;
/** Timebase ticks per millisecond. */
const TICKS_PER_MS = TIMEBASE_HZ / 1000;

export class Vm {
  readonly core: Core;
  readonly timeMode: TimeMode;
  private readonly detectCrash: boolean;
  private readonly pendingInput: number[] = [];
  /** Host time (performance.now) at guest time 0, for realtime mode; a restore moves it. */
  private startMs: number;
  private consoleListener: ((bytes: Uint8Array) => void) | undefined;
  /** When asynchronous device work becomes visible to the guest. */
  readonly completions: CompletionScheduler;
  private readonly memory: GuestMemory;
  private readonly transports: VirtioMmioTransport[] = [];
  private readonly usedSlots = new Set<number>();
  /** Every virtio transport by slot, for machine states. */
  private readonly slotTransports = new Map<number, VirtioMmioTransport>();
  /** virtio-blk devices, in the order of `VmConfig.disks`. */
  readonly blockDevices: VirtioBlk[] = [];
  /** The virtio-9p device of `VmConfig.share`. */
  readonly shareDevice: Virtio9p | undefined;
  /** The virtio-console on slot 0, when `VmConfig.console` asked for one. */
  readonly consoleDevice: VirtioConsole | undefined;
  private readonly consoleTransport: VirtioMmioTransport | undefined;
  /** The virtio-net card on slot 1, when `VmConfig.net` asked for one. */
  readonly netDevice: VirtioNet | undefined;
  private readonly netTransport: VirtioMmioTransport | undefined;
  /** Input waits for the virtio console rather than going to the UART. */
  private readonly inputToVirtio: boolean;
  /**
   * The virtio console is in use and the hart has since been idle: its driver finished
   * setting the port up (Linux drops input that arrives before), so input may go to it.
   */
  private consoleSettled = false;
  /**
   * Set by the host (also from inside a run, e.g. when a console script step passes): the
   * run returns at the next WFI of the whole machine before anything is done about it
   * (input taken, time skipped), as idle with `wakeInMs` 0, and `isHeldAtWfi` says so.
   * That is where console input lands: a machine state taken there and given the next
   * input takes it on the instruction an uninterrupted run would. The next run first does
   * what the WFI would have done.
   */
  holdNextWfi = false;
  /** The last run stopped at a WFI before handling it (holdNextWfi); the next run handles it first. */
  private heldAtWfi = false;

  private constructor(core: Core, cfg: VmConfig, readonly bus: VirtioMmioBus) {
    this.core = core;
    this.timeMode = cfg.timeMode;
    this.detectCrash = cfg.detectCrash ?? true;
    this.startMs = performance.now();
    // Realtime: mtime never runs ahead of the host's clock however fast the guest runs.
    if (cfg.timeMode === 'realtime') core.setRealtimeClock(true);
    this.setWallClock(cfg.timeMode === 'deterministic' ? DETERMINISTIC_EPOCH_MS : Date.now());
    this.completions = new CompletionScheduler(cfg.timeMode);
    // Device writes into RAM discard compiled code translated from those bytes.
    this.memory = new GuestMemory(core.ram, Number(RAM_BASE), (offset, length) => core.ramWritten(offset, length));
    this.inputToVirtio = cfg.console !== undefined && cfg.guestConsole === 'virtio';
    if (cfg.console) {
      const con = new VirtioConsole(cfg.console);
      con.onOutput = (bytes) => this.consoleListener?.(bytes);
      const transport = new VirtioMmioTransport(con, this.memory, (level) => this.core.setIrq(virtioIrq(CONSOLE_SLOT), level));
      bus.attach(CONSOLE_SLOT, transport);
      this.slotTransports.set(CONSOLE_SLOT, transport);
      this.consoleDevice = con;
      this.consoleTransport = transport;
    }
    if (cfg.net) {
      const net = new VirtioNet(cfg.net.mac);
      const transport = new VirtioMmioTransport(net, this.memory, (level) => this.core.setIrq(virtioIrq(NET_SLOT), level));
      bus.attach(NET_SLOT, transport);
      this.slotTransports.set(NET_SLOT, transport);
      this.netDevice = net;
      this.netTransport = transport;
    }
    for (const d of cfg.disks ?? []) this.addBlockDevice(d);
    if (cfg.share) {
      const slot = this.freeSlot('a shared folder');
      this.shareDevice = new Virtio9p(cfg.share, this.completions);
      this.attachTransport(slot, this.shareDevice);
    }
  }

  /** The next free virtio slot, counting down from the last (see addBlockDevice). */
  /**
   * The slot `wanted`, if it is free, or else the highest free slot above the console's and
   * the network's (Linux probes the highest address first).
   */
  private freeSlot(what: string, wanted?: number): number {
    const used = (s: number) =>
      this.usedSlots.has(s) || (this.consoleDevice !== undefined && s === CONSOLE_SLOT) || (this.netDevice !== undefined && s === NET_SLOT);
    if (wanted !== undefined) {
      if (!(Number.isInteger(wanted) && wanted >= 0 && wanted < VIRTIO_SLOTS) || used(wanted)) {
        throw new RangeError(`virtio slot ${wanted} for ${what} is taken or does not exist (0..${VIRTIO_SLOTS - 1})`);
      }
      return wanted;
    }
    const floor = this.netDevice ? NET_SLOT + 1 : this.consoleDevice ? CONSOLE_SLOT + 1 : 0;
    for (let slot = VIRTIO_SLOTS - 1; slot >= floor; slot--) if (!used(slot)) return slot;
    throw new RangeError(`no free virtio slot for ${what} (all ${VIRTIO_SLOTS} in use)`);
  }

  private attachTransport(slot: number, device: VirtioBlk | Virtio9p): void {
    const transport = new VirtioMmioTransport(device, this.memory, (level) => this.core.setIrq(virtioIrq(slot), level));
    this.bus.attach(slot, transport);
    this.slotTransports.set(slot, transport);
    this.transports.push(transport);
    this.usedSlots.add(slot);
  }

  static async create(module: WebAssembly.Module, cfg: VmConfig): Promise<Vm> {
    const slots = VIRTIO_SLOTS - (cfg.console || cfg.net ? 1 : 0) - (cfg.net ? 1 : 0) - (cfg.share ? 1 : 0);
    if ((cfg.disks?.length ?? 0) > slots) throw new RangeError(`${cfg.disks!.length} disks do not fit in ${slots} virtio slots`);
    const bus = new VirtioMmioBus();
    let core: Core | undefined;
    const mmio: MmioHandler = {
      read: (pa, size) => bus.read(pa, size),
      write: (pa, size, value) => {
        bus.write(pa, size, value);
        // A queue kick: stop the slice after this instruction so the device starts the
        // request now rather than up to a slice later (the stop lands on the kick, so
        // deterministic runs stay deterministic).
        if ((pa & 0xfffn) === QUEUE_NOTIFY) core?.stopSoon();
      },
    };
    core = await Core.instantiate(module, { ramBytes: cfg.ramBytes, harts: cfg.harts, mmio, jit: cfg.jit });
    cfg.boot.load(core);
    return new Vm(core, cfg, bus);
  }

  /**
   * Puts a disk on the next free virtio slot, counting down from the last: Linux probes the
   * slots in device-tree order, highest address first, so the first disk becomes /dev/vda
   * (as under QEMU's virt board). Call before the guest's driver probes (before run()).
   */
  addBlockDevice(d: VmDisk): VirtioBlk {
    const slot = this.freeSlot('another disk', d.slot);
    const blk = new VirtioBlk(d.disk, this.completions, d);
    this.attachTransport(slot, blk);
    this.blockDevices.push(blk);
    return blk;
  }

  /**
   * Device work still running on the host (disk reads, writes, flushes): a promise that
   * resolves when some of it settles, so run() can make progress; undefined when none is
   * in flight. Never rejects: a failed disk request is an I/O error for the guest.
   */
  pendingWork(): Promise<void> | undefined {
    return this.completions.whenSettled();
  }

  /**
   * Waits until no device work is running any more (completions not yet seen by the guest
   * are dropped with the machine), so the caller can flush and close the disks.
   */
  async dispose(): Promise<void> {
    this.consoleListener = undefined;
    await this.completions.settleAll();
  }

  /** Receives every byte the guest writes to its console. */
  onConsole(listener: (bytes: Uint8Array) => void): void {
    this.consoleListener = listener;
  }

  /** Queues keyboard input for the guest's console. */
  sendInput(bytes: Uint8Array | string): void {
    const b = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
    for (const x of b) this.pendingInput.push(x);
  }

  /**
   * The terminal's new size, for the guest's virtio-console (a configuration-change
   * interrupt). Ignored in deterministic time, where the size stays what the VM was created
   * with, so that the same inputs still give the same bytes.
   */
  resizeConsole(size: ConsoleSize): void {
    if (this.timeMode === 'deterministic') return;
    this.consoleDevice?.resize(size);
  }

  /** The last run stopped at a WFI it has not handled yet (holdNextWfi). */
  get isHeldAtWfi(): boolean {
    return this.heldAtWfi;
  }

  get hasPendingInput(): boolean {
    return this.pendingInput.length > 0;
  }

  /** Guest time in milliseconds (mtime), the clock deterministic scripts wait on. */
  get guestMs(): number {
    return Number(this.core.mtime) / TICKS_PER_MS;
  }

  /** Hands waiting input to the guest's console; false if none of it could be taken now. */
  private deliverInput(): boolean {
    if (this.pendingInput.length === 0) return false;
    const con = this.consoleDevice;
    if (con && (con.inUse || this.inputToVirtio)) {
      if (!con.inUse) this.consoleSettled = false;
      if (!this.consoleSettled) return false;
      const n = con.input(Uint8Array.from(this.pendingInput));
      this.pendingInput.splice(0, n);
      return n > 0;
    }
    const n = Math.min(this.pendingInput.length, this.core.consoleRxFree);
    if (n === 0) return false;
    this.core.sendConsole(Uint8Array.from(this.pendingInput.splice(0, n)));
    return true;
  }

  private drain(): void {
    const out = this.core.drainConsole();
    if (out.length === 0) return;
    // While the guest's console is the virtio console, what reaches the UART is the kernel's
    // boot console kept alive (`earlycon keep_bootcon`): copies of lines hvc already showed.
    // It speaks again when the virtio console is gone (reset at poweroff: "Power down").
    if (this.consoleDevice?.inUse) return;
    this.consoleListener?.(out);
  }

  /** Hands kicked virtqueues to their devices; true if any device was given work. */
  private serviceDevices(): boolean {
    const con = this.consoleTransport;
    const net = this.netTransport;
    if (this.transports.length === 0 && !con && !net) return false;
    const now = this.core.instructions;
    let started = false;
    if (con?.service(now)) started = true;
    if (net?.service(now)) started = true;
    for (const t of this.transports) if (t.service(now)) started = true;
    return started;
  }

  /** Runs the guest for up to `maxMs` of host time: `runUntil({ maxMs })`. */
  run(maxMs: number): RunOutcome {
    return this.runUntil({ maxMs });
  }

  /**
   * Runs the guest in slices until `maxMs` of host time (at least one slice) or `maxInsns`
   * instructions. Returns early when the guest is idle (see RunOptions.idle), ends (poweroff,
   * reboot, crash) or hits a debugger stop, and after a slice when device work is in
   * flight, so the host can let that work progress (it needs the event loop).
   */
  runUntil(opts: RunOptions = {}): RunOutcome {
    const core = this.core;
    const deadline = performance.now() + (opts.maxMs ?? 0);
    const limit = opts.maxInsns === undefined ? undefined : core.instructions + opts.maxInsns;
    const skipIdle = opts.idle === 'skip';
    const stopOn = opts.stopOn;
    if (stopOn === 'trap') core.stopOnTrap = true;
    else if (stopOn === 'priv') core.stopOnPrivChange = true;
    try {
      return this.slices(deadline, limit, skipIdle, opts.timeLimit);
    } finally {
      if (stopOn === 'trap') core.stopOnTrap = false;
      else if (stopOn === 'priv') core.stopOnPrivChange = false;
    }
  }

  private slices(deadline: number, limit: bigint | undefined, skipIdle: boolean, timeLimit: bigint | undefined): RunOutcome {
    const deterministic = this.timeMode === 'deterministic';
    const io = this.completions;
    const core = this.core;
    if (this.heldAtWfi) {
      // Held at a WFI by the last run (or a state taken there): do now what that WFI would have done.
      this.heldAtWfi = false;
      const idle = this.atWfi(skipIdle, limit, timeLimit);
      if (idle) return idle;
      if (limit !== undefined && core.instructions >= limit) return { kind: 'budget' };
      if (io.pending > 0 || performance.now() >= deadline) return { kind: 'running' };
    }
    for (;;) {
      const now = core.instructions;
      if (io.pending > 0) {
        io.applyDue(now);
        // The next completion is due here and its work is still running: stop on this instruction.
        if (io.blockedAt(now)) return { kind: 'idle', wakeInMs: undefined };
      }
      let budget = SLICE;
      if (limit !== undefined) {
        if (now >= limit) return { kind: 'budget' };
        if (limit - now < BigInt(budget)) budget = Number(limit - now);
      }
      if (deterministic) {
        const due = io.nextDue;
        if (due !== undefined && due > now && due - now < BigInt(budget)) budget = Number(due - now);
        if (core.harts > 1) budget = Math.min(budget, INPUT_GRID - Number(now % BigInt(INPUT_GRID)));
      } else {
        core.syncTime(BigInt(Math.floor((performance.now() - this.startMs) * TICKS_PER_MS)));
        this.deliverInput();
      }
      const trapsBefore = core.trapCount;
      const reason = core.run(budget);
      // Devices first: a console that starts being used in this slice mutes the UART's copy.
      this.serviceDevices();
      this.drain();
      // Several harts: one that idled settles the console even while another hart runs on
      // (a hart parked in the firmware may never let the whole machine idle).
      if (!this.consoleSettled && core.takeHartIdled() && this.consoleDevice?.inUse) this.consoleSettled = true;
      // ...and one sleeping hart takes input at the grid, a point fixed by the instruction count
      // and the machine alone (whatever slices the host asked for), so runs stay replayable.
      if (deterministic && core.harts > 1 && this.pendingInput.length > 0 && core.instructions % BigInt(INPUT_GRID) === 0n && core.hartStates().some((h) => h.sleeping)) {
        this.deliverInput();
      }
      if (this.detectCrash && core.trapCount - trapsBefore >= BigInt(CRASH_REPEATS) && this.inExceptionLoop()) {
        return { kind: 'crashed', report: this.crashReport() };
      }
      switch (reason) {
        case StopReason.Poweroff:
          return { kind: 'poweroff', by: 'poweroff', value: core.stopValue };
        case StopReason.Fail:
          return { kind: 'poweroff', by: 'fail', value: core.stopValue };
        case StopReason.Htif:
          return { kind: 'poweroff', by: 'htif', value: core.stopValue };
        case StopReason.Reboot:
          return { kind: 'reboot' };
        case StopReason.Breakpoint:
          return { kind: 'debug', reason: 'breakpoint' };
        case StopReason.Trap:
          return { kind: 'debug', reason: 'trap' };
        case StopReason.Priv:
          return { kind: 'debug', reason: 'priv' };
        case StopReason.Watchpoint:
          return { kind: 'debug', reason: 'watchpoint', address: core.stopValue };
        case StopReason.Wfi: {
          if (this.holdNextWfi) {
            this.holdNextWfi = false;
            this.heldAtWfi = true;
            return { kind: 'idle', wakeInMs: 0 };
          }
          const idle = this.atWfi(skipIdle, limit, timeLimit);
          if (idle) return idle;
          break;
        }
        default:
          break;
      }
      if (limit !== undefined && core.instructions >= limit) return { kind: 'budget' };
      if (io.pending > 0 || performance.now() >= deadline) return { kind: 'running' };
    }
  }

  /**
   * What the machine does when every hart idles in WFI (run() returned Wfi): settle the
   * console, take input, or idle as the time mode says. Returns the run's outcome when the
   * run ends here.
   */
  private atWfi(skipIdle: boolean, limit: bigint | undefined, timeLimit: bigint | undefined): RunOutcome | undefined {
    const core = this.core;
    if (!this.consoleSettled && this.consoleDevice?.inUse) this.consoleSettled = true;
    if (skipIdle) return this.skipIdle(limit);
    if (this.timeMode === 'deterministic') {
      // Input the console cannot take yet (its driver is not up) waits; the guest idles.
      if (this.deliverInput()) return undefined; // taken: the guest runs on with it
      if (this.idleUntilCompletion()) return undefined;
      // Idle: guest time jumps to the timer deadline. Return to the host here, at a
      // point fixed by the guest, so scripts poll (and `wait` steps end) on the same
      // instruction every run, and a host can tell that the guest went idle.
      return { kind: 'idle', wakeInMs: this.skipTime(timeLimit) ? 0 : undefined };
    }
    if (this.pendingInput.length === 0 || !this.deliverInput()) {
      const d = core.timerDistance;
      if (d > 0n) {
        const ms = Number(d / BigInt(core.insnsPerTick)) / TICKS_PER_MS;
        return { kind: 'idle', wakeInMs: ms > 1e9 ? undefined : ms };
      }
    }
    return undefined;
  }

  /**
   * Deterministic idle: guest time jumps to the timer deadline, or to `timeLimit` when that
   * comes first; false when nothing can wake the hart (no timer armed, no limit).
   */
  private skipTime(timeLimit: bigint | undefined): boolean {
    const core = this.core;
    if (timeLimit !== undefined) {
      const ticksToTimer = (core.timerDistance + BigInt(core.insnsPerTick) - 1n) / BigInt(core.insnsPerTick);
      if (core.mtime + ticksToTimer > timeLimit) {
        core.syncTime(timeLimit);
        return true;
      }
    }
    return core.skipToTimer();
  }

  /**
   * RunOptions.idle 'skip' at a WFI: takes waiting input, a completion due before the timer,
   * or jumps to the timer deadline and goes on (undefined); idle when it cannot go on.
   */
  private skipIdle(limit: bigint | undefined): RunOutcome | undefined {
    const core = this.core;
    if (this.deliverInput()) return undefined;
    if (this.idleUntilCompletion()) return undefined;
    // Waiting for a disk the host is still reading: the host must let that work settle.
    if (this.completions.pending > 0) return { kind: 'idle', wakeInMs: undefined };
    if (!core.skipToTimer()) return { kind: 'idle', wakeInMs: undefined };
    return limit !== undefined && core.instructions >= limit ? { kind: 'idle', wakeInMs: 0 } : undefined;
  }

  /**
   * Deterministic idle with a completion due before the next timer interrupt: the hart
   * would sleep until then, so guest time jumps to the due point and the completion is
   * applied on this instruction (at the top of the next loop turn). False if none is due first.
   */
  private idleUntilCompletion(): boolean {
    const now = this.core.instructions;
    const skipped = this.completions.pullIn(now, now + this.core.timerDistance);
    if (skipped === undefined) return false;
    const ticks = skipped / BigInt(this.core.insnsPerTick);
    if (ticks > 0n) this.core.syncTime(this.core.mtime + ticks);
    return true;
  }

  /** What a machine state must find the same in the machine it is restored into. */
  get shape(): VmShape {
    const slotOf = (blk: VirtioBlk) => [...this.slotTransports].find(([, t]) => t.device === blk)![0];
    return {
      ramBytes: this.core.ramBytes,
      harts: this.core.harts,
      timeMode: this.timeMode,
      console: this.consoleDevice !== undefined,
      inputToVirtio: this.inputToVirtio,
      ...(this.netDevice ? { netMac: hexBytes(this.netDevice.mac) } : {}),
      share: this.shareDevice !== undefined,
      disks: this.blockDevices.map((b) => ({ slot: slotOf(b), bytes: b.capacity * 512, readOnly: b.readOnly, serial: new TextDecoder().decode(b.serial) })),
    };
  }

  /**
   * The whole machine between two runs (src/state/ saves it): the core, RAM (a view: encode
   * it before running again), the devices, the console input not yet taken and the disk
   * completions the guest has not seen. Waits for disk work still running on the host
   * first, so that each completion is data; what the guest sees does not change by that,
   * as completions land on fixed instructions (deterministic) or at slice ends (realtime).
   * Throws StateError('state-unsupported') while the guest has a file of its shared folder
   * open (the handle lives in the host).
   */
  async captureState(): Promise<VmState> {
    const share = this.shareDevice;
    if (share && !share.server.captureSession) {
      throw new StateError('state-unsupported', 'this shared folder\'s 9P server cannot save its session');
    }
    await this.completions.settleAll();
    // Taken after the settle: every 9P request before it has its answer.
    const session = share?.server.captureSession!();
    if (session && 'unsavable' in session) throw new StateError('state-unsupported', `${session.unsavable}; close it in the guest and try again`);
    const captured = this.completions.capture();
    if ('unsavable' in captured) throw new StateError('state-unsupported', 'a device has work in flight that cannot be saved');
    const slotOfOwner = (owner: object) => [...this.slotTransports].find(([, t]) => t.device === owner)?.[0];
    const completions = captured.completions.map((c) => {
      const slot = slotOfOwner(c.owner);
      if (slot === undefined) throw new StateError('state-unsupported', 'a completion belongs to no virtio slot');
      return { due: c.due, slot, record: c.record as BlkCompletion };
    });
    const devices: DeviceState[] = [...this.slotTransports].sort(([a], [b]) => a - b).map(([slot, t]) => ({
      slot,
      deviceId: t.device.deviceId,
      transport: t.captureState(),
      ...(t.device === this.consoleDevice ? { console: this.consoleDevice.captureState() } : {}),
      ...(t.device === this.netDevice ? { net: this.netDevice.captureState() } : {}),
      ...(t.device === share && session ? { share: session } : {}),
    }));
    return {
      shape: this.shape,
      core: this.coreState(),
      mtime: this.core.mtime,
      ram: this.captureRam(),
      pendingInput: Uint8Array.from(this.pendingInput),
      consoleSettled: this.consoleSettled,
      heldAtWfi: this.heldAtWfi,
      devices,
      completions,
    };
  }

  /**
   * Puts a machine state into this machine, freshly created with the same shape, or one that
   * ran (step back: what it was doing is dropped; its device work must have settled, see
   * `completions.settleAll`). Everything that can refuse (shape, rings that must fit RAM,
   * devices by slot) is checked before anything changes: it throws StateError and the
   * machine is as it was.
   */
  applyState(s: VmState): void {
    const differs = shapeDifference(s.shape, this.shape);
    if (differs) throw new StateError('state-other-machine', `the state is for another machine: ${differs}`);
    const coreShape = this.core.stateShape();
    if (s.core.scalars.length !== coreShape.scalars || s.core.regions.length !== coreShape.regions.length || s.core.regions.some((r, i) => r.length !== coreShape.regions[i]!.length)) {
      throw new StateError('state-other-machine', 'the state is for another build of the core (its scalars or regions differ)');
    }
    const { ram } = s;
    if (ram.bytes !== this.core.ramBytes) throw new StateError('state-other-machine', `the state has ${ram.bytes} bytes of RAM, the machine ${this.core.ramBytes}`);
    const pageCount = ram.bytes / RAM_PAGE;
    if (ram.data.length !== ram.pages.length * RAM_PAGE || ram.pages.some((p, i) => p >= pageCount || (i > 0 && p <= ram.pages[i - 1]!))) {
      throw new StateError('state-malformed', 'the state\'s RAM pages are not ascending page numbers inside RAM, one 4 KiB page of data each');
    }
    const slots = [...this.slotTransports.keys()].sort((a, b) => a - b);
    if (s.devices.length !== slots.length || s.devices.some((d, i) => d.slot !== slots[i] || this.slotTransports.get(d.slot)!.device.deviceId !== d.deviceId)) {
      throw new StateError('state-other-machine', `the state's virtio devices (${s.devices.map((d) => `${d.slot}:${d.deviceId}`).join(' ')}) are not this machine's`);
    }
    for (const c of s.completions) {
      if (!this.blockDevices.some((b) => b === this.slotTransports.get(c.slot)?.device)) {
        throw new StateError('state-malformed', `a disk completion names virtio slot ${c.slot}, which holds no disk`);
      }
    }
    const shareState = s.devices.find((d) => d.share)?.share;
    if (this.shareDevice && s.devices.some((d) => d.slot === [...this.slotTransports].find(([, t]) => t.device === this.shareDevice)?.[0] && !d.share)) {
      throw new StateError('state-malformed', 'the state has a shared folder but not its 9P session');
    }
    if (shareState && !this.shareDevice?.server.restoreSession) throw new StateError('state-other-machine', 'the state has a 9P session, this machine no shared folder that takes one');
    // Rebuilding a queue reads only its layout, which must fit RAM (VirtioError otherwise).
    // RAM is written first only in the commit below; the layout check needs the size alone.
    const commits = s.devices.map((d) => {
      try {
        return this.slotTransports.get(d.slot)!.prepareState(d.transport);
      } catch (e) {
        throw new StateError('state-malformed', `virtio slot ${d.slot}: ${(e as Error).message}`, { cause: e });
      }
    });
    // The session is checked whole before it goes in; the server is new, so a refusal changes nothing.
    if (shareState) {
      try {
        this.shareDevice!.server.restoreSession!(shareState);
      } catch (e) {
        throw new StateError('state-malformed', `the shared folder's 9P session: ${(e as Error).message}`, { cause: e });
      }
    }
    // Nothing can refuse from here on (dropAll throws only on a caller's mistake, before any change).
    this.completions.dropAll();
    for (const b of this.blockDevices) b.forgetInflight();
    this.holdNextWfi = false;
    this.applyRam(ram);
    // The state's mtime bias is the deterministic clock's (coreState); realtime switches back after.
    this.core.setRealtimeClock(false);
    this.core.applyState(s.core);
    if (this.timeMode === 'realtime') this.core.setRealtimeClock(true);
    commits.forEach((commit) => commit());
    for (const d of s.devices) {
      if (d.console && this.consoleDevice) this.consoleDevice.applyState(d.console);
      if (d.net && this.netDevice) this.netDevice.applyState(d.net);
    }
    for (const c of s.completions) (this.slotTransports.get(c.slot)!.device as VirtioBlk).restoreCompletion(c.due, c.record);
    this.pendingInput.length = 0;
    for (const b of s.pendingInput) this.pendingInput.push(b);
    this.consoleSettled = s.consoleSettled;
    this.heldAtWfi = s.heldAtWfi;
    // Realtime: guest time goes on from the state's mtime, not from this machine's start,
    // and its wall clock reads the host's, as QEMU's RTC does after a restore.
    this.resumeClock();
    if (this.timeMode === 'realtime') this.setWallClock(Date.now());
  }

  /**
   * The core's scalars with mtime's bias as deterministic time keeps it, whatever this
   * machine's mode, so a state means one thing everywhere (mtime reads the same throughout).
   */
  private coreState(): ReturnType<Core['captureState']> {
    if (this.timeMode !== 'realtime') return this.core.captureState();
    this.core.setRealtimeClock(false);
    try {
      return this.core.captureState();
    } finally {
      this.core.setRealtimeClock(true);
    }
  }

  /** Sets the guest's RTC to read `ms` (since 1970) now. */
  private setWallClock(ms: number): void {
    this.core.setRtcBase(BigInt(ms) * 1_000_000n - this.core.mtime * BigInt(1e9 / TIMEBASE_HZ));
  }

  /**
   * Realtime: the guest's clock goes on from where it stands instead of catching up with
   * the host's. A debugger calls this when it lets a held guest run again: the time it held
   * the guest never passed for it, as QEMU stops the virtual clock while the VM is stopped.
   * (Deterministic time needs nothing: it only moves with instructions.)
   */
  resumeClock(): void {
    this.startMs = performance.now() - Number(this.core.mtime) / TICKS_PER_MS;
  }

  /** RAM's pages that are not all zero, copied out. */
  private captureRam(): RamImage {
    const core = this.core;
    const count = core.ramBytes / RAM_PAGE;
    const used: number[] = [];
    for (let p = 0; p < count; p++) if (!core.ramPageIsZero(p)) used.push(p);
    const data = new Uint8Array(used.length * RAM_PAGE);
    used.forEach((p, i) => data.set(core.ram.subarray(p * RAM_PAGE, (p + 1) * RAM_PAGE), i * RAM_PAGE));
    return { bytes: core.ramBytes, pages: Uint32Array.from(used), data };
  }

  /**
   * Writes RAM from an image: its pages, and zeros where it has none. A page that is zero
   * already is left alone (only read), so a fresh machine's untouched memory stays untouched.
   */
  private applyRam(ram: RamImage): void {
    const core = this.core;
    const count = ram.bytes / RAM_PAGE;
    let next = 0;
    for (let p = 0; p < count; p++) {
      if (next < ram.pages.length && ram.pages[next] === p) {
        core.ram.set(ram.data.subarray(next * RAM_PAGE, (next + 1) * RAM_PAGE), p * RAM_PAGE);
        next++;
      } else if (!core.ramPageIsZero(p)) {
        core.ram.fill(0, p * RAM_PAGE, (p + 1) * RAM_PAGE);
      }
    }
    core.ramWritten(0, core.ramBytes);
  }

  /** True when the last CRASH_REPEATS traps were one and the same fault. */
  private inExceptionLoop(): boolean {
    const log = this.core.trapLog(CRASH_REPEATS);
    if (log.length < CRASH_REPEATS) return false;
    const [first] = log;
    if (first.cause >> 63n || first.cause === CAUSE_BREAKPOINT || ECALL_CAUSES.includes(first.cause)) return false;
    return log.every((t) => t.pc === first.pc && t.cause === first.cause && t.tval === first.tval);
  }

  crashReport(): CrashReport {
    const c = this.core;
    return { pc: c.pc, priv: privilegeOf(c.priv)!, instructions: c.instructions, lastTrap: c.lastTrap };
  }
}

export function formatCrashReport(r: CrashReport): string {
  const t = r.lastTrap;
  const kind = t.cause >> 63n ? 'interrupt' : 'exception';
  return `pc ${hex(r.pc)} in ${r.priv}-mode after ${r.instructions} instructions; last trap: ${kind} ${t.cause & 0xffn} at pc ${hex(t.pc)} (tval ${hex(t.tval)}), ${t.count} traps in all`;
}
