/**
 * `romvisor boot`: boots firmware + Linux with the console on the terminal, QEMU-like.
 *   romvisor boot [--bios FW] [--kernel Image] [--initrd FILE] [--append ARGS] [--mem 256M]
 *                 [--time realtime|deterministic] [--script FILE.json] [--hang-timeout S]
 * The terminal is in raw mode (Ctrl-A x quits, as in QEMU); piped stdin is console input.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { BootError } from '../boot/BootError.ts';
import { MIN_RAM } from '../boot/linuxBoot.ts';
import { loadCoreModule } from '../machine/coreModule.node.ts';
import { formatCrashReport, Vm, type TimeMode } from '../machine/Vm.ts';
import { ConsoleScriptPlayer, parseConsoleScript, ScriptError, type ConsoleStep } from '../scenario/consoleScript.ts';
import { BUILTIN, DEFAULT_BOOTARGS, readMaybeGzip } from './bootImages.ts';
import { parseSize } from './parseSize.ts';
import type { CliIo } from './main.ts';

const USAGE = `usage: romvisor boot [--bios FW] [--kernel Image[.gz]] [--initrd FILE] [--append "ARGS"]
                    [--mem 256M] [--time realtime|deterministic] [--script FILE.json]
                    [--hang-timeout SECONDS]
With no image options, boots the built-in OpenSBI + Linux 6.1 + busybox initramfs.
Ctrl-A x quits. Exit codes: 0 powered off, 1 script step failed, 2 bad input,
3 timeout (script or hang), 4 emulator fault.`;

const CTRL_A = 0x01;
/** wasm32 memory holds the core's tables and RAM below 4 GiB. */
const MAX_RAM = 2048 * 2 ** 20;
/** After a script's last step, how long the guest may take to power off. */
const SCRIPT_GRACE_MS = 15_000;

class BadInput extends Error {}

export async function bootCommand(argv: string[], io: CliIo): Promise<number> {
  let opts;
  try {
    opts = await parseBootArgs(argv);
  } catch (e) {
    if (e instanceof BadInput || e instanceof ScriptError) {
      io.stderr(`romvisor boot: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (opts === 'help') {
    io.stdout(USAGE + '\n');
    return 0;
  }

  let vm: Vm;
  try {
    vm = await Vm.create(await loadCoreModule(), opts.config);
  } catch (e) {
    if (e instanceof BootError) {
      io.stderr(`romvisor boot: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  return runInteractive(vm, opts, io);
}

interface BootOptions {
  config: Parameters<typeof Vm.create>[1];
  script?: ConsoleStep[];
  hangMs?: number;
}

async function parseBootArgs(argv: string[]): Promise<BootOptions | 'help'> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        bios: { type: 'string' },
        kernel: { type: 'string' },
        initrd: { type: 'string' },
        append: { type: 'string' },
        mem: { type: 'string', short: 'm' },
        time: { type: 'string' },
        script: { type: 'string' },
        'hang-timeout': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new BadInput((e as Error).message);
  }
  const v = args.values;
  if (v.help) return 'help';
  if (args.positionals.length) throw new BadInput(`unexpected argument "${args.positionals[0]}"\n${USAGE}`);
  const mem = v.mem ?? '256M';
  const ramBytes = parseSize(mem);
  if (ramBytes === undefined) throw new BadInput(`--mem "${mem}" is not a size like 256M or 1G`);
  if (ramBytes < MIN_RAM) throw new BadInput(`--mem ${mem} is below the minimum of ${MIN_RAM >> 20}M`);
  if (ramBytes > MAX_RAM) throw new BadInput(`--mem ${mem} is above the maximum of ${MAX_RAM / 2 ** 20}M`);
  const time = v.time ?? 'realtime';
  if (time !== 'realtime' && time !== 'deterministic') throw new BadInput(`--time "${time}" must be realtime or deterministic`);
  let hangMs: number | undefined;
  if (v['hang-timeout'] !== undefined) {
    const s = Number(v['hang-timeout']);
    if (!(s > 0)) throw new BadInput(`--hang-timeout "${v['hang-timeout']}" is not a positive number of seconds`);
    hangMs = s * 1000;
  }
  const read = async (what: string, path: string, gz: boolean) => {
    try {
      return gz ? await readMaybeGzip(path) : new Uint8Array(await readFile(path));
    } catch (e) {
      throw new BadInput(`--${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  let script: ConsoleStep[] | undefined;
  if (v.script !== undefined) {
    const text = new TextDecoder().decode(await read('script', v.script, false));
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new BadInput(`--script ${v.script}: not JSON: ${(e as Error).message}`);
    }
    script = parseConsoleScript(json, v.script);
  }
  return {
    config: {
      ramBytes,
      timeMode: time as TimeMode,
      images: {
        firmware: await read('bios', v.bios ?? BUILTIN.firmware, false),
        kernel: await read('kernel', v.kernel ?? BUILTIN.kernel, true),
        initrd: v.initrd === 'none' ? undefined : await read('initrd', v.initrd ?? BUILTIN.initrd, false),
        bootargs: v.append ?? DEFAULT_BOOTARGS,
      },
    },
    script,
    hangMs,
  };
}

async function runInteractive(vm: Vm, opts: BootOptions, io: CliIo): Promise<number> {
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  let quit = false;
  let lastOutput = performance.now();
  let scriptDoneAt: number | undefined;
  let wake: (() => void) | undefined;

  const player = opts.script
    ? new ConsoleScriptPlayer(opts.script, {
        send: (t) => vm.sendInput(t),
        guestMs: () => vm.guestMs,
        hostMs: () => performance.now(),
      })
    : undefined;
  if (player) {
    player.onStep = (r, step) => {
      if (r.status === 'failed') io.stderr(`\nromvisor boot: script step ${r.index + 1} failed: ${r.detail}\n`);
      else if (process.env.ROMVISOR_SCRIPT_VERBOSE) io.stderr(`[step ${r.index + 1} ok ${r.ms} ms ${JSON.stringify(step)}]\n`);
    };
  }

  vm.onConsole((bytes) => {
    lastOutput = performance.now();
    io.stdout(Buffer.from(bytes).toString('latin1'));
    player?.feed(Buffer.from(bytes).toString('latin1'));
  });

  // Console input: a raw terminal (Ctrl-A x quits), or whatever is piped in.
  let escape = false;
  const onData = (chunk: Buffer) => {
    if (!tty) {
      vm.sendInput(chunk);
    } else {
      const out: number[] = [];
      for (const b of chunk) {
        if (escape) {
          escape = false;
          if (b === 0x78 /* x */) quit = true;
          else if (b === CTRL_A) out.push(CTRL_A);
          continue;
        }
        if (b === CTRL_A) escape = true;
        else out.push(b);
      }
      if (out.length) vm.sendInput(Uint8Array.from(out));
    }
    wake?.();
  };
  if (!player || !tty) {
    if (tty) stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  }
  const restore = () => {
    stdin.off('data', onData);
    if (tty) stdin.setRawMode(false);
    stdin.pause();
  };

  try {
    for (;;) {
      if (quit) {
        io.stderr('\nromvisor: quit (Ctrl-A x)\n');
        return 0;
      }
      let outcome;
      try {
        outcome = vm.run(50);
      } catch (e) {
        io.stderr(`\nromvisor boot: emulator fault: ${(e as Error).message}\n  ${formatCrashReport(vm.crashReport())}\n`);
        return 4;
      }
      player?.poll();
      if (player?.failed) {
        io.stderr(`  ${formatCrashReport(vm.crashReport())}\n`);
        const timedOut = player.results.some((r) => r.status === 'failed' && r.detail?.startsWith('timed out'));
        return timedOut ? 3 : 1;
      }
      if (outcome.kind === 'poweroff') {
        if (player && !player.done) {
          io.stderr(`\nromvisor boot: the guest powered off before script step ${player.currentStep + 1}\n`);
          return 1;
        }
        return 0;
      }
      if (outcome.kind === 'reboot') {
        io.stderr('\nromvisor: the guest rebooted; exiting\n');
        return 0;
      }
      const now = performance.now();
      if (player?.done) {
        scriptDoneAt ??= now;
        if (now - scriptDoneAt > SCRIPT_GRACE_MS) return 0;
      }
      if (opts.hangMs !== undefined && now - lastOutput > opts.hangMs) {
        io.stderr(`\nromvisor boot: no console output for ${opts.hangMs / 1000} s; the guest looks hung\n  ${formatCrashReport(vm.crashReport())}\n`);
        return 3;
      }
      if (outcome.kind === 'idle' && !vm.hasPendingInput) {
        // Sleep until the guest's timer is due or input arrives (wake), polling the script.
        const ms = Math.min(outcome.wakeInMs ?? 100, 100);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, ms);
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        wake = undefined;
      } else {
        await new Promise((r) => setImmediate(r));
      }
    }
  } finally {
    restore();
  }
}
