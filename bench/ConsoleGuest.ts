// A guest's console as the bench types at it: QEMU (a child process, its serial port on
// stdio) or romvisor's Vm in this process (run here, in slices, until closed). Both keep
// all console text and note when each piece arrived, so a script's time is taken from
// the keystroke to the console bytes that end it, the same way on both machines.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Vm } from '../src/machine/Vm.ts';

/** A match in the console text and when (performance.now()) the bytes that made it arrived. */
export interface Seen {
  match: RegExpMatchArray;
  at: number;
}

interface Waiter {
  pattern: RegExp;
  from: number;
  resolve(seen: Seen | undefined): void;
}

export abstract class ConsoleGuest {
  /** Everything the guest printed so far (latin1). */
  output = '';
  /** Why the guest stopped, once it has (exited, powered off, crashed). */
  ended?: string;
  private waiters: Waiter[] = [];

  abstract type(text: string): void;
  abstract close(): Promise<void>;

  protected received(text: string): void {
    this.output += text;
    const at = performance.now();
    this.waiters = this.waiters.filter((w) => {
      const match = this.output.slice(w.from).match(w.pattern);
      if (match) w.resolve({ match, at });
      return !match;
    });
  }

  protected end(why: string): void {
    this.ended ??= why;
    for (const w of this.waiters) w.resolve(undefined);
    this.waiters = [];
  }

  /**
   * The first match of `pattern` in the output from index `from` on: at once when the text
   * is there already, else when it arrives; undefined after `timeoutMs` or when the guest ends.
   */
  until(pattern: RegExp, from: number, timeoutMs: number): Promise<Seen | undefined> {
    const match = this.output.slice(from).match(pattern);
    if (match) return Promise.resolve({ match, at: performance.now() });
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(undefined);
      }, timeoutMs);
      const waiter: Waiter = {
        pattern,
        from,
        resolve: (seen) => {
          clearTimeout(timer);
          resolve(seen);
        },
      };
      this.waiters.push(waiter);
    });
  }
}

/** A process whose stdout is the guest's console and whose stdin is its keyboard (QEMU -nographic). */
export class ProcessConsoleGuest extends ConsoleGuest {
  private readonly child: ChildProcess;
  private errors = '';

  constructor(cmd: string, args: readonly string[]) {
    super();
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('latin1').on('data', (d: string) => this.received(d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.errors += d));
    this.child.on('error', (e) => this.end(`cannot start ${cmd}: ${e.message}`));
    this.child.on('exit', (code, signal) => this.end(`${cmd} ended (${signal ?? `exit ${code}`}) ${this.errors.trim().slice(-200)}`));
  }

  type(text: string): void {
    this.child.stdin!.write(text);
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGKILL');
    await exited;
  }
}

/** romvisor's Vm, run in this process in slices until closed, as the CLI runs a lone guest. */
export class VmConsoleGuest extends ConsoleGuest {
  private closed = false;
  private wake: () => void = () => {};
  private readonly loop: Promise<void>;

  constructor(readonly vm: Vm) {
    super();
    vm.onConsole((b) => this.received(Buffer.from(b).toString('latin1')));
    this.loop = this.run();
  }

  type(text: string): void {
    this.vm.sendInput(text);
    // A guest idling for input is woken now, not at the end of its nap.
    this.wake();
  }

  private async run(): Promise<void> {
    const vm = this.vm;
    try {
      while (!this.closed) {
        const r = vm.run(16);
        if (r.kind === 'idle') {
          const nap = new Promise<void>((res) => {
            const timer = setTimeout(res, Math.min(r.wakeInMs ?? 1, 5));
            this.wake = () => {
              clearTimeout(timer);
              res();
            };
          });
          await Promise.race([vm.pendingWork() ?? nap, nap]);
          this.wake = () => {};
        } else if (r.kind === 'running') {
          // Between slices the event loop runs: disk work settles, waiters see their text.
          await new Promise((res) => setImmediate(res));
        } else {
          this.end(`romvisor: ${r.kind}`);
          return;
        }
      }
    } catch (e) {
      this.end(`romvisor: ${(e as Error).message}`);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.wake();
    await this.loop;
    this.end('closed');
  }
}
