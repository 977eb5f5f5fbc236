/**
 * One guest of a `romvisor boot` run, as the CLI judges it: its console output (to the
 * terminal, a `[name] ` prefix when several guests share it, a --console-log file), its
 * console script, the panic watch and the hang watchdog. The run loop (one guest, or a
 * scenario's guests on a switch) calls `run()` and then `judge()` with what the guest did,
 * and learns whether this guest's part of the run is over and with which exit code.
 */
import { PanicWatch } from '../boot/linuxPanic.ts';
import { GuestLoop } from '../machine/GuestLoop.ts';
import { formatCrashReport, type RunOptions, type RunOutcome, type Vm } from '../machine/Vm.ts';
import { ConsoleScriptPlayer, type ConsoleStep } from '../scenario/consoleScript.ts';
import { EXIT, type CliIo } from './CliIo.ts';

/** After a script's last step, how long the guest may take to power off. */
const SCRIPT_GRACE_MS = 15_000;
/**
 * While a console script plays, a guest that prints nothing and passes no step for this
 * long is hung (exit 3), unless --hang-timeout says otherwise. Host time in realtime,
 * guest time in deterministic time (where it is a fixed instruction count, so the run
 * ends on the same instruction every time). Not applied once the script has ended.
 */
export const SCRIPT_HANG_MS = 60_000;
/**
 * After a kernel panic line arrives, the kernel's time to finish printing its panic before
 * the run ends: host time in realtime (as the page), and in deterministic time a fixed
 * instruction count (300 ms of guest time), so the console output stays byte-identical.
 */
const PANIC_GRACE_MS = 300;
const PANIC_GRACE_INSNS = 30_000_000n;

export interface GuestSessionOptions {
  io: CliIo;
  /** Console bytes, as text (latin1, byte for byte): the terminal, or a prefixer in front of it. */
  output: (text: string) => void;
  script?: ConsoleStep[];
  /** --hang-timeout, in ms. */
  hangMs?: number;
  /** Put in front of this guest's messages on stderr: `[web] ` when several guests share the terminal. */
  label?: string;
}

/**
 * What `judge` decided: undefined, the guest runs on; 'done', its script has ended and the
 * guest has settled (an idle shell), or the grace time after the script is over; a number,
 * this guest's run is over with that exit code (poweroff 0, panic 1, timeout 3, ...).
 */
export type GuestVerdict = undefined | 'done' | number;

export class GuestSession {
  readonly player: ConsoleScriptPlayer | undefined;
  private readonly deterministic: boolean;
  private readonly panic = new PanicWatch();
  private panicEnd: { hostMs: number } | { insns: bigint } | undefined;
  private readonly hangMs: number | undefined;
  private lastProgress: number;
  private frozenSince: number | undefined;
  private scriptDoneAt: number | undefined;

  constructor(
    readonly vm: Vm,
    private readonly opts: GuestSessionOptions,
  ) {
    this.deterministic = vm.timeMode === 'deterministic';
    // The hang watchdog counts host time, or guest time in deterministic mode, since the last
    // console output or script step. A deterministic guest idle with nothing to wake it has a
    // clock that stands still: then host time counts (`frozenSince`).
    this.hangMs = opts.hangMs ?? (opts.script ? SCRIPT_HANG_MS : undefined);
    this.lastProgress = this.clock();
    const io = opts.io;
    const label = opts.label ?? '';
    this.player = opts.script
      ? new ConsoleScriptPlayer(opts.script, {
          send: (t) => vm.sendInput(t),
          guestMs: () => vm.guestMs,
          hostMs: () => performance.now(),
        })
      : undefined;
    if (this.player) {
      this.player.onStep = (r, step) => {
        if (r.status === 'failed') io.stderr(`\n${label}romvisor boot: script step ${r.index + 1} failed: ${r.detail}\n`);
        else if (process.env.ROMVISOR_SCRIPT_VERBOSE) io.stderr(`${label}[step ${r.index + 1} ok ${r.ms} ms ${JSON.stringify(step)}]\n`);
        this.lastProgress = this.clock();
      };
    }
    vm.onConsole((bytes) => {
      this.lastProgress = this.clock();
      const text = Buffer.from(bytes).toString('latin1');
      opts.output(text);
      this.panic.feed(text);
      if (this.panic.seen && !this.panicEnd) {
        this.panicEnd = this.deterministic ? { insns: vm.core.instructions + PANIC_GRACE_INSNS } : { hostMs: performance.now() + PANIC_GRACE_MS };
      }
      if (!this.panicEnd) this.player?.feed(text);
    });
  }

  private clock(): number {
    return this.deterministic ? this.vm.guestMs : performance.now();
  }

  /** Counts as progress for the hang watchdog (a guest stopped in the debugger is not hung). */
  progressed(): void {
    this.lastProgress = this.clock();
  }

  /** Whether the guest's script (if any) has ended, passed or not. */
  get scriptEnded(): boolean {
    return this.player === undefined || this.player.done;
  }

  /**
   * Runs the guest as `runOpts` say (a panicking deterministic guest stops exactly at the
   * end of its grace count); an exception out of the core is an emulator fault, reported
   * here and returned as EXIT.fault.
   */
  run(runOpts: RunOptions): RunOutcome | number {
    const vm = this.vm;
    const p = this.panicEnd;
    let maxInsns = runOpts.maxInsns;
    if (p && 'insns' in p) {
      const left = p.insns - vm.core.instructions;
      const cap = left < 0n ? 0n : left;
      maxInsns = maxInsns === undefined || cap < maxInsns ? cap : maxInsns;
    }
    try {
      return vm.runUntil({ ...runOpts, maxInsns });
    } catch (e) {
      this.opts.io.stderr(`\n${this.opts.label ?? ''}romvisor boot: emulator fault: ${(e as Error).message}\n  ${formatCrashReport(vm.crashReport())}\n`);
      return EXIT.fault;
    }
  }

  /**
   * What `outcome` (the last run) means for this guest. `settled` says whether the guest
   * counts as settled after its script (default GuestLoop.settled: idle, input taken, no
   * device work in flight).
   */
  judge(outcome: RunOutcome, settled = GuestLoop.settled(this.vm, outcome)): GuestVerdict {
    const { vm, player } = this;
    const io = this.opts.io;
    const label = this.opts.label ?? '';
    if (this.panicEnd) {
      const p = this.panicEnd;
      const over = 'insns' in p ? vm.core.instructions >= p.insns : performance.now() >= p.hostMs;
      const ended = outcome.kind === 'poweroff' || outcome.kind === 'reboot' || outcome.kind === 'crashed';
      if (over || ended) {
        io.stderr(`\n${label}romvisor boot: the guest panicked: ${this.panic.line}\n`);
        return EXIT.failed;
      }
      // The script and the hang watchdog wait: the panic decides how this run ends.
      return undefined;
    }
    player?.poll();
    if (player?.failed) {
      io.stderr(`  ${label}${formatCrashReport(vm.crashReport())}\n`);
      const timedOut = player.results.some((r) => r.status === 'failed' && r.detail?.startsWith('timed out'));
      return timedOut ? EXIT.timeout : EXIT.failed;
    }
    if (outcome.kind === 'poweroff') {
      // The test device's FAIL (a bare kernel's panic, as QEMU exits with its code).
      if (outcome.by === 'fail') {
        io.stderr(`\n${label}romvisor boot: the guest powered off with failure code ${outcome.value}\n`);
        return EXIT.failed;
      }
      if (player && !player.done) {
        io.stderr(`\n${label}romvisor boot: the guest powered off before script step ${player.currentStep + 1}\n`);
        return EXIT.failed;
      }
      return EXIT.ok;
    }
    if (outcome.kind === 'crashed') {
      io.stderr(`\n${label}romvisor boot: the guest crashed: it is stuck taking exceptions\n  ${formatCrashReport(outcome.report)}\n`);
      return EXIT.failed;
    }
    if (outcome.kind === 'reboot') {
      io.stderr(`\n${label}romvisor: the guest rebooted; exiting\n`);
      return EXIT.ok;
    }
    const now = performance.now();
    if (player?.done) {
      this.scriptDoneAt ??= now;
      // Done: once the guest has taken all input and waits for more (an idle shell),
      // or powers off (a final "poweroff" step), or at the latest after the grace time.
      if (settled) return 'done';
      if (now - this.scriptDoneAt > SCRIPT_GRACE_MS) return 'done';
    }
    // The default watchdog is the script's: a guest whose script has ended is not watched.
    const hangMs = this.hangMs;
    if (hangMs !== undefined && (this.opts.hangMs !== undefined || !player?.done)) {
      const frozen = this.deterministic && outcome.kind === 'idle' && outcome.wakeInMs === undefined && !vm.hasPendingInput && vm.pendingWork() === undefined;
      this.frozenSince = frozen ? (this.frozenSince ?? now) : undefined;
      // A `wait` step is progress too: its length is added to the allowance.
      const step = player && !player.done ? player.steps[player.currentStep] : undefined;
      const allowance = hangMs + (step && 'wait' in step ? step.wait * 1000 : 0);
      const silent = Math.max(this.clock() - this.lastProgress, this.frozenSince === undefined ? 0 : now - this.frozenSince);
      if (silent > allowance) {
        const what = player ? 'no console output and no script step passed' : 'no console output';
        const why = this.opts.hangMs === undefined ? ' (the default while a script plays; --hang-timeout SECONDS changes it)' : '';
        io.stderr(`\n${label}romvisor boot: ${what} for ${hangMs / 1000} s${this.deterministic ? ' of guest time' : ''}; the guest looks hung${why}\n  ${formatCrashReport(vm.crashReport())}\n`);
        return EXIT.timeout;
      }
    }
    return undefined;
  }
}
