/**
 * A GDB remote-protocol stub for one Vm (gdb manual, "Remote Protocol"): what QEMU's
 * `-gdb tcp::1234` offers a kernel developer, over any byte transport (GdbServer.node.ts
 * gives it TCP). It answers gdb's packets, halts and resumes the guest, and reports why it
 * stopped. The host's run loop keeps running the guest while it is not halted and hands
 * every outcome to `afterRun`, so breakpoints, watchpoints and Ctrl-C stop it there.
 *
 * - Registers: `g`/`G` carry x0..x31 and pc; `p`/`P` any register of the target
 *   description (FP registers, CSRs, priv), of any hart: the live one or one waiting its
 *   turn. CSR writes go through the core's CSR code with a guest write's effects; a
 *   read-only CSR, or an FP CSR while mstatus.FS is Off, is refused (E02).
 * - Memory `m`/`M` by virtual address, through the hart's current translation walked on the
 *   host (DebugMemory): the guest's TLBs, A/D bits and registers stay untouched.
 * - Breakpoints: `Z0` (software) and `Z1` (hardware) both become execute matches in the
 *   core (its pc breakpoint and host triggers), so guest memory is never patched; `Z2`..`Z4`
 *   watchpoints are load/store host triggers, which stop before the access (gdb's RISC-V
 *   watchpoints are non-steppable: it steps over the access itself).
 * - Each hart is a thread: `qfThreadInfo`, `qC`, `H`, `T`.
 * - Resuming is all-stop, with per-thread actions as QEMU's system-mode stub takes them:
 *   `vCont` gives each hart the leftmost action naming it or naming no thread (GDB manual,
 *   "vCont packet"); harts with no action stay stopped. A step (`s`, `vCont;s:N`) runs
 *   exactly one instruction of that hart while every other hart waits (QEMU lets the
 *   harts of a `;c` run meanwhile until the step ends; running them zero instructions is
 *   one of the interleavings it allows). A continue runs only the harts given `c` (gdb's
 *   `set scheduler-locking on` sends `vCont;c:N`); any stop halts them all again. The
 *   legacy `s` steps the `Hc` hart (the current one if none), `c` runs every hart. A
 *   step takes no interrupt, as QEMU's by default (SSTEP_NOIRQ): it is the instruction at
 *   pc; a pending interrupt is taken at the next run. (RISC-V gdb itself steps with a
 *   breakpoint after the instruction and a continue, where interrupts are taken.)
 * - Guest time stops while gdb holds the guest, as QEMU stops its virtual clock: in
 *   realtime mode the clock goes on from where it stood when the guest runs again.
 */
import { HOST_TRIGGERS, type Core } from '../machine/Core.ts';
import type { RunOutcome, Vm } from '../machine/Vm.ts';
import { privilegeOf } from '../inspect/privilege.ts';
import { DebugMemory } from './DebugMemory.ts';
import { framePacket, MAX_PACKET, RspFraming } from './RspFraming.ts';
import {
  DEBUG_CSRS, FIRST_CSR_REGNUM, FIRST_FP_REGNUM, FP_CSRS, PC_REGNUM, PRIV_REGNUM, riscvTargetXml,
} from './riscvTargetDescription.ts';

/** Signal numbers gdb knows stops by. */
const SIGINT = 2;
const SIGTRAP = 5;

/** How the stub ends a session it cannot go on with. */
export interface GdbStubHost {
  /** Bytes for gdb. */
  send(bytes: Uint8Array): void;
  /** gdb asked to kill the target (`k`, `vKill`): the run ends. */
  kill(): void;
}

type Breakpoint = { kind: 'exec'; address: bigint; slot: number | 'pc' } | { kind: 'watch'; type: 2 | 3 | 4; address: bigint; length: number; slot: number };

const hex64 = (v: bigint) => {
  let s = '';
  for (let i = 0; i < 8; i++) s += Number((v >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, '0');
  return s;
};
const hexLe = (v: bigint, bytes: number) => hex64(v).slice(0, bytes * 2);
const parseLe = (s: string): bigint => {
  let v = 0n;
  for (let i = s.length - 2; i >= 0; i -= 2) v = (v << 8n) | BigInt(parseInt(s.slice(i, i + 2), 16));
  return v;
};
const toHex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const ERR_BAD = 'E01';
const ERR_REGISTER = 'E02';
const ERR_MEMORY = 'E14';
const ERR_NO_SLOT = 'E28';

export class GdbStub {
  /** The guest is stopped for the debugger; the host must not run it. */
  halted: boolean;
  /** gdb is connected (between attach and detach). */
  attached = false;
  private readonly framing = new RspFraming();
  private noAck = false;
  private interruptRequested = false;
  private readonly breakpoints: Breakpoint[] = [];
  private readonly csrs: [string, number][];
  private readonly xml: string;
  private readonly memory: DebugMemory;
  private readonly core: Core;
  /** The hart `Hg` chose for register packets (undefined: the one that ran last). */
  private selected: number | undefined;
  /** Guest time stopped with the guest: the next run first moves the clock's anchor. */
  private clockHeld: boolean;
  /** The hart `Hc` chose for the legacy `s` packet (undefined: the one that ran last). */
  private stepHart: number | undefined;

  constructor(
    private readonly vm: Vm,
    private readonly host: GdbStubHost,
    /** QEMU's `-S`: start halted, waiting for gdb's continue. */
    opts: { startHalted?: boolean } = {},
  ) {
    this.core = vm.core;
    this.halted = opts.startHalted ?? false;
    this.clockHeld = this.halted;
    this.csrs = DEBUG_CSRS.filter(([, n]) => this.core.csr(n) !== undefined);
    this.xml = riscvTargetXml(this.csrs);
    this.memory = new DebugMemory(this.core);
  }

  /** A debugger connected: the guest halts, as under QEMU, until gdb continues it. */
  attach(): void {
    this.attached = true;
    this.noAck = false;
    this.hold();
  }

  /** The connection ended (detach or lost): breakpoints go and the guest runs on. */
  detach(): void {
    this.attached = false;
    this.clearBreakpoints();
    this.core.setRunnableHarts(undefined);
    this.core.resumeFromBreakpoint();
    this.halted = false;
  }

  /** Bytes from gdb. */
  receive(bytes: Uint8Array): void {
    for (const ev of this.framing.feed(bytes)) {
      switch (ev.kind) {
        case 'interrupt':
          // Ctrl-C: the run loop stops the guest after its current slice.
          if (!this.halted) this.interruptRequested = true;
          break;
        case 'bad-checksum':
          if (!this.noAck) this.host.send(Uint8Array.of(0x2d)); // '-'
          break;
        case 'packet': {
          if (!this.noAck) this.host.send(Uint8Array.of(0x2b)); // '+'
          const reply = this.handle(ev.data);
          if (reply !== undefined) this.reply(reply);
          break;
        }
      }
    }
  }

  /**
   * The host ran the guest and got `outcome`: true if the guest is now halted for the
   * debugger (a breakpoint, a watchpoint, Ctrl-C), after telling gdb why. A guest that
   * powered off ends the session with gdb's exit reply.
   */
  afterRun(outcome: RunOutcome): boolean {
    if (!this.attached) return false;
    if (outcome.kind === 'debug') {
      this.stop(outcome.reason === 'watchpoint' ? this.watchReply(outcome.address) : this.stopReply(SIGTRAP));
      return true;
    }
    if (outcome.kind === 'poweroff' || outcome.kind === 'reboot') {
      this.reply(outcome.kind === 'poweroff' && outcome.by === 'fail' ? `W${(Number(outcome.value) & 0xff).toString(16).padStart(2, '0')}` : 'W00');
      return false;
    }
    if (this.interruptRequested) {
      this.interruptRequested = false;
      this.stop(this.stopReply(SIGINT));
      return true;
    }
    return false;
  }

  private stop(reply: string): void {
    this.hold();
    this.reply(reply);
  }

  /** The guest stops for the debugger, and its clock with it (see beforeRun). */
  private hold(): void {
    this.halted = true;
    this.clockHeld = true;
  }

  /**
   * The host is about to run the guest: if gdb held it since the last run, guest time goes
   * on from where it stood (realtime), as QEMU stops its virtual clock while stopped. Not
   * at the continue packet itself: the host may start running a little later.
   */
  beforeRun(): void {
    if (!this.clockHeld) return;
    this.clockHeld = false;
    this.vm.resumeClock();
  }

  private reply(data: string): void {
    this.host.send(framePacket(data));
  }

  /**
   * A stop reply names the thread that stopped, and gdb takes it as the one register
   * packets now mean (it sends no Hg for it), as QEMU's stub does: the selection resets.
   */
  private stopReply(signal: number): string {
    this.selected = undefined;
    return `T${signal.toString(16).padStart(2, '0')}thread:${this.core.currentHart + 1};`;
  }

  private watchReply(address: bigint): string {
    this.selected = undefined; // as in stopReply
    const w = this.breakpoints.find((b) => b.kind === 'watch' && address >= b.address && address < b.address + BigInt(b.length));
    const name = w?.kind === 'watch' ? (w.type === 2 ? 'watch' : w.type === 3 ? 'rwatch' : 'awatch') : 'awatch';
    return `T05${name}:${address.toString(16)};thread:${this.core.currentHart + 1};`;
  }

  /**
   * A thread id (hex; thread n is hart n - 1) as a hart number; 0 and -1 ("any", "all")
   * mean the current hart's; undefined for a hart the machine does not have.
   */
  private thread(id: string): number | undefined {
    if (id === '0' || id === '-1' || id === '') return this.core.currentHart;
    const n = parseInt(id.replace(/^p1\./, ''), 16);
    return Number.isInteger(n) && n >= 1 && n <= this.core.harts ? n - 1 : undefined;
  }

  /** The hart register packets mean: the one `Hg` selected, else the one that ran last. */
  private hart(): number {
    return this.selected ?? this.core.currentHart;
  }

  /** The reply to one packet, or undefined when the reply comes later (continue). */
  private handle(p: string): string | undefined {
    switch (p[0]) {
      case '?':
        this.hold();
        return this.stopReply(SIGTRAP);
      case 'q':
        return this.query(p);
      case 'Q':
        if (p === 'QStartNoAckMode') {
          // The OK still goes out acked-for; gdb stops acking after it.
          this.reply('OK');
          this.noAck = true;
          return undefined;
        }
        return '';
      case 'H': {
        // Hg selects the hart whose registers g/p/G/P mean, Hc the one `s` steps.
        const id = p.slice(2);
        const t = this.thread(id);
        if (t === undefined) return ERR_BAD;
        const chosen = id === '0' || id === '-1' ? undefined : t;
        if (p[1] === 'g') this.selected = chosen;
        else if (p[1] === 'c') this.stepHart = chosen;
        return 'OK';
      }
      case 'T':
        return this.thread(p.slice(1)) !== undefined && p.slice(1) !== '0' && p.slice(1) !== '-1' ? 'OK' : ERR_BAD;
      case 'g':
        return this.readAllRegisters();
      case 'G':
        return this.writeAllRegisters(p.slice(1));
      case 'p':
        return this.readRegister(parseInt(p.slice(1), 16));
      case 'P': {
        const [n, v] = p.slice(1).split('=');
        return this.writeRegister(parseInt(n!, 16), v ?? '');
      }
      case 'm':
        return this.readMemory(p.slice(1));
      case 'M':
        return this.writeMemory(p.slice(1));
      case 'Z':
      case 'z':
        return this.breakpoint(p[0] === 'Z', p.slice(1));
      case 'c':
        return this.resume(undefined, p.slice(1));
      case 's':
        return this.resume(this.stepHart ?? this.core.currentHart, p.slice(1));
      case 'v':
        return this.vPacket(p);
      case 'D':
        this.reply('OK');
        this.detach();
        return undefined;
      case 'k':
        this.host.kill();
        return undefined;
      default:
        return '';
    }
  }

  private query(p: string): string {
    if (p.startsWith('qSupported')) {
      return `PacketSize=${MAX_PACKET.toString(16)};qXfer:features:read+;QStartNoAckMode+;vContSupported+`;
    }
    if (p.startsWith('qXfer:features:read:')) {
      const m = /^qXfer:features:read:([^:]*):([0-9a-f]+),([0-9a-f]+)$/i.exec(p);
      if (!m) return ERR_BAD;
      if (m[1] !== 'target.xml') return 'E00';
      const off = parseInt(m[2]!, 16);
      const len = parseInt(m[3]!, 16);
      const chunk = this.xml.slice(off, off + len);
      return (off + len >= this.xml.length ? 'l' : 'm') + chunk;
    }
    switch (p) {
      case 'qAttached':
        return '1';
      case 'qC':
        return `QC${this.core.currentHart + 1}`;
      case 'qfThreadInfo':
        return `m${Array.from({ length: this.core.harts }, (_, h) => (h + 1).toString(16)).join(',')}`;
      case 'qsThreadInfo':
        return 'l';
      case 'qSymbol::':
        return 'OK';
      default:
        if (p.startsWith('qThreadExtraInfo,')) {
          const t = this.thread(p.slice('qThreadExtraInfo,'.length));
          const hart = t === undefined ? undefined : this.core.hartStates()[t];
          if (!hart) return ERR_BAD;
          return toHex(new TextEncoder().encode(`hart ${hart.id}, ${privilegeOf(hart.priv) ?? '?'}-mode${hart.sleeping ? ', in WFI' : ''}`));
        }
        return '';
    }
  }

  private vPacket(p: string): string | undefined {
    if (p === 'vCont?') return 'vCont;c;C;s;S';
    if (p.startsWith('vCont;')) return this.vCont(p.slice(6));
    if (p === 'vKill' || p.startsWith('vKill;')) {
      this.reply('OK');
      this.host.kill();
      return undefined;
    }
    if (p === 'vMustReplyEmpty') return '';
    return '';
  }

  /**
   * `vCont;action[:thread]...`: each hart takes the leftmost action that names it or names
   * no thread; `C`/`S` carry a signal, which a machine has nowhere to deliver (QEMU drops
   * it too). A hart to step steps alone; else the harts to continue run.
   */
  private vCont(list: string): string | undefined {
    const actions: ('c' | 's' | undefined)[] = Array.from({ length: this.core.harts }, () => undefined);
    for (const part of list.split(';')) {
      const m = /^([cCsS])([0-9a-fA-F]{2})?(?::(.+))?$/.exec(part);
      if (!m) return ERR_BAD;
      const action = m[1]!.toLowerCase() as 'c' | 's';
      const id = m[3];
      if (id === undefined || id === '-1' || id === 'p-1' || id === 'p1.-1') {
        actions.forEach((a, h) => (actions[h] = a ?? action));
        continue;
      }
      const h = this.thread(id);
      if (h === undefined) return ERR_BAD;
      actions[h] ??= action;
    }
    const step = actions.indexOf('s');
    if (step >= 0) return this.resume(step, '');
    const run = actions.flatMap((a, h) => (a === 'c' ? [h] : []));
    return run.length ? this.resume(undefined, '', run) : ERR_BAD;
  }

  /**
   * Runs the guest on: one instruction of hart `step`, or (step undefined) the harts of
   * `run` (every hart by default) until something stops them. `addr`: `c`/`s`'s resume
   * address for the hart that goes first.
   */
  private resume(step: number | undefined, addr: string, run?: number[]): string | undefined {
    if (addr !== '' && !/^[0-9a-f]{1,16}$/i.test(addr)) return ERR_BAD;
    const stopped = this.core.currentHart;
    this.core.setRunnableHarts(step !== undefined ? [step] : run && run.length < this.core.harts ? run : undefined);
    if (addr !== '') this.core.pc = BigInt(`0x${addr}`);
    // Past the breakpoint or watchpoint the guest stopped at, if that hart goes on first;
    // another hart that sits on a breakpoint is stepped off it by gdb itself.
    if (this.core.currentHart === stopped) this.core.resumeFromBreakpoint();
    if (step !== undefined) {
      let o: RunOutcome;
      try {
        // The time gdb held the guest never passed for it; it is held again after the step.
        this.beforeRun();
        this.clockHeld = true;
        // The instruction at pc, not an interrupt handler's first (QEMU's SSTEP_NOIRQ).
        this.core.interruptsHeld = true;
        o = this.vm.runUntil({ maxInsns: 1n, maxMs: Infinity, idle: 'skip' });
      } finally {
        this.core.interruptsHeld = false;
        this.core.setRunnableHarts(undefined);
      }
      if (o.kind === 'poweroff' || o.kind === 'reboot') {
        this.afterRun(o);
        this.halted = false;
        return undefined;
      }
      return o.kind === 'debug' && o.reason === 'watchpoint' ? this.watchReply(o.address) : this.stopReply(SIGTRAP);
    }
    this.halted = false;
    return undefined;
  }

  // ------------------------------------------------------------------ registers

  private readAllRegisters(): string {
    const h = this.hart();
    let s = '';
    for (let r = 0; r < 32; r++) s += hex64(this.core.hartX(h, r));
    return s + hex64(this.core.hartStates()[h]!.pc);
  }

  private writeAllRegisters(data: string): string {
    if (data.length < 33 * 16 || !/^[0-9a-f]*$/i.test(data)) return ERR_BAD;
    const h = this.hart();
    for (let r = 1; r < 32; r++) this.core.setHartX(h, r, parseLe(data.slice(r * 16, r * 16 + 16)));
    this.core.setHartPc(h, parseLe(data.slice(32 * 16, 33 * 16)));
    return 'OK';
  }

  /** The CSR register n stands for, with its size in the description; undefined if none. */
  private csrOf(n: number): { num: number; bytes: number } | undefined {
    const num = n - FIRST_CSR_REGNUM;
    if (FP_CSRS.some(([, c]) => c === num)) return { num, bytes: 4 };
    if (this.csrs.some(([, c]) => c === num)) return { num, bytes: 8 };
    return undefined;
  }

  private readRegister(n: number): string {
    const c = this.core;
    const h = this.hart();
    if (n >= 0 && n < 32) return hex64(c.hartX(h, n));
    if (n === PC_REGNUM) return hex64(c.hartStates()[h]!.pc);
    if (n >= FIRST_FP_REGNUM && n < FIRST_FP_REGNUM + 32) return hex64(c.hartF(h, n - FIRST_FP_REGNUM));
    if (n === PRIV_REGNUM) return hex64(BigInt(c.hartStates()[h]!.priv));
    const csr = this.csrOf(n);
    if (!csr) return ERR_REGISTER;
    const v = c.hartCsr(h, csr.num);
    // Unreadable now (the FP CSRs while mstatus.FS is Off): "unavailable" in the protocol.
    return v === undefined ? 'xx'.repeat(csr.bytes) : hexLe(v, csr.bytes);
  }

  private writeRegister(n: number, value: string): string {
    // gdb sends a register in its size from the description: 4 bytes for the FP CSRs.
    if (!/^([0-9a-f]{8}){1,2}$/i.test(value)) return ERR_BAD;
    const v = parseLe(value);
    const c = this.core;
    const h = this.hart();
    const csr = this.csrOf(n);
    if (value.length !== (csr ? csr.bytes : 8) * 2) return ERR_BAD;
    if (n >= 0 && n < 32) c.setHartX(h, n, v); // x0 stays 0
    else if (n === PC_REGNUM) c.setHartPc(h, v);
    else if (n >= FIRST_FP_REGNUM && n < FIRST_FP_REGNUM + 32) c.setHartF(h, n - FIRST_FP_REGNUM, v);
    else if (n === PRIV_REGNUM) return v < 4n && c.setHartPriv(h, Number(v)) ? 'OK' : ERR_REGISTER;
    else if (csr) return c.setHartCsr(h, csr.num, v) ? 'OK' : ERR_REGISTER;
    else return ERR_REGISTER;
    return 'OK';
  }

  // ------------------------------------------------------------------ memory

  private readMemory(args: string): string {
    const m = /^([0-9a-f]+),([0-9a-f]+)$/i.exec(args);
    if (!m) return ERR_BAD;
    const len = Math.min(parseInt(m[2]!, 16), MAX_PACKET / 2 - 8);
    const bytes = this.memory.read(BigInt(`0x${m[1]}`), len);
    return bytes.length === 0 && len > 0 ? ERR_MEMORY : toHex(bytes);
  }

  private writeMemory(args: string): string {
    const m = /^([0-9a-f]+),([0-9a-f]+):([0-9a-f]*)$/i.exec(args);
    if (!m) return ERR_BAD;
    const len = parseInt(m[2]!, 16);
    if (m[3]!.length !== len * 2) return ERR_BAD;
    const data = Uint8Array.from({ length: len }, (_, i) => parseInt(m[3]!.slice(2 * i, 2 * i + 2), 16));
    return this.memory.write(BigInt(`0x${m[1]}`), data) ? 'OK' : ERR_MEMORY;
  }

  // ------------------------------------------------------------------ breakpoints

  /** `Ztype,addr,kind` / `ztype,addr,kind`. */
  private breakpoint(insert: boolean, args: string): string {
    const m = /^([0-4]),([0-9a-f]+),([0-9a-f]+)/i.exec(args);
    if (!m) return ERR_BAD;
    const type = Number(m[1]);
    const address = BigInt(`0x${m[2]}`);
    const length = parseInt(m[3]!, 16);
    if (type <= 1) {
      const at = this.breakpoints.findIndex((b) => b.kind === 'exec' && b.address === address);
      if (!insert) {
        if (at >= 0) this.release(this.breakpoints.splice(at, 1)[0]!);
        return 'OK';
      }
      if (at >= 0) return 'OK';
      // The core's pc breakpoint first, then the host triggers.
      const slot = this.breakpoints.some((b) => b.kind === 'exec' && b.slot === 'pc') ? this.freeTrigger() : 'pc';
      if (slot === undefined) return ERR_NO_SLOT;
      if (slot === 'pc') this.core.setBreakpoint(address);
      else this.core.setHostTrigger(slot, { execute: true, address });
      this.breakpoints.push({ kind: 'exec', address, slot });
      return 'OK';
    }
    const watchType = type as 2 | 3 | 4;
    if (!(length >= 1 && length <= 8)) return ERR_BAD;
    const at = this.breakpoints.findIndex((b) => b.kind === 'watch' && b.address === address && b.type === watchType && b.length === length);
    if (!insert) {
      if (at >= 0) this.release(this.breakpoints.splice(at, 1)[0]!);
      return 'OK';
    }
    if (at >= 0) return 'OK';
    const slot = this.freeTrigger();
    if (slot === undefined) return ERR_NO_SLOT;
    this.core.setHostTrigger(slot, { address, length, store: watchType !== 3, load: watchType !== 2 });
    this.breakpoints.push({ kind: 'watch', type: watchType, address, length, slot });
    return 'OK';
  }

  private freeTrigger(): number | undefined {
    for (let s = 0; s < HOST_TRIGGERS; s++) if (!this.breakpoints.some((b) => b.slot === s)) return s;
    return undefined;
  }

  private release(b: Breakpoint): void {
    if (b.slot === 'pc') this.core.setBreakpoint(undefined);
    else this.core.setHostTrigger(b.slot, undefined);
  }

  private clearBreakpoints(): void {
    for (const b of this.breakpoints.splice(0)) this.release(b);
  }
}
