/**
 * `romvisor boot`: boots firmware + Linux with the console on the terminal, QEMU-like.
 *   romvisor boot SCENARIO.json
 *   romvisor boot [NAME | IMAGE.vhd[.gz]] [--overlay FILE | --snapshot]
 *                 [--bios FW] [--kernel Image] [--initrd FILE] [--append ARGS] [--mem 256M]
 *                 [--time realtime|deterministic] [--script FILE.json] [--hang-timeout S]
 *                 [--share DIR]
 * An appliance image boots from its own boot partition on virtio-blk; its writes go to a
 * differencing overlay (see applianceDisk.node.ts), never into the image.
 * The terminal is in raw mode (Ctrl-A x quits, as in QEMU); piped stdin is console input.
 * A kernel panic or a fault loop ends the run (exit 1), as in the page; a silent guest
 * ends it (exit 3) after --hang-timeout, or by default after SCRIPT_HANG_MS while a script plays.
 */
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readApplianceBoot } from '../boot/applianceBoot.ts';
import { openApplianceDisk, type ApplianceDisk, type OverlayMode } from '../boot/applianceDisk.node.ts';
import { linuxLoader, MIN_RAM, type LinuxBootImages } from '../boot/linuxBoot.ts';
import { CodedError } from '../errors/CodedError.ts';
import { loadCoreModule } from '../machine/coreModule.node.ts';
import { SMP_MAX_HARTS } from '../machine/Core.ts';
import { GuestLoop } from '../machine/GuestLoop.ts';
import { guestConsoleOf, Vm, type TimeMode, type VmConfig } from '../machine/Vm.ts';
import { DEFAULT_CONSOLE_SIZE, type ConsoleSize } from '../machine/virtio/index.ts';
import { parseConsoleScript, type ConsoleStep } from '../scenario/consoleScript.ts';
import { guestName, parseScenarioJson, SCENARIO_LIMITS, type ScenarioGuest } from '../scenario/index.ts';
import { fetchVerified } from '../scenario/fetchVerified.ts';
import { BUILTIN, DEFAULT_BOOTARGS, readMaybeGzip } from './bootImages.ts';
import { parseSize } from './parseSize.ts';
import { EXIT, type CliIo } from './CliIo.ts';
import { GuestSession, type GuestVerdict } from './GuestSession.ts';
import { ConsoleLogs, ConsolePrefixer, connectGuest, joinLockstep, realtimeSwitch, runGuests, type NetGuest } from './runGuests.ts';
import { captureToFile } from './pcapFile.ts';
import { checkHostForwards, startHostForwards } from './hostForwards.ts';
import { deliverFrames, Lockstep, macFromName, runToBoundary, VM_NAME_PATTERN, VM_NAME_RULE, type EthernetSwitch } from '../net/index.ts';
import { translateQemuArgs, QEMU_FLAGS } from './qemuArgs.ts';
import { parseDriveSpecs, type DriveSpec } from './driveSpec.ts';
import { openDrives, type OpenDrives } from './openDrives.ts';
import { bareKernelVmConfig } from '../boot/bareKernel.ts';
import { ElfImage } from '../boot/ElfImage.ts';
import { VIRTIO_SLOTS } from '../machine/physicalMap.ts';
import { GdbServer, parseGdbAddress, type GdbAddress } from '../gdb/GdbServer.node.ts';
import { NinePServer } from '../share/index.ts';
import { HostDirShare } from '../share/node.ts';
import { openRemoteAppliance, type RemoteAppliance } from '../repo/node.ts';
import { chainFiles } from '../disk/node.ts';
import type { VmState } from '../machine/index.ts';
import { StateError } from '../state/StateError.ts';
import { readStateFile, verifyChain } from '../state/stateFiles.node.ts';
import { finishSave, freshOverlayFor, NO_LOADER, unpackEmbedded, type SaveRequest, type UnpackedState } from './saveState.ts';
import type { StateDiskFile } from '../state/MachineStateFile.ts';

const QEMU_FLAGS_TEXT = QEMU_FLAGS.join(' ');
import { defaultJitMode, parseJitMode } from '../jit/Jit.ts';

const USAGE = `usage: romvisor boot SCENARIO.json [--hang-timeout SECONDS] [--console-log DIR] [--pcap FILE] [--hostfwd RULE]...
       romvisor boot [base | lua | sqlite | IMAGE.vhd | IMAGE.vhd.gz | --repo URL NAME[@VERSION] [--update]]
                    [--overlay FILE | --snapshot] [--data-disk FILE]
                    [--bios FW] [--kernel Image[.gz]] [--initrd FILE] [--append "ARGS"]
                    [--mem 256M] [--time realtime|deterministic] [--script FILE.json]
                    [--hang-timeout SECONDS] [--console-size COLSxROWS] [--share DIR] [--smp N]
                    [--jit off|auto|eager] [--no-net] [--name NAME] [--pcap FILE] [--console-log DIR]
                    [--hostfwd tcp:127.0.0.1:HOSTPORT-:GUESTPORT]...
                    [--save-state FILE [--self-contained]]
       romvisor boot --restore FILE [--script FILE.json] [--overlay FILE] [--save-state FILE2 [--self-contained]]
                    [--hang-timeout SECONDS] [--jit off|auto|eager] [--console-log DIR]
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
--repo URL boots appliance NAME (its newest version, or VERSION) of the repository at
URL (its folder or its repository.json, http or https) without downloading it first:
only the chunks the guest reads are fetched, each checked against the index's sha256
before the guest sees it and kept under $XDG_DATA_HOME/romvisor/chunks for later
boots (offline too); a chunk that does not match ends the run (exit 2) naming it.
A repository appliance has one system disk (overlay) per repository and name, whatever
its version: when it stands on another version than NAME@VERSION the boot is refused,
and without @VERSION the overlay's own version boots with a note that a newer one is
there. --update moves it: a new overlay over the version asked for (the newest without
@VERSION; an older one rolls back), discarding the changes made to the system disk;
the data disk (appliance.json's dataDiskMiB, /dev/vdb, mounted at /data) is kept.
--data-disk FILE keeps the data disk in FILE (made blank if missing; by default it
sits beside the overlay as NAME.data.vhd).
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
it runs, off the interpreter alone (default auto, or ROMVISOR_JIT); the guest's behaviour is the same,
instruction for instruction. ROMVISOR_JIT_STATS=1 prints the JIT's counters on
stderr at exit.
A Linux guest has a network card (eth0) on a switch of its own run (--no-net: none):
DHCP gives it 10.0.2.15 and up (fixed by its --name, default the appliance's name or
romvisor), gateway 10.0.2.2, DNS 10.0.2.3; the guests of a scenario with several
share one switch, run at once and reach each other by name; with --time
deterministic frames cross in lockstep quanta of 1 ms guest time, so consoles replay
exactly; their console lines start with [name]. --pcap FILE captures what the switch carries
(tcpdump -r FILE); --console-log DIR writes each guest's console to DIR/NAME.log.
--hostfwd tcp:[HOSTADDR]:HOSTPORT-[GUEST]:GUESTPORT (QEMU's hostfwd=, repeatable;
implies --net) forwards a host TCP port to a guest's port through the switch's host
endpoint (10.0.2.2): curl http://127.0.0.1:HOSTPORT/ reaches the guest's server.
HOSTADDR defaults to 127.0.0.1; GUEST (a VM name or 10.0.2.x) to the first guest;
HOSTPORT 0 takes a free port. The ports bound are printed on stderr.
--save-state FILE saves the whole machine (harts, devices, RAM, console input not yet
taken, disk requests in flight) on Ctrl-A s, or when the --script's last step has
passed, at the instant the guest next waits for input (where a next step's input
would land); the run then exits 0. Writes went to the overlay FILE.vhd (or --overlay),
frozen from then on: its sha256 is in the state. --restore FILE brings the machine
back in a fresh process, its memory, harts, time mode and disk from the state, writing
to a new overlay over the frozen one (temporary unless --overlay names a new file);
a deterministic guest then prints exactly what the uninterrupted run would have
printed. A state whose disk was written since is refused, as is a damaged one (exit 2).
An appliance's data disk (/data) is frozen and named with the overlay (FILE.data.vhd
beside it), and restored the same way, in a new child beside the new overlay.
--self-contained puts the frozen overlay into the state, its base named by sha256:
such a state restores on any host that has that base among its built-in appliances
(a scenario guest's "state"); --restore writes the overlay out (to --overlay, or a
temporary file) and the guest writes into it.
Exit codes: 0 powered off, 1 the guest
panicked or crashed or a script step failed, 2 bad input, 3 timeout (script or
hang), 4 emulator fault.`;



const CTRL_A = 0x01;
/** wasm32 memory holds the core's tables and RAM below 4 GiB. */
const MAX_RAM = 2048 * 2 ** 20;
/** A bare kernel's RAM must hold it and the device tree below the top. */
const MIN_BARE_RAM = 2 * 2 ** 20;
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

/** The names `romvisor boot NAME` takes: the appliances shipped in appliances/. */
function builtinApplianceNames(): string[] {
  const dir = fileURLToPath(new URL('../../appliances/', import.meta.url));
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.vhd.gz')).map((f) => f.slice(0, -'.vhd.gz'.length)).sort() : [];
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
  repo: { type: 'string' },
  update: { type: 'boolean' },
  'data-disk': { type: 'string' },
  jit: { type: 'string' },
  name: { type: 'string' },
  net: { type: 'boolean' },
  'no-net': { type: 'boolean' },
  pcap: { type: 'string' },
  'console-log': { type: 'string' },
  hostfwd: { type: 'string', multiple: true },
  'save-state': { type: 'string' },
  'self-contained': { type: 'boolean' },
  restore: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** What `romvisor boot SCENARIO.json` takes besides the file: the rest comes from the scenario. */
const SCENARIO_FLAGS = ['hang-timeout', 'jit', 'console-log', 'pcap', 'hostfwd'];

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
    if (argv.some((a) => a === '--restore' || a.startsWith('--restore='))) return await bootRestored(argv, io);
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

/** Boots one guest as the options say and runs its console until it ends (and saves it, with --save-state). */
async function bootWith(opts: BootOptions, io: CliIo): Promise<number> {
  const save: SaveRequest | undefined = opts.saveState === undefined ? undefined : { path: opts.saveState, chains: [], selfContained: opts.selfContained };
  const code = await runGuest(opts, io, save);
  return save ? finishSave(save, code, io) : code;
}

async function runGuest(opts: BootOptions, io: CliIo, save: SaveRequest | undefined, restored?: VmState): Promise<number> {
  let appliance: ApplianceDisk | undefined;
  let remote: RemoteAppliance | undefined;
  let drives: OpenDrives | undefined;
  let vm: Vm | undefined;
  let gdb: GdbServer | undefined;
  let share: NinePServer | undefined;
  let stopCapture: (() => void) | undefined;
  let stopForwards: (() => Promise<void>) | undefined;
  const logs = opts.consoleLog !== undefined ? new ConsoleLogs(opts.consoleLog) : undefined;
  try {
    if (opts.share !== undefined) {
      share = new NinePServer(await HostDirShare.open(opts.share));
      share.onUnexpectedError = (e) => io.stderr(`romvisor boot: --share ${opts.share}: ${(e as Error).message ?? String(e)}\n`);
    }
    if (opts.appliance?.repo !== undefined) {
      remote = await openRemoteAppliance({
        repo: opts.appliance.repo,
        spec: opts.appliance.image,
        overlay: opts.appliance.overlay,
        update: opts.appliance.update,
        ...(opts.appliance.dataDisk !== undefined ? { dataDisk: opts.appliance.dataDisk } : {}),
        onWarning: (m) => io.stderr(`romvisor boot: ${m}\n`),
      });
      if (remote.updated) {
        const { from, to } = remote.updated;
        io.stderr(`romvisor boot: ${remote.appliance.name}: system disk moved from version ${from.version} to ${to.version} (its changes to the system disk discarded; the data disk kept)\n`);
      }
      appliance = remote.disk;
      opts.stopWhen = remote.failure;
      await applyAppliance(opts, appliance);
    } else if (opts.appliance) {
      appliance = await openApplianceDisk({ image: opts.appliance.image, overlay: opts.appliance.overlay, ...(opts.appliance.dataDisk !== undefined ? { dataDisk: opts.appliance.dataDisk } : {}), ...(opts.appliance.dataDiskOver !== undefined ? { dataDiskOver: opts.appliance.dataDiskOver } : {}) });
      // A restored machine's disk is the state's frozen overlay under a new child; its boot
      // files were read long ago, when the machine booted.
      if (restored) {
        opts.config.disks = [{ disk: appliance.disk, serial: restored.shape.disks[0]!.serial }];
        // Its data disk: a new child over the one the state froze (restoreWith names it).
        const data = restored.shape.disks[1];
        if (data) opts.config.disks.push({ disk: await appliance.openDataDisk(Math.ceil(data.bytes / 2 ** 20)), serial: data.serial });
        // Its card's name on the new switch (DHCP, DNS): --name, else the appliance's, as at boot.
        const manifestName = (await readApplianceBoot(appliance.disk)).manifest.name;
        if (opts.name === undefined && VM_NAME_PATTERN.test(manifestName)) opts.name = manifestName;
      } else await applyAppliance(opts, appliance);
    }
    drives = await openDrives(opts.drives, opts.snapshot);
    const { images, ...config } = opts.config;
    const disks = [...(config.disks ?? []), ...drives.disks];
    const name = opts.name ?? 'romvisor';
    // A Linux guest has a network card (eth0) on a switch of its own run, as QEMU's virt
    // board has one on its user network: DHCP and DNS answer it even alone. In
    // deterministic time it runs in lockstep quanta (src/net/Lockstep.ts), as the page's
    // scenario guests do, so both print the same bytes. A bare kernel has the UART only,
    // as under QEMU; --no-net takes the card away.
    const wantNet = opts.net !== false;
    const machine = opts.bareKernel
      ? bareKernelVmConfig({ ...config, elf: opts.bareKernel, bootargs: images.bootargs, disks })
      : { ...config, disks, boot: linuxLoader(images), guestConsole: guestConsoleOf(images.bootargs), ...(wantNet ? { net: { mac: macFromName(name) } } : {}) };
    try {
      // A restored machine's RAM, harts and devices come from its state: nothing to load.
      const restoredNet = restored?.shape.netMac === undefined ? {} : { net: { mac: Uint8Array.from(restored.shape.netMac.match(/../g)!, (h) => parseInt(h, 16)) } };
      vm = await Vm.create(await loadCoreModule(), restored ? { ...config, disks, share, boot: NO_LOADER, ...restoredNet } : { ...machine, share });
      if (restored) vm.applyState(restored);
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
    // One guest still has its switch: DHCP, DNS and --pcap work as with several.
    const net: LoneNet | undefined = !vm.netDevice ? undefined : vm.timeMode === 'deterministic' ? { ls: new Lockstep(vm.core.mtime), name } : { sw: realtimeSwitch(), name };
    const sw = net && ('ls' in net ? net.ls.sw : net.sw);
    if (sw && opts.pcap !== undefined) stopCapture = captureToFile(sw, opts.pcap);
    if (sw && opts.hostfwd?.length) stopForwards = await startHostForwards(opts.hostfwd, () => sw, io);
    // The data disk is frozen with the system disk: a state names (and checks) both.
    if (save && appliance) save.chains = [appliance.disk, ...(appliance.dataDisk ? [appliance.dataDisk] : [])].map((d) => chainFiles(d).map((f) => f.path));
    return await runInteractive(vm, opts, io, gdb, net, logs?.open(name), save, restored !== undefined);
  } finally {
    await stopForwards?.();
    stopCapture?.();
    logs?.close();
    await gdb?.dispose();
    // What the JIT did (pages compiled, guest instructions run compiled): the only sign
    // outside the process that --jit changed anything, as the console output must not.
    if (vm && process.env.ROMVISOR_JIT_STATS) io.stderr(`romvisor: jit ${JSON.stringify(vm.core.jitStats())}\n`);
    // Disk work the guest started finishes before the overlay is flushed and closed.
    await vm?.dispose();
    await drives?.dispose();
    await appliance?.dispose();
    await share?.reset();
    if (remote) io.stderr(`romvisor: ${remoteSummary(remote)}\n`);
  }
}

/** What a lazy remote disk cost: the line tests and the benchmark read. */
function remoteSummary(r: RemoteAppliance): string {
  const s = r.stats();
  const how = s.fullDownload ? 'the server ignores Range: one full download' : `${s.requests} range request(s)`;
  return `${r.appliance.name}@${r.version.version} from ${r.fileUrl.href}: fetched ${s.fetchedBytes} of ${r.version.size} bytes (${how}), ${s.fetchedChunks} chunk(s) verified, ${s.storeChunks} from the local store`;
}

/**
 * `romvisor boot SCENARIO.json`: the scenario's guests, each on a fresh temporary overlay
 * over its untouched built-in appliance, each playing its console script. Several
 * appliance guests run at once on one switch (runGuests), their console lines behind
 * `[name] `; one guest, or a scenario with bare-kernel guests, runs one guest after
 * another as `romvisor boot IMAGE` does. Exits 0 when every script passed, else with the
 * first failing guest's code (1 failed step, 3 timeout). This is how users script CI for
 * their own appliances.
 */
async function bootScenario(path: string, flags: string[], io: CliIo): Promise<number> {
  let values: { 'hang-timeout'?: string; jit?: string; 'console-log'?: string; pcap?: string; hostfwd?: string[] };
  try {
    values = parseArgs({
      args: flags,
      strict: true,
      options: { 'hang-timeout': { type: 'string' }, jit: { type: 'string' }, 'console-log': { type: 'string' }, pcap: { type: 'string' }, hostfwd: { type: 'string', multiple: true } },
    }).values;
  } catch {
    const extra = flags.find((f) => f.startsWith('-') && !SCENARIO_FLAGS.includes(f.replace(/^--?/, '').replace(/=.*/, ''))) ?? flags[0];
    throw new BadInput(`${path}: with a scenario only ${SCENARIO_FLAGS.map((f) => `--${f}`).join(', ')} may be given (got ${extra})`);
  }
  // What every guest's own boot takes from the command line.
  const passed = [...(values['hang-timeout'] !== undefined ? ['--hang-timeout', values['hang-timeout']] : []), ...(values.jit !== undefined ? ['--jit', values.jit] : [])];
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new BadInput(`${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const scenario = parseScenarioJson(text, path);
  if (scenario.title) io.stderr(`romvisor: scenario "${scenario.title}"\n`);
  const count = scenario.guests.length;
  const together = count > 1 && scenario.guests.every((g) => !g.kernel && !g.state);
  const plans: BootOptions[] = [];
  for (const [i, guest] of scenario.guests.entries()) {
    if (guest.state) {
      if (count > 1) io.stderr(`romvisor: guest ${i + 1} of ${count}: ${guestName(scenario.guests, i)}\n`);
      const code = await bootStateGuest(guest, values, guestName(scenario.guests, i), `${path}: guests[${i}].state`, io);
      if (code !== EXIT.ok) return code;
      continue;
    }
    if (guest.kernel) {
      const code = await bootKernelGuest(guest, passed, `guest ${i + 1} of ${count}`, count > 1, io);
      if (code !== EXIT.ok) return code;
      continue;
    }
    const where = `${path}: guests[${i}].appliance`;
    const a = guest.appliance!;
    let source: string[];
    if ('repo' in a) {
      // As `romvisor boot --repo URL NAME[@VERSION]`: read by range, chunks verified and kept.
      source = ['--repo', a.repo, a.version === undefined ? a.name : `${a.name}@${a.version}`];
    } else if ('builtin' in a) {
      const image = builtinAppliance(a.builtin);
      if (!existsSync(image)) throw new BadInput(`${where}: there is no built-in appliance "${a.builtin}" (${image} is missing)`);
      source = [image];
    } else {
      throw new BadInput(`${where}: the CLI boots built-in and repository appliances; ${'url' in a ? 'appliances by URL' : 'local images'} open in the page`);
    }
    const argv = [...source, '--snapshot', '--mem', `${guest.memoryMiB}M`, '--smp', String(guest.harts ?? 1), '--time', guest.time, ...passed];
    if (guest.cmdline) argv.push('--append', guest.cmdline);
    if (guest.consoleSize) argv.push('--console-size', `${guest.consoleSize.cols}x${guest.consoleSize.rows}`);
    const opts = await parseBootArgs(argv);
    if (opts === 'help') return EXIT.ok;
    opts.script = guest.script;
    opts.name = guestName(scenario.guests, i);
    if (together) {
      plans.push(opts);
      continue;
    }
    if (count > 1) io.stderr(`romvisor: guest ${i + 1} of ${count}: ${opts.name}\n`);
    const code = await bootWith({ ...opts, pcap: values.pcap, consoleLog: values['console-log'], hostfwd: values.hostfwd, net: opts.net || values.hostfwd !== undefined }, io);
    if (code !== EXIT.ok) return code;
  }
  return together ? bootGuests(plans, io, values.pcap, values['console-log'], values.hostfwd ?? []) : EXIT.ok;
}

/**
 * `romvisor boot --restore FILE [--script S] [--overlay F] [--save-state FILE2]`: the machine
 * of a state file, going on where it was saved. Its RAM size, harts, time mode and devices
 * come from the state; its disk is the state's frozen overlay (checked by sha256) under a
 * new child: --overlay F (a new file) or a temporary one. Nothing is printed that the
 * uninterrupted run would not print.
 */
async function bootRestored(argv: string[], io: CliIo): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args: argv,
      strict: true,
      options: {
        restore: { type: 'string' }, script: { type: 'string' }, overlay: { type: 'string' }, 'save-state': { type: 'string' },
        'self-contained': { type: 'boolean' },
        'hang-timeout': { type: 'string' }, jit: { type: 'string' }, 'console-log': { type: 'string' }, name: { type: 'string' },
      },
    }).values;
  } catch (e) {
    throw new BadInput(`--restore takes the machine from its state; besides it only --script, --overlay, --save-state, --self-contained, --hang-timeout, --jit, --console-log and --name may be given (${(e as Error).message})`);
  }
  if (v['self-contained'] && v['save-state'] === undefined) throw new BadInput('--self-contained is a way to write --save-state FILE: give that too');
  return restoreState(v.restore!, v, io);
}

/** What a restore takes besides its state file (--restore's flags, a scenario guest's). */
interface RestoreFlags {
  script?: string;
  overlay?: string;
  'save-state'?: string;
  'self-contained'?: boolean;
  'hang-timeout'?: string;
  jit?: string;
  'console-log'?: string;
  name?: string;
  /** A scenario guest's console steps (instead of --script). */
  steps?: ConsoleStep[];
  /** What messages call the state (default its path). */
  label?: string;
}

/** Restores the machine of state file `path` and runs it (see bootRestored). */
async function restoreState(path: string, v: RestoreFlags, io: CliIo): Promise<number> {
  const { meta, state, embedded } = await readStateFile(path);
  const { shape } = meta;
  const label = v.label ?? path;
  // One appliance disk, and its data disk (/dev/vdb) when the appliance has one.
  if (shape.share || shape.disks.length < 1 || shape.disks.length > 2) {
    throw new StateError('state-unsupported', `${label}: the CLI restores a machine with one appliance disk (and its data disk) and no shared folder`);
  }
  const chain = meta.disks[0]!.chain;
  const dataChain = meta.disks[1]?.chain;
  if (dataChain?.some((f) => f.embedded)) throw new StateError('state-unsupported', `${label}: a self-contained state embeds no data disk`);
  if (v.overlay !== undefined && existsSync(v.overlay)) throw new BadInput(`--overlay ${v.overlay} exists: a restored machine writes to a new overlay over its state's disk`);
  const save: SaveRequest | undefined = v['save-state'] === undefined ? undefined : { path: v['save-state'], chains: [], selfContained: v['self-contained'] };
  // A self-contained state: its overlay is written out and the guest writes into that copy.
  const unpacked = chain[0]!.embedded ? await unpackEmbedded(label, chain, embedded, v.overlay ?? (save ? await freshOverlayFor(save.path) : undefined)) : undefined;
  try {
    if (!unpacked) await verifyChain(chain);
    if (dataChain) await verifyChain(dataChain);
    return await restoreWith(state, chain, unpacked, save, v, io, dataChain);
  } catch (e) {
    // Refusals of the machine itself (another core build) name the state they refuse.
    if (e instanceof StateError && v.label !== undefined && !e.message.startsWith(label)) throw new StateError(e.code, `${label}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    await unpacked?.dispose();
  }
}

async function restoreWith(state: VmState, chain: StateDiskFile[], unpacked: UnpackedState | undefined, save: SaveRequest | undefined, v: RestoreFlags, io: CliIo, dataChain?: StateDiskFile[]): Promise<number> {
  const { shape } = state;
  // What the rest of the boot takes from a command line, built from the state.
  const args = [unpacked?.base ?? chain[0]!.path, '--mem', `${Math.ceil(shape.ramBytes / 2 ** 20)}M`, '--smp', String(shape.harts), '--time', shape.timeMode];
  if (v.overlay !== undefined && !unpacked) args.push('--overlay', v.overlay);
  for (const flag of ['script', 'hang-timeout', 'jit', 'console-log', 'name'] as const) if (v[flag] !== undefined) args.push(`--${flag}`, v[flag]);
  // The card the state has (every Linux guest has one unless booted with --no-net), on a new switch.
  if (shape.netMac === undefined) args.push('--no-net');
  const size = state.devices.find((d) => d.console)?.console?.size;
  if (size) args.push('--console-size', `${size.cols}x${size.rows}`);
  const opts = await parseBootArgs(args);
  if (opts === 'help') return EXIT.ok;
  if (v.steps) opts.script = v.steps;
  if (v.overlay === undefined) opts.appliance = { image: chain[0]!.path, overlay: { kind: 'snapshot' } };
  opts.config.ramBytes = shape.ramBytes;
  opts.config.console = shape.console ? (size ?? { ...DEFAULT_CONSOLE_SIZE }) : undefined;
  opts.config.guestConsole = shape.inputToVirtio ? 'virtio' : undefined;
  opts.followTerminal = false;
  if (unpacked) opts.appliance = { image: unpacked.base, overlay: { kind: 'file', path: unpacked.overlay } };
  else if (save) {
    // Saved again: the new child is kept and frozen in its turn.
    const overlay = v.overlay ?? (await freshOverlayFor(save.path));
    opts.appliance = { image: chain[0]!.path, overlay: { kind: 'file', path: overlay } };
  }
  if (dataChain && opts.appliance) {
    // The data disk goes on in a new child over the one the state froze, beside the overlay
    // (in the temporary folder without --overlay): it must be new, as the overlay must.
    const overlay = opts.appliance.overlay;
    const beside = overlay.kind === 'file' ? `${overlay.path.replace(/\.vhd$/i, '')}.data.vhd` : undefined;
    if (beside !== undefined && existsSync(beside)) throw new BadInput(`${beside} exists: a restored machine writes its data disk to a new child over its state's (${dataChain[0]!.path})`);
    opts.appliance.dataDiskOver = dataChain[0]!.path;
  }
  const code = await runGuest(opts, io, save, state);
  return save ? finishSave(save, code, io) : code;
}

/** A scenario's guests at once on one switch (see runGuests). */
async function bootGuests(plans: BootOptions[], io: CliIo, pcap: string | undefined, consoleLog: string | undefined, hostfwd: string[]): Promise<number> {
  const appliances: ApplianceDisk[] = [];
  const vms: Vm[] = [];
  const prefixers: ConsolePrefixer[] = [];
  const logs = consoleLog !== undefined ? new ConsoleLogs(consoleLog) : undefined;
  let sw: EthernetSwitch | undefined;
  const stopForwards = await startHostForwards(hostfwd, () => sw, io);
  try {
    const guests: NetGuest[] = [];
    for (const opts of plans) {
      const name = opts.name!;
      if (opts.appliance) {
        const appliance = await openApplianceDisk({ image: opts.appliance.image, overlay: opts.appliance.overlay });
        appliances.push(appliance);
        await applyAppliance(opts, appliance);
      }
      const { images, ...config } = opts.config;
      const vm = await Vm.create(await loadCoreModule(), { ...config, guestConsole: guestConsoleOf(images.bootargs), boot: linuxLoader(images), net: { mac: macFromName(name) } });
      vms.push(vm);
      const prefixer = new ConsolePrefixer(`[${name}] `, io.stdout);
      prefixers.push(prefixer);
      const log = logs?.open(name);
      const output = (t: string) => {
        prefixer.write(t);
        log?.(t);
      };
      io.stderr(`romvisor: guest ${guests.length + 1} of ${plans.length}: ${name}\n`);
      guests.push({ name, vm, session: new GuestSession(vm, { io, output, script: opts.script, hangMs: opts.hangMs, label: `[${name}] ` }) });
    }
    const deterministic = plans[0]!.config.timeMode === 'deterministic';
    return await runGuests(guests, deterministic, (s) => {
      sw = s;
      return pcap === undefined ? () => {} : captureToFile(s, pcap);
    });
  } finally {
    await stopForwards();
    for (const p of prefixers) p.flush();
    logs?.close();
    for (const vm of vms) await vm.dispose();
    for (const a of appliances) await a.dispose();
  }
}


/**
 * A scenario's state guest: its state file downloaded (checked against its sha256) into a
 * temporary directory and restored as `romvisor boot --restore` does, its overlay on a
 * temporary file: the guest goes on where it was saved, without a boot.
 */
async function bootStateGuest(guest: ScenarioGuest, flags: { 'hang-timeout'?: string; jit?: string; 'console-log'?: string }, name: string, where: string, io: CliIo): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'romvisor-state-'));
  try {
    const file = join(dir, 'guest.state');
    await writeFile(file, await fetchVerified(guest.state!, { maxBytes: SCENARIO_LIMITS.stateBytes, what: where }));
    const { meta } = await readStateFile(file).catch((e: unknown) => {
      throw e instanceof StateError ? new StateError(e.code, `${where}: ${e.message}`, { cause: e }) : e;
    });
    if (!meta.disks[0]?.chain[0]?.embedded) {
      throw new StateError('state-unsupported', `${where}: the state references its disk by path on the host that saved it; a scenario needs a self-contained one (romvisor boot --save-state FILE --self-contained)`);
    }
    return await restoreState(file, { ...flags, name, label: where, ...(guest.script ? { steps: guest.script } : {}) }, io);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A scenario's kernel guest: its kernel and drives downloaded (each checked against its
 * sha256) into a temporary directory, then booted as `--bios none` with the drives on a
 * snapshot, so a scenario never writes anything that outlives its run.
 */
async function bootKernelGuest(guest: ScenarioGuest, flags: string[], name: string, announce: boolean, io: CliIo): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'romvisor-kernel-'));
  try {
    const kernel = join(dir, 'kernel.elf');
    await writeFile(kernel, await fetchVerified(guest.kernel!, { maxBytes: SCENARIO_LIMITS.kernelBytes, what: `${name}: kernel` }));
    const argv = ['--bios', 'none', '--kernel', kernel, '--snapshot', '--mem', `${guest.memoryMiB}M`, '--smp', String(guest.harts ?? 1), '--time', guest.time, ...flags];
    for (const [d, drive] of (guest.drives ?? []).entries()) {
      const file = join(dir, `drive${d}.${drive.format === 'vhd' ? 'vhd' : 'img'}`);
      await writeFile(file, await fetchVerified(drive, { maxBytes: SCENARIO_LIMITS.driveBytes, what: `${name}: drive ${d + 1}` }));
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
  /** `image` is NAME[@VERSION] with `repo` (--repo URL). */
  appliance?: { image: string; overlay: OverlayMode; repo?: string; update?: boolean; dataDisk?: string; dataDiskOver?: string };
  /** Checked between slices: an error that ends the run (a remote disk's chunk that failed verification). */
  stopWhen?: () => Error | undefined;
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
  /** The VM's name on its switch: hostname, DNS name, MAC (--name, a scenario guest's name). */
  name?: string;
  /** A network card on the run's switch: false with --no-net (Linux guests have one otherwise). */
  net?: boolean;
  /** --pcap FILE: capture the switch. */
  pcap?: string;
  /** --console-log DIR: the guest's console bytes into DIR/NAME.log. */
  consoleLog?: string;
  /** --hostfwd rules (checked): host TCP ports forwarded to the guest through the switch's host endpoint. */
  hostfwd?: string[];
  /** --save-state FILE: save the machine on Ctrl-A s, or where the script's next step would run. */
  saveState?: string;
  /** --self-contained: the state embeds its overlay and names its base by sha256. */
  selfContained?: boolean;
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
  // The data disk (/dev/vdb) on the next slot down: Linux names the disks from the top slot.
  if (boot.manifest.dataDiskMiB === undefined && opts.appliance?.dataDisk !== undefined) throw new BadInput(`--data-disk ${opts.appliance.dataDisk}: appliance "${boot.manifest.name}" has no data disk (its appliance.json gives no dataDiskMiB)`);
  if (boot.manifest.dataDiskMiB !== undefined) opts.config.disks.push({ disk: await appliance.openDataDisk(boot.manifest.dataDiskMiB), serial: `${boot.manifest.name}-data`.slice(0, 20) });
  if (opts.name === undefined && VM_NAME_PATTERN.test(boot.manifest.name)) opts.name = boot.manifest.name;
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
  if (v.repo !== undefined && (bare || args.positionals.length !== 1)) throw new BadInput('--repo URL boots one appliance of the repository: give its NAME or NAME@VERSION (and no --bios none)');
  const image = bare ? undefined : v.repo !== undefined ? args.positionals[0] : chooseImage(args.positionals[0], v.kernel !== undefined || v.initrd !== undefined);
  if (v.overlay !== undefined && v.snapshot) throw new BadInput('--overlay and --snapshot exclude each other');
  if (v.update && v.repo === undefined) throw new BadInput('--update moves a repository appliance to another version: give --repo URL NAME[@VERSION]');
  if (v['data-disk'] !== undefined && !image) throw new BadInput('--data-disk is the data disk of an appliance image: give one (a built-in name, IMAGE.vhd[.gz] or --repo URL NAME)');
  if (!image && (v.overlay !== undefined || (v.snapshot && !v.drive))) throw new BadInput(`--${v.snapshot ? 'snapshot' : 'overlay'} needs an appliance image (a built-in name or IMAGE.vhd[.gz]) or a --drive`);
  if (v['save-state'] !== undefined) {
    if (!image) throw new BadInput('--save-state saves a machine booted from an appliance image (a built-in name or IMAGE.vhd[.gz]): its overlay is frozen with the state');
    if (v.snapshot) throw new BadInput('--save-state and --snapshot exclude each other: the state needs its overlay kept');
    if (v.drive || v.device || v.share !== undefined || v.net || v.name !== undefined || v.pcap !== undefined || v.hostfwd || v.gdb !== undefined) {
      throw new BadInput('--save-state does not save --drive, --share, --net (--name, --pcap, --hostfwd) or --gdb yet');
    }
    if (v['self-contained'] && v.repo !== undefined) throw new BadInput('--self-contained names its base by sha256 among the built-in appliances; a --repo appliance is not one yet');
  } else if (v['self-contained']) throw new BadInput('--self-contained is a way to write --save-state FILE: give that too');
  // Scripts are repeatable runs: unless told where, their writes vanish with them. A saved
  // machine's overlay is kept beside its state (frozen from the save on).
  const overlay: OverlayMode =
    v.overlay !== undefined
      ? { kind: 'file', path: v.overlay }
      : v['save-state'] !== undefined
        ? { kind: 'file', path: await freshOverlayFor(v['save-state']) }
        : v.snapshot || v.script !== undefined
          ? { kind: 'snapshot' }
          : { kind: 'persistent' };
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
  // The network card sits on slot 1 beside Linux.
  const reserved = bare ? [] : image ? [0, 1, VIRTIO_SLOTS - 1] : [0, 1];
  const drives = parseDriveSpecs(v.drive ?? [], v.device ?? [], VIRTIO_SLOTS, reserved);
  if (v.name !== undefined && !VM_NAME_PATTERN.test(v.name)) throw new BadInput(`--name "${v.name}" is not ${VM_NAME_RULE}`);
  if (bare && (v.pcap !== undefined || v.name !== undefined || v.net || v.hostfwd)) throw new BadInput('--net, --pcap, --hostfwd and --name are for Linux guests; a bare kernel has no network card');
  if (v['no-net'] && (v.pcap !== undefined || v.net || v.hostfwd)) throw new BadInput(`--no-net takes the network card away: ${v.net ? '--net' : v.pcap !== undefined ? '--pcap' : '--hostfwd'} cannot go with it`);
  checkHostForwards(v.hostfwd ?? []);
  const time = v.time ?? 'realtime';
  if (time !== 'realtime' && time !== 'deterministic') throw new BadInput(`--time "${time}" must be realtime or deterministic`);
  const jit = v.jit === undefined ? defaultJitMode() : parseJitMode(v.jit, '--jit');
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
      config: { ramBytes, harts, timeMode: time as TimeMode, jit, images: { firmware: new Uint8Array(0), kernel: bytes, bootargs: v.append ?? '' } },
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
    appliance: image ? { image, overlay, repo: v.repo, update: v.update === true, dataDisk: v['data-disk'] } : undefined,
    explicit: { kernel: v.kernel !== undefined, initrd: v.initrd !== undefined, mem: v.mem !== undefined, append: v.append },
    script,
    hangMs,
    followTerminal: v['console-size'] === undefined,
    share: v.share,
    name: v.name,
    net: v['no-net'] !== true,
    pcap: v.pcap,
    hostfwd: v.hostfwd,
    consoleLog: v['console-log'],
    saveState: v['save-state'],
    selfContained: v['self-contained'] === true,
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
  // A bare name is a built-in appliance (appliances/NAME.vhd.gz), as the page's catalog names them.
  if (/^[a-z][a-z0-9-]*$/.test(positional)) {
    const path = builtinAppliance(positional);
    if (existsSync(path)) return path;
    const names = builtinApplianceNames();
    throw new BadInput(`"${positional}" is not a built-in appliance (${names.length > 0 ? names.join(', ') : 'none built yet: appliances/build'}), IMAGE.vhd or IMAGE.vhd.gz`);
  }
  if (!/\.vhd(\.gz)?$/i.test(positional)) throw new BadInput(`"${positional}" is not a built-in appliance name, IMAGE.vhd or IMAGE.vhd.gz`);
  // The appliances are committed compressed: `boot appliances/sqlite.vhd` means the .vhd.gz.
  if (/\.vhd$/i.test(positional) && !existsSync(positional) && existsSync(`${positional}.gz`)) return `${positional}.gz`;
  return positional;
}

/** A lone guest's switch: lockstep in deterministic time, frames at once in realtime. */
type LoneNet = { ls: Lockstep; name: string } | { sw: EthernetSwitch; name: string };

async function runInteractive(
  vm: Vm,
  opts: BootOptions,
  io: CliIo,
  gdb: GdbServer | undefined,
  net: LoneNet | undefined,
  log?: (text: string) => void,
  save?: SaveRequest,
  restored = false,
): Promise<number> {
  const stdin = process.stdin;
  const tty = stdin.isTTY === true;
  let quit = false;
  const loop = new GuestLoop();
  const deterministic = vm.timeMode === 'deterministic';
  const output = (t: string) => {
    io.stdout(t);
    log?.(t);
  };
  const session = new GuestSession(vm, { io, output, script: opts.script, hangMs: opts.hangMs });
  // --save-state: the machine is held at its next WFI, where console input would land, and
  // saved there: once the script's last step passed (the next step's input would land
  // there too), or on Ctrl-A s.
  let saveAsked = false;
  const askSave = () => {
    saveAsked = true;
    vm.holdNextWfi = true;
  };
  const player = session.player;
  if (save && player) {
    const told = player.onStep;
    player.onStep = (r, step) => {
      told?.(r, step);
      if (r.status === 'passed' && r.index === player.steps.length - 1) askSave();
    };
  }
  // A restored machine stands where its state was taken: the script's first input is due there.
  if (restored) player?.poll();
  // Realtime: a frame for the guest wakes it from its idle sleep.
  const port = net && 'sw' in net ? connectGuest(net.sw, net.name, vm, () => loop.wake()) : undefined;
  const ls = net && 'ls' in net ? net.ls : undefined;
  const lp = ls && joinLockstep(ls, net!.name, vm);

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
          else if (b === 0x73 /* s */ && save) {
            io.stderr('\nromvisor: saving the machine where it next waits for input (Ctrl-A s)\n');
            askSave();
          } else if (b === CTRL_A) out.push(CTRL_A);
          continue;
        }
        if (b === CTRL_A) escape = true;
        else out.push(b);
      }
      if (out.length) vm.sendInput(Uint8Array.from(out));
    }
    loop.wake();
  };
  if (!session.player || !tty) {
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
    port?.detach();
    lp?.detach();
    if (followSize) process.stdout.off('resize', onResize);
    stdin.off('data', onData);
    if (tty) stdin.setRawMode(false);
    stdin.pause();
  };

  try {
    for (;;) {
      const stop = opts.stopWhen?.();
      if (stop) throw stop;
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
        session.progressed();
        continue;
      }
      if (ls) {
        // Deterministic time with a card: one lockstep quantum (as the page's scenario
        // guests run), then the switch's frames cross; a debugger stop or the hold for
        // --save-state ends it early, and the next turn goes on to the same boundary.
        let verdict: GuestVerdict | number = undefined;
        let held = false;
        deliverFrames(vm, lp!.takeInbox());
        const reached = await runToBoundary(vm, ls.boundary, {
          run: (o) => {
            gdb?.stub.beforeRun();
            const r = session.run(o);
            if (typeof r !== 'number') return r;
            verdict = r;
            return undefined;
          },
          after: (outcome, settled) => {
            if (save && saveAsked && vm.isHeldAtWfi) return (held = true);
            if (gdb?.stub.afterRun(outcome)) return true;
            verdict = session.judge(outcome, settled);
            return verdict !== undefined;
          },
          turn: () => new Promise<void>((r) => setImmediate(r)),
        });
        if (held && save) {
          save.state = await vm.captureState();
          return EXIT.ok;
        }
        if (verdict === 'done') return EXIT.ok;
        if (verdict !== undefined) return verdict;
        if (reached) ls.cross();
        // Input, gdb packets and stdout get their turn between quanta.
        await new Promise<void>((r) => setImmediate(r));
        continue;
      }
      gdb?.stub.beforeRun();
      const outcome = session.run({ maxMs: 50 });
      if (typeof outcome === 'number') return outcome;
      if (save && saveAsked && vm.isHeldAtWfi) {
        save.state = await vm.captureState();
        return EXIT.ok;
      }
      if (gdb?.stub.afterRun(outcome)) continue;
      const verdict = session.judge(outcome);
      if (verdict === 'done') return EXIT.ok;
      if (verdict !== undefined) return verdict;
      // Sleep while idle until the guest's timer is due, input arrives or disk work the
      // guest waits for settles (at most 100 ms, to poll the script's timeouts).
      await loop.rest(vm, outcome, 100);
    }
  } finally {
    restore();
  }
}
