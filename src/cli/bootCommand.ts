/**
 * `romvisor boot`: boots firmware + Linux with the console on the terminal, QEMU-like.
 *   romvisor boot SCENARIO.json
 *   romvisor boot [base | IMAGE.vhd[.gz]] [--overlay FILE | --snapshot]
 *                 [--bios FW] [--kernel Image] [--initrd FILE] [--append ARGS] [--mem 256M]
 *                 [--time realtime|deterministic] [--script FILE.json] [--hang-timeout S]
 *                 [--share DIR]
 * An appliance image boots from its own boot partition on virtio-blk; its writes go to a
 * differencing overlay (see applianceDisk.node.ts), never into the image.
 * The terminal is in raw mode (Ctrl-A x quits, as in QEMU); piped stdin is console input.
 * A kernel panic or a fault loop ends the run (exit 1), as in the page; a silent guest
 * ends it (exit 3) after --hang-timeout, or by default after SCRIPT_HANG_MS while a script plays.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readApplianceBoot } from '../boot/applianceBoot.ts';
import { PanicWatch } from '../boot/linuxPanic.ts';
import { openApplianceDisk, type ApplianceDisk, type OverlayMode } from '../boot/applianceDisk.node.ts';
import { linuxLoader, MIN_RAM, type LinuxBootImages } from '../boot/linuxBoot.ts';
import { CodedError } from '../errors/CodedError.ts';
import { loadCoreModule } from '../machine/coreModule.node.ts';
import { SMP_MAX_HARTS } from '../machine/Core.ts';
import { GuestLoop } from '../machine/GuestLoop.ts';
import { formatCrashReport, guestConsoleOf, Vm, type TimeMode, type VmConfig } from '../machine/Vm.ts';
import { DEFAULT_CONSOLE_SIZE, type ConsoleSize } from '../machine/virtio/index.ts';
import { ConsoleScriptPlayer, parseConsoleScript, type ConsoleStep } from '../scenario/consoleScript.ts';
import { parseScenarioJson, type ScenarioGuest } from '../scenario/index.ts';
import { fetchVerified } from './fetchVerified.ts';
import { BUILTIN, DEFAULT_BOOTARGS, readMaybeGzip } from './bootImages.ts';
import { parseSize } from './parseSize.ts';
import { EXIT, type CliIo } from './CliIo.ts';
import { translateQemuArgs, QEMU_FLAGS } from './qemuArgs.ts';
import { parseDriveSpecs, type DriveSpec } from './driveSpec.ts';
import { openDrives, type OpenDrives } from './openDrives.ts';
import { bareKernelLoader } from '../boot/bareKernel.ts';
import { ElfImage } from '../boot/ElfImage.ts';
import { VIRTIO_SLOTS } from '../machine/physicalMap.ts';
import { GdbServer, parseGdbAddress, type GdbAddress } from '../gdb/GdbServer.node.ts';
import { NinePServer } from '../share/index.ts';
import { HostDirShare } from '../share/node.ts';

const QEMU_FLAGS_TEXT = QEMU_FLAGS.join(' ');
import { parseJitMode } from '../jit/Jit.ts';

const USAGE = `usage: romvisor boot SCENARIO.json [--hang-timeout SECONDS]
       romvisor boot [base | IMAGE.vhd | IMAGE.vhd.gz] [--overlay FILE | --snapshot]
                    [--bios FW] [--kernel Image[.gz]] [--initrd FILE] [--append "ARGS"]
                    [--mem 256M] [--time realtime|deterministic] [--script FILE.json]
                    [--hang-timeout SECONDS] [--console-size COLSxROWS] [--share DIR] [--smp N]
                    [--jit off|auto|eager]
       romvisor boot --bios none --kernel KERNEL.elf [--drive FILE[,format=raw|vhd][,readonly]]...
                    [--mem 128M] [--smp N] [--append "ARGS"] [--snapshot] [--gdb tcp::PORT] [--wait-debugger]
       romvisor boot -machine virt -bios none -kernel KERNEL.elf -m 128M -smp 1 -nographic
                    -global virtio-mmio.force-legacy=false
                    -drive file=fs.img,if=none,format=raw,id=x0
                    -device virtio-blk-device,drive=x0,bus=virtio-mmio-bus.0 [-s] [-S]
--bios none starts an ELF kernel as QEMU's virt board does: its segments at their
physical addresses, every hart in M-mode at 0x80000000 with a0 = hartid and a1 = the
device tree, the UART at 0x10000000. --smp N (1-8, QEMU's -smp) gives the machine N
harts, interleaved on one core in fixed turns; with Linux, OpenSBI starts the others. --drive disks go on virtio-mmio (modern, as QEMU
with force-legacy=false) from 0x10001000 (IRQ 1) up, in order; a -device without bus=
takes the highest free slot, as under QEMU. Raw drives are written in place and
locked against other runs; --snapshot keeps writes in memory, readonly refuses them.
QEMU flags accepted: ${QEMU_FLAGS_TEXT}; any other single-dash flag is refused by name.
An appliance image boots the kernel, initrd and command line on its boot partition
(--kernel/--initrd replace them, --append adds to the command line, --mem overrides
its memory). Guest writes go to a differencing overlay: --overlay FILE (created if
missing), --snapshot (a temporary one, the default with --script), or else a
persistent one per image under $XDG_DATA_HOME/romvisor (~/.local/share/romvisor).
An overlay serves one run at a time: one in use by another romvisor process is
refused (exit 2), as is an overlay that is the image itself.
With no image argument: "base" (appliances/base.vhd.gz) if it is built and no
--kernel/--initrd is given; otherwise the built-in OpenSBI + Linux 6.1 + busybox
initramfs. Ctrl-A x quits.
The guest's console (virtio-console, hvc0) has the terminal's size and follows its
resizes; with --time deterministic, or when stdout is not a terminal, it is 80x24
unless --console-size (or a scenario's consoleSize) says otherwise.
A guest that panics ("Kernel panic - not syncing: ...") or is stuck repeating one
fault ends the run with exit 1 and that line. --hang-timeout ends a run whose guest
prints nothing for SECONDS (exit 3); while a script (--script, a scenario) plays, a
guest that prints nothing and passes no step for 60 s is hung unless --hang-timeout
says otherwise (seconds of guest time with --time deterministic). Without a script
there is no hang timeout unless given. --share DIR shares a host directory with
the guest read-write over virtio-9p (like QEMU's -virtfs local,security_model=none,
mount tag "host"; the appliances mount it at /mnt/host): the guest cannot reach
outside DIR, and host symbolic links in it are shown as links, never followed.
--jit auto translates hot guest code to WebAssembly, eager translates every page
it runs (default off); the guest's behaviour is the same, instruction for
instruction. Exit codes: 0 powered off, 1 the guest
panicked or crashed or a script step failed, 2 bad input, 3 timeout (script or
hang), 4 emulator fault.`;



const CTRL_A = 0x01;
/** wasm32 memory holds the core's tables and RAM below 4 GiB. */
const MAX_RAM = 2048 * 2 ** 20;
/** A bare kernel's RAM must hold it and the device tree below the top. */
const MIN_BARE_RAM = 2 * 2 ** 20;
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

/** A command line or scenario file the boot command cannot use. */
class BadInput extends CodedError<'usage'> {
  override readonly name = 'BadInput';
  constructor(message: string) {
    super('usage', message);
  }
}

/** The committed image of a built-in appliance, by name (appliances/NAME.vhd.gz). */
function builtinAppliance(name: string): string {
  return fileURLToPath(new URL(`../../appliances/${name}.vhd.gz`, import.meta.url));
}

/** `romvisor boot base`, and a bare `romvisor boot`. */
export const BASE_APPLIANCE = builtinAppliance('base');

const BOOT_OPTIONS = {
  bios: { type: 'string' },
  kernel: { type: 'string' },
  initrd: { type: 'string' },
  append: { type: 'string' },
  mem: { type: 'string', short: 'm' },
  time: { type: 'string' },
  script: { type: 'string' },
  'hang-timeout': { type: 'string' },
  'console-size': { type: 'string' },
  overlay: { type: 'string' },
  snapshot: { type: 'boolean' },
  drive: { type: 'string', multiple: true },
  device: { type: 'string', multiple: true },
  smp: { type: 'string' },
  gdb: { type: 'string' },
  'wait-debugger': { type: 'boolean' },
  share: { type: 'string' },
  jit: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** romvisor's options that take a value: what follows them is never read as a QEMU flag. */
const VALUE_OPTIONS = new Set(Object.entries(BOOT_OPTIONS).filter(([, o]) => o.type === 'string').map(([name]) => name));

/** Errors that mean the input (arguments, image, script, disk) is bad, one line and exit 2: every CodedError. */
function isBadInput(e: unknown): e is Error {
  return e instanceof CodedError;
}

export async function bootCommand(qemuArgv: string[], io: CliIo): Promise<number> {
  try {
    const argv = translateQemuArgs(qemuArgv, VALUE_OPTIONS);
    let first: string | undefined;
    try {
      first = parseArgs({ args: argv, allowPositionals: true, strict: false, options: BOOT_OPTIONS }).positionals[0];
    } catch {
      // parseBootArgs below reports malformed options
    }
    if (first !== undefined && /\.json$/i.test(first)) return await bootScenario(first, argv.filter((a) => a !== first), io);
    const opts = await parseBootArgs(argv);
    if (opts === 'help') {
      io.stdout(USAGE + '\n');
      return EXIT.ok;
    }
    return await bootWith(opts, io);
  } catch (e) {
    return reportBootError(e, io);
  }
}

/** One line and exit 2 for bad input; anything else is a bug and propagates. */
function reportBootError(e: unknown, io: CliIo): number {
  if (isBadInput(e)) {
    io.stderr(`romvisor boot: ${e.message.replace(/\n/g, ' ')}\n`);
    return EXIT.badInput;
  }
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
    io.stderr(`romvisor boot: ${(e as Error).message}\n`);
    return EXIT.badInput;
  }
  throw e;
}

/** Boots one guest as the options say and runs its console until it ends. */
async function bootWith(opts: BootOptions, io: CliIo): Promise<number> {
  let appliance: ApplianceDisk | undefined;
  let drives: OpenDrives | undefined;
  let vm: Vm | undefined;
  let gdb: GdbServer | undefined;
  let share: NinePServer | undefined;
  try {
    if (opts.share !== undefined) {
      share = new NinePServer(await HostDirShare.open(opts.share));
      share.onUnexpectedError = (e) => io.stderr(`romvisor boot: --share ${opts.share}: ${(e as Error).message ?? String(e)}\n`);
    }
    if (opts.appliance) {
      appliance = await openApplianceDisk({ image: opts.appliance.image, overlay: opts.appliance.overlay });
      await applyAppliance(opts, appliance);
    }
    drives = await openDrives(opts.drives, opts.snapshot);
    const { images, ...config } = opts.config;
    const disks = [...(config.disks ?? []), ...drives.disks];
    const boot = opts.bareKernel
      ? { boot: bareKernelLoader(opts.bareKernel, { bootargs: images.bootargs }) }
      : { boot: linuxLoader(images), guestConsole: guestConsoleOf(images.bootargs) };
    try {
      vm = await Vm.create(await loadCoreModule(), { ...config, disks, share, ...boot });
    } catch (e) {
      // --drive slots that other devices (console, network, shared folder) hold already.
      if (e instanceof RangeError && /virtio slot/.test(e.message)) throw new BadInput(e.message);
      throw e;
    }
    if (opts.gdb) {
      gdb = await GdbServer.listen(vm, opts.gdb.address, opts.gdb.wait);
      const where = `tcp:${opts.gdb.address.host}:${gdb.port}`;
      io.stderr(opts.gdb.wait ? `romvisor: waiting for gdb on ${where} (target remote ${opts.gdb.address.host}:${gdb.port})\n` : `romvisor: gdb stub on ${where}\n`);
    }
    return await runInteractive(vm, opts, io, gdb);
  } finally {
    await gdb?.dispose();
    // Disk work the guest started finishes before the overlay is flushed and closed.
    await vm?.dispose();
    await drives?.dispose();
    await appliance?.dispose();
    await share?.reset();
  }
}

/**
 * `romvisor boot SCENARIO.json`: the scenario's guests, one after another, each on a fresh
 * temporary overlay over its untouched built-in appliance, each playing its console
 * script. Exits with the first failing guest's code (1 failed step, 3 timeout). This is
 * how users script CI for their own appliances.
 */
async function bootScenario(path: string, flags: string[], io: CliIo): Promise<number> {
  const allowed = ['--hang-timeout', '--jit'];
  const extra = flags.filter((f, i) => !allowed.includes(f) && !allowed.includes(flags[i - 1]!));
  if (extra.length) throw new BadInput(`${path}: with a scenario only --hang-timeout and --jit may be given (got ${extra[0]})`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new BadInput(`${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const scenario = parseScenarioJson(text, path);
  if (scenario.title) io.stderr(`romvisor: scenario "${scenario.title}"\n`);
  for (const [i, guest] of scenario.guests.entries()) {
    if (guest.kernel) {
      const code = await bootKernelGuest(guest, flags, `guest ${i + 1} of ${scenario.guests.length}`, scenario.guests.length > 1, io);
      if (code !== EXIT.ok) return code;
      continue;
    }
    const where = `${path}: guests[${i}].appliance`;
    const a = guest.appliance!;
    if (!('builtin' in a)) {
      throw new BadInput(`${where}: the CLI boots built-in appliances only; ${'url' in a ? 'appliances by URL' : 'local images'} open in the page`);
    }
    const image = builtinAppliance(a.builtin);
    if (!existsSync(image)) throw new BadInput(`${where}: there is no built-in appliance "${a.builtin}" (${image} is missing)`);
    const argv = [image, '--snapshot', '--mem', `${guest.memoryMiB}M`, '--smp', String(guest.harts ?? 1), '--time', guest.time, ...flags];
    if (guest.cmdline) argv.push('--append', guest.cmdline);
    if (guest.consoleSize) argv.push('--console-size', `${guest.consoleSize.cols}x${guest.consoleSize.rows}`);
    const opts = await parseBootArgs(argv);
    if (opts === 'help') return EXIT.ok;
    opts.script = guest.script;
    if (scenario.guests.length > 1) io.stderr(`romvisor: guest ${i + 1} of ${scenario.guests.length}: ${a.builtin}\n`);
    const code = await bootWith(opts, io);
    if (code !== EXIT.ok) return code;
  }
  return EXIT.ok;
}

/** What a scenario may make the CLI download for one kernel guest. */
const MAX_KERNEL_BYTES = 64 * 2 ** 20;
const MAX_DRIVE_BYTES = 1024 * 2 ** 20;

/**
 * A scenario's kernel guest: its kernel and drives downloaded (each checked against its
 * sha256) into a temporary directory, then booted as `--bios none` with the drives on a
 * snapshot, so a scenario never writes anything that outlives its run.
 */
async function bootKernelGuest(guest: ScenarioGuest, flags: string[], name: string, announce: boolean, io: CliIo): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'romvisor-kernel-'));
  try {
    const kernel = join(dir, 'kernel.elf');
    await fetchVerified(guest.kernel!, kernel, MAX_KERNEL_BYTES, `${name}: kernel`);
    const argv = ['--bios', 'none', '--kernel', kernel, '--snapshot', '--mem', `${guest.memoryMiB}M`, '--smp', String(guest.harts ?? 1), '--time', guest.time, ...flags];
    for (const [d, drive] of (guest.drives ?? []).entries()) {
      const file = join(dir, `drive${d}.${drive.format === 'vhd' ? 'vhd' : 'img'}`);
      await fetchVerified(drive, file, MAX_DRIVE_BYTES, `${name}: drive ${d + 1}`);
      argv.push('--drive', `${file},format=${drive.format}${drive.readonly ? ',readonly' : ''}`);
    }
    if (guest.cmdline) argv.push('--append', guest.cmdline);
    const opts = await parseBootArgs(argv);
    if (opts === 'help') return EXIT.ok;
    opts.script = guest.script;
    if (announce) io.stderr(`romvisor: ${name}: kernel ${guest.kernel!.url}\n`);
    return await bootWith(opts, io);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface BootOptions {
  /** The Vm's configuration, with the Linux images its loader gets. */
  config: Omit<VmConfig, 'boot'> & { images: LinuxBootImages };
  /** `--bios none`: this ELF kernel starts in M-mode at 0x8000_0000 instead of Linux behind OpenSBI. */
  bareKernel?: ElfImage;
  /** `--drive` disks, with their virtio-mmio slots. */
  drives: DriveSpec[];
  /** `--snapshot`: drives are not written (writes stay in memory). */
  snapshot: boolean;
  appliance?: { image: string; overlay: OverlayMode };
  /** What the command line said explicitly, which wins over the appliance's own files. */
  explicit: { kernel: boolean; initrd: boolean; mem: boolean; append?: string };
  script?: ConsoleStep[];
  hangMs?: number;
  /** The console follows the terminal's size (no --console-size given). */
  followTerminal?: boolean;
  /** --share DIR. */
  share?: string;
  /** `--gdb` (QEMU's -gdb, -s) and `--wait-debugger` (-S): the gdb stub. */
  gdb?: { address: GdbAddress; wait: boolean };
}

/** Takes kernel, initrd, command line and memory from the appliance's boot partition. */
async function applyAppliance(opts: BootOptions, appliance: ApplianceDisk): Promise<void> {
  const boot = await readApplianceBoot(appliance.disk);
  const images = opts.config.images;
  if (!opts.explicit.kernel) images.kernel = boot.images.kernel;
  if (!opts.explicit.initrd) images.initrd = boot.images.initrd;
  images.bootargs = [boot.manifest.cmdline, opts.explicit.append].filter((a) => a).join(' ');
  if (!opts.explicit.mem && boot.manifest.memoryMiB !== undefined) opts.config.ramBytes = boot.manifest.memoryMiB * 2 ** 20;
  opts.config.disks = [{ disk: appliance.disk, serial: boot.manifest.name }];
}

async function parseBootArgs(argv: string[]): Promise<BootOptions | 'help'> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      allowPositionals: true,
      options: BOOT_OPTIONS,
    });
  } catch (e) {
    throw new BadInput((e as Error).message);
  }
  const v = args.values;
  if (v.help) return 'help';
  if (args.positionals.length > 1) throw new BadInput(`unexpected argument "${args.positionals[1]}" (one image at most)`);
  if (v['wait-debugger'] && v.gdb === undefined) throw new BadInput('--wait-debugger (-S) waits for gdb: give --gdb tcp::PORT (or -s) too');
  const gdb = v.gdb === undefined ? undefined : { address: parseGdbAddress(v.gdb), wait: v['wait-debugger'] === true };
  const bare = v.bios === 'none';
  if (bare) {
    if (v.kernel === undefined) throw new BadInput('--bios none needs --kernel ELF (the kernel starts in M-mode at 0x80000000)');
    if (args.positionals.length > 0) throw new BadInput(`--bios none boots --kernel, not the image "${args.positionals[0]}" (give disks with --drive)`);
    if (v.initrd !== undefined) throw new BadInput('--initrd is not supported with --bios none');
    if (v.overlay !== undefined) throw new BadInput('--overlay is for appliance images; --drive disks are written in place unless --snapshot');
  }
  const image = bare ? undefined : chooseImage(args.positionals[0], v.kernel !== undefined || v.initrd !== undefined);
  if (v.overlay !== undefined && v.snapshot) throw new BadInput('--overlay and --snapshot exclude each other');
  if (!image && (v.overlay !== undefined || (v.snapshot && !v.drive))) throw new BadInput(`--${v.snapshot ? 'snapshot' : 'overlay'} needs an appliance image (base or IMAGE.vhd[.gz]) or a --drive`);
  // Scripts are repeatable runs: unless told where, their writes vanish with them.
  const overlay: OverlayMode =
    v.overlay !== undefined ? { kind: 'file', path: v.overlay } : v.snapshot || v.script !== undefined ? { kind: 'snapshot' } : { kind: 'persistent' };
  // QEMU's default memory for a bare kernel; Linux needs more.
  const mem = v.mem ?? (bare ? '128M' : '256M');
  const ramBytes = parseSize(mem);
  const minRam = bare ? MIN_BARE_RAM : MIN_RAM;
  if (ramBytes === undefined) throw new BadInput(`--mem "${mem}" is not a size like 256M or 1G`);
  if (ramBytes < minRam) throw new BadInput(`--mem ${mem} is below the minimum of ${minRam >> 20}M`);
  if (ramBytes > MAX_RAM) throw new BadInput(`--mem ${mem} is above the maximum of ${MAX_RAM / 2 ** 20}M`);
  let harts = 1;
  if (v.smp !== undefined) {
    harts = Number(v.smp);
    if (!Number.isInteger(harts) || harts < 1 || harts > SMP_MAX_HARTS) throw new BadInput(`--smp "${v.smp}" is not a number of harts from 1 to ${SMP_MAX_HARTS}`);
  }
  // The virtio console sits on slot 0 beside Linux, an appliance's disk on the last slot.
  const reserved = bare ? [] : image ? [0, VIRTIO_SLOTS - 1] : [0];
  const drives = parseDriveSpecs(v.drive ?? [], v.device ?? [], VIRTIO_SLOTS, reserved);
  const time = v.time ?? 'realtime';
  if (time !== 'realtime' && time !== 'deterministic') throw new BadInput(`--time "${time}" must be realtime or deterministic`);
  const jit = parseJitMode(v.jit ?? 'off', '--jit');
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
  if (bare) {
    if (v['console-size'] !== undefined) throw new BadInput('--console-size is for Linux guests; a bare kernel has the UART only');
    const bytes = await read('kernel', v.kernel!, false);
    return {
      config: { ramBytes, harts, timeMode: time as TimeMode, images: { firmware: new Uint8Array(0), kernel: bytes, bootargs: v.append ?? '' } },
      bareKernel: ElfImage.parse(bytes, `--kernel ${v.kernel}`),
      drives,
      snapshot: v.snapshot === true,
      gdb,
      explicit: { kernel: true, initrd: false, mem: v.mem !== undefined, append: v.append },
      script,
      hangMs,
      followTerminal: false,
    };
  }
  const consoleSize = chooseConsoleSize(v['console-size'], time === 'deterministic');
  const firmware = await read('bios', v.bios ?? BUILTIN.firmware, false);
  const kernel = v.kernel !== undefined || !image ? await read('kernel', v.kernel ?? BUILTIN.kernel, true) : new Uint8Array(0);
  const initrd = v.initrd === 'none' || (image && v.initrd === undefined) ? undefined : await read('initrd', v.initrd ?? BUILTIN.initrd, false);
  return {
    config: {
      ramBytes,
      harts,
      timeMode: time as TimeMode,
      console: consoleSize,
      jit,
      images: { firmware, kernel, initrd, bootargs: v.append ?? DEFAULT_BOOTARGS },
    },
    drives,
    snapshot: v.snapshot === true,
      gdb,
    appliance: image ? { image, overlay } : undefined,
    explicit: { kernel: v.kernel !== undefined, initrd: v.initrd !== undefined, mem: v.mem !== undefined, append: v.append },
    script,
    hangMs,
    followTerminal: v['console-size'] === undefined,
    share: v.share,
  };
}

/**
 * The guest console's size: --console-size, else the terminal's (realtime, stdout a
 * terminal), else 80x24, so a deterministic run prints the same bytes in any window.
 */
function chooseConsoleSize(flag: string | undefined, deterministic: boolean): ConsoleSize {
  if (flag !== undefined) {
    const m = /^(\d{1,5})x(\d{1,5})$/.exec(flag);
    const size = m && { cols: Number(m[1]), rows: Number(m[2]) };
    if (!size || size.cols < 1 || size.rows < 1 || size.cols > 0xffff || size.rows > 0xffff) {
      throw new BadInput(`--console-size "${flag}" is not COLSxROWS like 80x24`);
    }
    return size;
  }
  return deterministic ? { ...DEFAULT_CONSOLE_SIZE } : terminalSize();
}

function terminalSize(): ConsoleSize {
  const out = process.stdout;
  return out.isTTY && out.columns > 0 && out.rows > 0 ? { cols: out.columns, rows: out.rows } : { ...DEFAULT_CONSOLE_SIZE };
}

/** The appliance image to boot, or undefined for a kernel/initrd boot. */
function chooseImage(positional: string | undefined, kernelFlags: boolean): string | undefined {
  if (positional === undefined) return !kernelFlags && existsSync(BASE_APPLIANCE) ? BASE_APPLIANCE : undefined;
  if (positional === 'base') {
    if (!existsSync(BASE_APPLIANCE)) throw new BadInput(`the base appliance ${BASE_APPLIANCE} is not built yet (appliances/build)`);
    return BASE_APPLIANCE;
  }
  if (!/\.vhd(\.gz)?$/i.test(positional)) throw new BadInput(`"${positional}" is not base, IMAGE.vhd or IMAGE.vhd.gz`);
  // The appliances are committed compressed: `boot appliances/sqlite.vhd` means the .vhd.gz.
  if (/\.vhd$/i.test(positional) && !existsSync(positional) && existsSync(`${positional}.gz`)) return `${positional}.gz`;
  return positional;
}

async function runInteractive(vm: Vm, opts: BootOptions, io: CliIo, gdb?: GdbServer): Promise<number> {
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  let quit = false;
  let scriptDoneAt: number | undefined;
  const loop = new GuestLoop();
  const deterministic = vm.timeMode === 'deterministic';

  // A kernel panic ends the run once the kernel has had a moment to finish printing it:
  // at this host time (realtime) or instruction count (deterministic).
  const panic = new PanicWatch();
  let panicEnd: { hostMs: number } | { insns: bigint } | undefined;

  // The hang watchdog counts host time, or guest time in deterministic mode, since the last
  // console output or script step. A deterministic guest idle with nothing to wake it has a
  // clock that stands still: then host time counts (`frozenSince`).
  const hangMs = opts.hangMs ?? (opts.script ? SCRIPT_HANG_MS : undefined);
  const clock = () => (deterministic ? vm.guestMs : performance.now());
  let lastProgress = clock();
  let frozenSince: number | undefined;

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
      lastProgress = clock();
    };
  }

  vm.onConsole((bytes) => {
    lastProgress = clock();
    const text = Buffer.from(bytes).toString('latin1');
    io.stdout(text);
    panic.feed(text);
    if (panic.seen && !panicEnd) {
      panicEnd = deterministic ? { insns: vm.core.instructions + PANIC_GRACE_INSNS } : { hostMs: performance.now() + PANIC_GRACE_MS };
    }
    if (!panicEnd) player?.feed(text);
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
    loop.wake();
  };
  if (!player || !tty) {
    if (tty) stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  }
  // The terminal's resizes (SIGWINCH) reach the guest's console; a deterministic Vm ignores them.
  const followSize = !deterministic && opts.followTerminal === true && process.stdout.isTTY === true;
  const onResize = () => {
    vm.resizeConsole(terminalSize());
    loop.wake();
  };
  if (followSize) process.stdout.on('resize', onResize);
  const restore = () => {
    if (followSize) process.stdout.off('resize', onResize);
    stdin.off('data', onData);
    if (tty) stdin.setRawMode(false);
    stdin.pause();
  };

  try {
    for (;;) {
      if (quit) {
        io.stderr('\nromvisor: quit (Ctrl-A x)\n');
        return EXIT.ok;
      }
      if (gdb?.killed) {
        io.stderr('\nromvisor: killed by gdb\n');
        return EXIT.ok;
      }
      if (gdb?.stub.halted) {
        // Stopped for the debugger: its packets arrive between these naps; a stopped guest
        // is not hung.
        await loop.sleep(20);
        lastProgress = clock();
        continue;
      }
      let outcome;
      try {
        // After a panic, a deterministic run stops exactly at the end of the grace count.
        const maxInsns = panicEnd && 'insns' in panicEnd ? panicEnd.insns - vm.core.instructions : undefined;
        outcome = vm.runUntil({ maxMs: 50, maxInsns: maxInsns !== undefined && maxInsns < 0n ? 0n : maxInsns });
      } catch (e) {
        io.stderr(`\nromvisor boot: emulator fault: ${(e as Error).message}\n  ${formatCrashReport(vm.crashReport())}\n`);
        return EXIT.fault;
      }
      if (gdb?.stub.afterRun(outcome)) continue;
      if (panicEnd) {
        const over = 'insns' in panicEnd ? vm.core.instructions >= panicEnd.insns : performance.now() >= panicEnd.hostMs;
        const ended = outcome.kind === 'poweroff' || outcome.kind === 'reboot' || outcome.kind === 'crashed';
        if (over || ended) {
          io.stderr(`\nromvisor boot: the guest panicked: ${panic.line}\n`);
          return EXIT.failed;
        }
        // The script and the hang watchdog wait: the panic decides how this run ends.
        await loop.rest(vm, outcome, 100);
        continue;
      }
      player?.poll();
      if (player?.failed) {
        io.stderr(`  ${formatCrashReport(vm.crashReport())}\n`);
        const timedOut = player.results.some((r) => r.status === 'failed' && r.detail?.startsWith('timed out'));
        return timedOut ? EXIT.timeout : EXIT.failed;
      }
      if (outcome.kind === 'poweroff') {
        // The test device's FAIL (a bare kernel's panic, as QEMU exits with its code).
        if (outcome.by === 'fail') {
          io.stderr(`\nromvisor boot: the guest powered off with failure code ${outcome.value}\n`);
          return EXIT.failed;
        }
        if (player && !player.done) {
          io.stderr(`\nromvisor boot: the guest powered off before script step ${player.currentStep + 1}\n`);
          return EXIT.failed;
        }
        return EXIT.ok;
      }
      if (outcome.kind === 'crashed') {
        io.stderr(`\nromvisor boot: the guest crashed: it is stuck taking exceptions\n  ${formatCrashReport(outcome.report)}\n`);
        return EXIT.failed;
      }
      if (outcome.kind === 'reboot') {
        io.stderr('\nromvisor: the guest rebooted; exiting\n');
        return EXIT.ok;
      }
      const now = performance.now();
      if (player?.done) {
        scriptDoneAt ??= now;
        // Done: once the guest has taken all input and waits for more (an idle shell),
        // or powers off (a final "poweroff" step), or at the latest after the grace time.
        if (GuestLoop.settled(vm, outcome)) return EXIT.ok;
        if (now - scriptDoneAt > SCRIPT_GRACE_MS) return EXIT.ok;
      }
      // The default watchdog is the script's: a guest whose script has ended is not watched.
      if (hangMs !== undefined && (opts.hangMs !== undefined || !player?.done)) {
        const frozen = deterministic && outcome.kind === 'idle' && outcome.wakeInMs === undefined && !vm.hasPendingInput && vm.pendingWork() === undefined;
        frozenSince = frozen ? (frozenSince ?? now) : undefined;
        // A `wait` step is progress too: its length is added to the allowance.
        const step = player && !player.done ? player.steps[player.currentStep] : undefined;
        const allowance = hangMs + (step && 'wait' in step ? step.wait * 1000 : 0);
        const silent = Math.max(clock() - lastProgress, frozenSince === undefined ? 0 : now - frozenSince);
        if (silent > allowance) {
          const what = player ? 'no console output and no script step passed' : 'no console output';
          const why = opts.hangMs === undefined ? ' (the default while a script plays; --hang-timeout SECONDS changes it)' : '';
          io.stderr(`\nromvisor boot: ${what} for ${hangMs / 1000} s${deterministic ? ' of guest time' : ''}; the guest looks hung${why}\n  ${formatCrashReport(vm.crashReport())}\n`);
          return EXIT.timeout;
        }
      }
      // Sleep while idle until the guest's timer is due, input arrives or disk work the
      // guest waits for settles (at most 100 ms, to poll the script's timeouts).
      await loop.rest(vm, outcome, 100);
    }
  } finally {
    restore();
  }
}
