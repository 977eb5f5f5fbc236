/**
 * The hypervisor's management console: a line editor and a small command language over
 * the `Hypervisor` API, the same calls the page's buttons make. It knows nothing of
 * xterm.js: keystrokes come in as strings, text (with ANSI colours) goes out. Every value
 * it did not write itself (names, titles, file names, error messages) goes through
 * `escapeControl` (imported as `esc`), so a hostile name cannot drive the terminal.
 */
import { escapeControl as esc } from '../format/escapeControl.ts';
import { formatBytes } from '../format/formatBytes.ts';
import type { Hypervisor, VmHandle } from './Types.ts';
import { describeRemoteDisk } from '../repo/index.ts';
import type { JitMode } from '../jit/Jit.ts';
import type { SnapshotNode } from '../store/index.ts';
import { snapshotParts } from '../store/imageDb.ts';

/** What the shell asks of the page: things only a page can do. */
export interface ShellHost {
  write(text: string): void;
  /** Opens the file picker; resolves with the chosen file, or undefined if cancelled. */
  pickFile(): Promise<File | undefined>;
  download(blob: Blob, fileName: string): void;
  /** Brings a VM's console into view and gives it the keyboard. */
  focusVm(vm: VmHandle): void;
  /** The terminal's width in columns, for wrapping long lines at word boundaries (80 if absent). */
  columns?(): number;
}

const PROMPT = '\x1b[1;36mromvisor\x1b[0m> ';
const DIM = (s: string) => `\x1b[2m${s}\x1b[0m`;
const BOLD = (s: string) => `\x1b[1m${s}\x1b[0m`;
const RED = (s: string) => `\x1b[31m${s}\x1b[0m`;
const GREEN = (s: string) => `\x1b[32m${s}\x1b[0m`;

interface Command {
  names: string[];
  usage: string;
  help: string;
  run(args: string[]): Promise<void> | void;
}

/**
 * Splits `text` into lines of at most `width` columns, breaking at spaces (a word longer
 * than a line is cut only then). Plain text only: wrap before adding colours.
 */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(/ +/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = '';
    }
    while (word.length > width) {
      lines.push(word.slice(0, width));
      word = word.slice(width);
    }
    line = line ? `${line} ${word}` : word;
  }
  if (line || lines.length === 0) lines.push(line);
  return lines;
}

export function formatUptime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

export class ManagementShell {
  private line = '';
  private cursor = 0;
  private readonly history: string[] = [];
  private historyAt = 0;
  private busy = false;
  private readonly typeAhead: string[] = [];
  /** A yes/no question waiting for its answer line. */
  private pendingConfirm: ((yes: boolean) => void) | undefined;
  private readonly commands: Command[];
  /** Incomplete escape sequence carried over from the last input. */
  private escape = '';

  constructor(
    private readonly hv: Hypervisor,
    private readonly host: ShellHost,
  ) {
    this.commands = this.buildCommands();
  }

  /** Prints the banner and the first prompt. */
  start(): void {
    const f = this.hv.firmware;
    this.host.write(`${BOLD(`${f.hypervisorName} ${f.hypervisorVersion}`)} management console. Type ${BOLD('help')} for commands.\r\n`);
    this.prompt();
  }

  /** Keystrokes from the terminal (as xterm.js's onData delivers them). */
  input(data: string): void {
    let s = this.escape + data;
    this.escape = '';
    while (s.length) {
      if (s[0] === '\x1b') {
        const m = /^\x1b\[[0-9;]*[A-Za-z~]|^\x1bO[A-Za-z]/.exec(s);
        if (!m) {
          if (s.length < 6 && /^\x1b(\[[0-9;]*|O)?$/.test(s)) this.escape = s;
          s = '';
          break;
        }
        this.key(m[0]);
        s = s.slice(m[0].length);
        continue;
      }
      this.key(s[0]!);
      s = s.slice(1);
    }
  }

  private key(k: string): void {
    // Typed ahead while a command runs: kept, and replayed at the next prompt.
    if (this.busy && k !== '\x03') {
      this.typeAhead.push(k);
      return;
    }
    switch (k) {
      case '\r':
      case '\n':
        this.host.write('\r\n');
        void this.submit();
        return;
      case '\x7f':
      case '\b':
        if (this.cursor > 0) {
          this.line = this.line.slice(0, this.cursor - 1) + this.line.slice(this.cursor);
          this.cursor--;
          this.redraw();
        }
        return;
      case '\x03': // Ctrl-C: drop the line
        this.host.write('^C\r\n');
        this.line = '';
        this.cursor = 0;
        if (this.pendingConfirm) {
          const c = this.pendingConfirm;
          this.pendingConfirm = undefined;
          c(false);
          return;
        }
        if (!this.busy) this.prompt();
        return;
      case '\x0c': // Ctrl-L
        this.host.write('\x1b[2J\x1b[H');
        this.redraw();
        return;
      case '\x15': // Ctrl-U
        this.line = this.line.slice(this.cursor);
        this.cursor = 0;
        this.redraw();
        return;
      case '\x1b[A':
      case '\x1bOA':
        return this.recall(-1);
      case '\x1b[B':
      case '\x1bOB':
        return this.recall(1);
      case '\x1b[C':
      case '\x1bOC':
        if (this.cursor < this.line.length) {
          this.cursor++;
          this.host.write('\x1b[C');
        }
        return;
      case '\x1b[D':
      case '\x1bOD':
        if (this.cursor > 0) {
          this.cursor--;
          this.host.write('\x1b[D');
        }
        return;
      case '\t':
        return this.complete();
      default:
        // Printable only: C1 controls (0x80–0x9f) are >= ' ' but a terminal obeys them.
        if (k.length === 1 && k >= ' ' && !(k >= '\x7f' && k <= '\x9f')) {
          this.line = this.line.slice(0, this.cursor) + k + this.line.slice(this.cursor);
          this.cursor++;
          if (this.cursor === this.line.length) this.host.write(k);
          else this.redraw();
        }
    }
  }

  private redraw(): void {
    const prompt = this.pendingConfirm ? '' : PROMPT;
    this.host.write(`\r\x1b[K${prompt}${this.line}`);
    const back = this.line.length - this.cursor;
    if (back > 0) this.host.write(`\x1b[${back}D`);
  }

  private recall(dir: -1 | 1): void {
    if (this.history.length === 0) return;
    this.historyAt = Math.max(0, Math.min(this.history.length, this.historyAt + dir));
    this.line = this.history[this.historyAt] ?? '';
    this.cursor = this.line.length;
    this.redraw();
  }

  private complete(): void {
    const words = this.line.slice(0, this.cursor).split(/\s+/);
    const word = words[words.length - 1] ?? '';
    const candidates =
      words.length === 1
        ? this.commands.flatMap((c) => c.names)
        : [...this.hv.vms().map((v) => v.record.name), ...this.hv.appliances().map((a) => a.name), 'vms', 'appliances'];
    const hits = [...new Set(candidates.filter((c) => c.startsWith(word)))];
    if (hits.length === 1) {
      const add = hits[0]!.slice(word.length) + ' ';
      this.line = this.line.slice(0, this.cursor) + add + this.line.slice(this.cursor);
      this.cursor += add.length;
      this.redraw();
    } else if (hits.length > 1) {
      this.host.write(`\r\n${esc(hits.join('  '))}\r\n`);
      this.redraw();
    }
  }

  private prompt(): void {
    this.line = '';
    this.cursor = 0;
    this.host.write(PROMPT);
  }

  /** Runs a whole command line; what the Enter key does. */
  async submit(): Promise<void> {
    const text = this.line.trim();
    this.line = '';
    this.cursor = 0;
    if (this.pendingConfirm) {
      const c = this.pendingConfirm;
      this.pendingConfirm = undefined;
      c(/^y(es)?$/i.test(text));
      return;
    }
    if (text) {
      if (this.history[this.history.length - 1] !== text) this.history.push(text);
    }
    this.historyAt = this.history.length;
    if (text) {
      this.busy = true;
      try {
        await this.execute(text);
      } catch (e) {
        this.println(RED(`error: ${esc((e as Error).message)}`));
      } finally {
        this.busy = false;
      }
    }
    this.prompt();
    for (const k of this.typeAhead.splice(0)) this.key(k);
  }

  /** Runs one command (also what tests call). */
  async execute(text: string): Promise<void> {
    const [name, ...args] = text.split(/\s+/);
    const cmd = this.commands.find((c) => c.names.includes(name!.toLowerCase()));
    if (!cmd) {
      this.println(RED(`unknown command "${esc(name!)}"; type help`));
      return;
    }
    await cmd.run(args);
  }

  private println(text = ''): void {
    this.host.write(`${text}\r\n`);
  }

  private confirm(question: string): Promise<boolean> {
    this.host.write(`${question} [y/N] `);
    return new Promise((resolve) => {
      this.pendingConfirm = resolve;
      this.busy = false;
    }).then((yes) => {
      this.busy = true;
      return yes as boolean;
    });
  }

  /** The snapshot named by the words after the VM (its name, or its id). */
  private async snapshotArg(vm: VmHandle, args: string[], usage: string): Promise<SnapshotNode> {
    const ref = args.slice(1).join(' ').trim();
    if (!ref) throw new Error(`usage: ${usage}`);
    const { nodes } = await vm.snapshots();
    const found = nodes.find((n) => n.id === ref) ?? nodes.find((n) => n.name === ref) ?? nodes.find((n) => n.name.toLowerCase() === ref.toLowerCase());
    if (!found) throw new Error(`${vm.record.name} has no snapshot "${ref}" (snapshots ${vm.record.name} lists them)`);
    return found;
  }

  private vmArg(args: string[], usage: string): VmHandle {
    if (!args[0]) throw new Error(`usage: ${usage}`);
    const vm = this.hv.vm(args[0]);
    if (!vm) throw new Error(`no VM "${args[0]}" (try "list vms")`);
    return vm;
  }

  private buildCommands(): Command[] {
    const hv = this.hv;
    return [
      {
        names: ['help', '?'],
        usage: 'help',
        help: 'this list',
        run: () => {
          // Wrapped at word boundaries for the terminal's width: beside the usage column when
          // there is room for it, on its own indented lines below the usage when not.
          const cols = Math.max(20, this.host.columns?.() ?? 80);
          const usageWidth = Math.max(...this.commands.map((c) => c.usage.length));
          const beside = cols - (usageWidth + 3) >= 24;
          const indent = beside ? usageWidth + 3 : 4;
          for (const c of this.commands) {
            const lines = wrapWords(c.help, cols - indent - 1);
            if (beside) this.println(`  ${BOLD(c.usage.padEnd(usageWidth))} ${lines.shift()}`);
            else for (const u of wrapWords(c.usage, cols - 3)) this.println(`  ${BOLD(u)}`);
            for (const l of lines) this.println(`${' '.repeat(indent)}${l}`);
          }
          for (const l of wrapWords('VMs can be named by name, id or number; Tab completes, ↑/↓ recall.', cols - 3)) this.println(DIM(`  ${l}`));
        },
      },
      {
        names: ['list', 'ls'],
        usage: 'list appliances|vms',
        help: 'the catalog, or the VMs and their state',
        run: (args) => {
          const what = (args[0] ?? 'vms').toLowerCase();
          if ('appliances'.startsWith(what) || what === 'catalog') return this.listAppliances();
          if ('vms'.startsWith(what)) return this.listVms();
          throw new Error(`usage: list appliances|vms`);
        },
      },
      {
        names: ['new', 'create'],
        usage: 'new APPLIANCE [NAME] [MEM] [ARGS]',
        help: 'create a VM (MEM in MiB; ARGS: extra kernel arguments)',
        run: async (args) => {
          if (!args[0]) throw new Error('usage: new APPLIANCE [NAME] [MEM_MIB] [KERNEL ARGS...]');
          const mem = args[2] ? Number(args[2]) : undefined;
          if (mem !== undefined && !Number.isInteger(mem)) throw new Error(`memory "${args[2]}" is not a whole number of MiB`);
          const vm = await hv.createVm(args[0], { name: args[1], memoryMiB: mem, extraArgs: args.slice(3).join(' ') });
          this.println(`created ${BOLD(esc(vm.record.name))} (${vm.record.memoryMiB} MiB) from ${esc(vm.appliance?.title ?? args[0])}`);
        },
      },
      {
        names: ['start', 'boot'],
        usage: 'start VM',
        help: 'power a VM on (a stopped or crashed one)',
        run: async (args) => {
          const vm = this.vmArg(args, 'start VM');
          await vm.start();
          this.println(`${BOLD(esc(vm.record.name))} is ${vm.state}`);
        },
      },
      {
        names: ['suspend'],
        usage: 'suspend VM',
        help: 'save a running VM (machine and screen) and stop it; start resumes it without booting',
        run: async (args) => {
          const vm = this.vmArg(args, 'suspend VM');
          await vm.suspend();
          this.println(`${BOLD(esc(vm.record.name))} is suspended`);
        },
      },
      {
        names: ['snapshot'],
        usage: 'snapshot VM NAME [--machine]',
        help: "freeze a VM's disk as a named snapshot (--machine: a running VM's machine too)",
        run: async (args) => {
          const vm = this.vmArg(args, 'snapshot VM NAME [--machine]');
          const withState = args.includes('--machine');
          const name = args.slice(1).filter((a) => a !== '--machine').join(' ');
          const snap = await vm.takeSnapshot(name, { withState });
          const parts = snapshotParts(snap);
          this.println(`${BOLD(esc(vm.record.name))}: snapshot ${BOLD(esc(snap.name))} taken (${parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts[0]})`);
        },
      },
      {
        names: ['snapshots'],
        usage: 'snapshots VM',
        help: "a VM's snapshots as a tree, and where it stands",
        run: async (args) => {
          const vm = this.vmArg(args, 'snapshots VM');
          const tree = await vm.snapshots();
          const walk = (parent: string | undefined, depth: number) => {
            const pad = '  '.repeat(depth + 1);
            for (const n of tree.nodes.filter((x) => x.parentSnapshotId === parent)) {
              this.println(`${pad}${BOLD(esc(n.name))}  ${new Date(n.takenAt).toISOString().replace('T', ' ').slice(0, 19)}  ${snapshotParts(n).join(' + ')}`);
              walk(n.id, depth + 1);
            }
            if (tree.current === parent) this.println(`${pad}${GREEN('* you are here')}`);
          };
          this.println(`${esc(vm.appliance?.title ?? vm.record.applianceId)} (base image)`);
          walk(undefined, 0);
        },
      },
      {
        names: ['revert'],
        usage: 'revert VM SNAPSHOT',
        help: 'put a VM back at a snapshot (it stops first; a snapshot with its machine resumes on start)',
        run: async (args) => {
          const vm = this.vmArg(args, 'revert VM SNAPSHOT');
          const snap = await this.snapshotArg(vm, args, 'revert VM SNAPSHOT');
          if (!(await this.confirm(`Revert ${esc(vm.record.name)} to ${esc(snap.name)}? What it wrote since is lost.`))) return this.println('kept');
          const outcome = await vm.revertToSnapshot(snap.id);
          this.println(`${BOLD(esc(vm.record.name))} is at ${BOLD(esc(snap.name))}; ${outcome === 'state' ? 'start resumes its machine' : 'start boots it'}`);
        },
      },
      {
        names: ['delete-snapshot'],
        usage: 'delete-snapshot VM SNAPSHOT',
        help: 'remove a snapshot; the disks grown from it keep what they need of it',
        run: async (args) => {
          const vm = this.vmArg(args, 'delete-snapshot VM SNAPSHOT');
          const snap = await this.snapshotArg(vm, args, 'delete-snapshot VM SNAPSHOT');
          if (!(await this.confirm(`Delete the snapshot ${esc(snap.name)} of ${esc(vm.record.name)}?`))) return this.println('kept');
          await vm.deleteSnapshot(snap.id);
          this.println(`${esc(vm.record.name)}: snapshot ${esc(snap.name)} deleted`);
        },
      },
      {
        names: ['stop', 'poweroff'],
        usage: 'stop VM',
        help: 'power a VM off (committed disk writes stay)',
        run: async (args) => {
          const vm = this.vmArg(args, 'stop VM');
          await vm.stop();
          this.println(`${BOLD(esc(vm.record.name))} is ${vm.state}`);
        },
      },
      {
        names: ['reset'],
        usage: 'reset VM',
        help: 'hard-reset a running VM',
        run: async (args) => {
          const vm = this.vmArg(args, 'reset VM');
          await vm.reset();
          this.println(`${BOLD(esc(vm.record.name))} reset`);
        },
      },
      {
        names: ['pause'],
        usage: 'pause VM',
        help: 'freeze a running VM',
        run: async (args) => {
          const vm = this.vmArg(args, 'pause VM');
          await vm.pause();
          this.println(`${BOLD(esc(vm.record.name))} is ${vm.state}`);
        },
      },
      {
        names: ['resume', 'cont'],
        usage: 'resume VM',
        help: 'let a paused VM run again',
        run: async (args) => {
          const vm = this.vmArg(args, 'resume VM');
          await vm.resume();
          this.println(`${BOLD(esc(vm.record.name))} is ${vm.state}`);
        },
      },
      {
        names: ['console', 'attach'],
        usage: 'console VM',
        help: "give a VM's console the keyboard",
        run: (args) => this.host.focusVm(this.vmArg(args, 'console VM')),
      },
      {
        names: ['info', 'inspect'],
        usage: 'info VM',
        help: 'state, readout and where the hart is',
        run: async (args) => {
          const vm = this.vmArg(args, 'info VM');
          this.println(`${BOLD(esc(vm.record.name))}: ${vm.state}${vm.stateDetail ? ` (${esc(vm.stateDetail)})` : ''}, ${vm.record.memoryMiB} MiB, ${harts(vm.record.harts)}, JIT ${vm.record.jit ?? hv.firmware.jit}, ${esc(vm.appliance?.title ?? vm.record.applianceId)}`);
          const live = vm.state === 'running' || vm.state === 'paused' || vm.state === 'stopping';
          if (vm.stats) this.println(`  ${live ? `${vm.stats.mips.toFixed(1)} MIPS, up` : 'last run lasted'} ${formatUptime(vm.stats.uptimeMs)}, ${vm.stats.instructions.toLocaleString('en')} instructions`);
          if (vm.crash) this.println(RED(`  crashed: ${esc(vm.crash.reason)}`));
          if (vm.net) this.println(`  network: ${vm.net.address ?? 'no DHCP lease yet'}; rx ${vm.net.rxFrames} tx ${vm.net.txFrames} frames; dropped rx ${vm.net.rxDropped} tx ${vm.net.txDropped} switch ${vm.net.switchDropped}`);
          const info = await vm.inspect();
          if (info) this.println(`  pc ${info.pc} (${info.priv}-mode); last trap: ${info.lastTrap.kind} ${info.lastTrap.cause} at ${info.lastTrap.pc}, tval ${info.lastTrap.tval}`);
          if (vm.remoteDisk) this.println(`  repository ${describeRemoteDisk(vm.remoteDisk)}`);
          const disk = await vm.diskState();
          if (disk) this.println(`  disk: ${disk.modified ? `modified, ${formatBytes(disk.changedBytes)} changed` : 'pristine'}`);
        },
      },
      {
        names: ['set'],
        usage: 'set VM harts|memory|jit N',
        help: "change a stopped VM's harts (1-8), memory (MiB) or JIT tier (off, auto, eager)",
        run: async (args) => {
          const vm = this.vmArg(args, 'set VM harts|memory|jit N');
          const what = (args[1] ?? '').toLowerCase();
          const usage = 'usage: set VM harts N | set VM memory MIB | set VM jit off|auto|eager';
          if (what === 'jit' && args[2] !== undefined) await hv.configureVm(vm.id, { jit: args[2].toLowerCase() as JitMode });
          else {
            const n = Number(args[2]);
            if (!['harts', 'memory', 'mem'].includes(what) || args[2] === undefined || !Number.isInteger(n)) throw new Error(usage);
            await hv.configureVm(vm.id, what === 'harts' ? { harts: n } : { memoryMiB: n });
          }
          this.println(`${BOLD(esc(vm.record.name))}: ${harts(vm.record.harts)}, ${vm.record.memoryMiB} MiB, JIT ${vm.record.jit ?? hv.firmware.jit}`);
        },
      },
      {
        names: ['delete', 'rm'],
        usage: 'delete VM',
        help: 'remove a stopped VM and its disk',
        run: async (args) => {
          const vm = this.vmArg(args, 'delete VM');
          if (!(await this.confirm(`Delete ${esc(vm.record.name)} and its disk?`))) return this.println('kept');
          await hv.deleteVm(vm.id);
          this.println(`deleted ${esc(vm.record.name)}`);
        },
      },
      {
        names: ['import'],
        usage: 'import',
        help: 'import a VHD file as an appliance (file picker)',
        run: async () => {
          this.println(DIM('choose a .vhd file…'));
          const file = await this.host.pickFile();
          if (!file) return this.println('cancelled');
          const a = await hv.importVhd(file, file.name);
          this.println(GREEN(`imported ${esc(a.name)}: ${formatBytes(a.virtualSize ?? 0)} disk`));
        },
      },
      {
        names: ['repo', 'repository'],
        usage: 'repo list|add URL|remove N|offline APPLIANCE',
        help: "appliance repositories in the catalog: add one by its folder's URL (https, or http on this machine), list them, remove one (its VMs stay), fetch the rest of an appliance's disk for offline use",
        run: async (args) => {
          const sub = (args[0] ?? 'list').toLowerCase();
          if (sub === 'list' || sub === 'ls') {
            const list = hv.repositories();
            if (list.length === 0) return this.println(DIM('no repositories; add one with "repo add URL"'));
            list.forEach((r, i) => {
              const what = r.index ? `${BOLD(esc(r.index.name))}: ${r.index.appliances.map((a) => esc(a.name)).join(', ') || 'no appliances'}` : RED(esc(r.error ?? 'not read yet'));
              this.println(`  ${i + 1}  ${esc(r.url)}  ${what}`);
            });
            return;
          }
          if (sub === 'add') {
            if (!args[1]) throw new Error('usage: repo add URL');
            const r = await hv.addRepository(args[1]);
            return this.println(GREEN(`added ${esc(r.index!.name)} (${esc(r.url)}): ${r.index!.appliances.length} appliance(s)`));
          }
          if (sub === 'remove' || sub === 'rm') {
            if (!args[1]) throw new Error('usage: repo remove N|URL');
            const r = await hv.removeRepository(args[1]);
            return this.println(`removed ${esc(r.url)}; VMs made from its appliances stay`);
          }
          if (sub === 'offline') {
            if (!args[1]) throw new Error('usage: repo offline APPLIANCE');
            const bytes = await hv.makeAvailableOffline(args[1]);
            return this.println(GREEN(`${esc(args[1])} is available offline (fetched ${formatBytes(bytes)})`));
          }
          throw new Error('usage: repo list|add URL|remove N|URL|offline APPLIANCE');
        },
      },
      {
        names: ['export'],
        usage: 'export VM',
        help: "download a stopped VM's disk as one VHD",
        run: async (args) => {
          const vm = this.vmArg(args, 'export VM');
          const { blob, fileName } = await hv.exportDisk(vm.id);
          this.host.download(blob, fileName);
          this.println(`exported ${esc(fileName)} (${formatBytes(blob.size)})`);
        },
      },
      {
        names: ['backup'],
        usage: 'backup',
        help: 'download the whole server (every VM: record, disk, suspended state, shared folder) as one backup archive; running VMs must be stopped or suspended first',
        run: async () => {
          const b = await hv.backup();
          this.host.download(b.blob, b.fileName);
          this.println(`backed up ${b.vms} VM(s): ${esc(b.fileName)} (${formatBytes(b.blob.size)})`);
        },
      },
      {
        names: ['restore'],
        usage: 'restore [skip|replace|copy]',
        help: 'restore VMs from a backup archive (file picker), checked whole before anything is written; a VM that meets one here is skipped, replaced or restored as a copy beside it only as the argument says',
        run: async (args) => {
          const policy = args[0]?.toLowerCase();
          if (policy !== undefined && policy !== 'skip' && policy !== 'replace' && policy !== 'copy') throw new Error('usage: restore [skip|replace|copy]');
          this.println(DIM('choose a backup file…'));
          const file = await this.host.pickFile();
          if (!file) return this.println('cancelled');
          const plan = await hv.openBackup(file);
          const clashes = plan.vms.filter((vm) => vm.conflict);
          if (clashes.length && !policy) {
            for (const vm of clashes) this.println(`  ${esc(vm.name)} meets ${esc(vm.conflict!.name)} here`);
            return this.println(RED(`nothing restored: ${clashes.length} VM(s) meet VMs of this server; say "restore skip", "restore replace" or "restore copy"`));
          }
          const r = await hv.restoreBackup(plan, new Map(clashes.map((vm) => [vm.id, policy as 'skip' | 'replace' | 'copy'])));
          this.println(GREEN(`restored ${r.restored.length} VM(s) from ${esc(file.name)}${r.removed.length ? `, ${r.removed.length} replaced` : ''}`));
          for (const w of r.warnings) this.println(RED(esc(w)));
        },
      },
      {
        names: ['capture', 'pcap'],
        usage: 'capture',
        help: "download the server's network traffic since power-on as a pcap file",
        run: async () => {
          const c = hv.capture();
          this.host.download(c.blob, c.fileName);
          this.println(`captured ${esc(c.fileName)}: ${c.frames} frames (${formatBytes(c.blob.size)})${c.notCaptured ? `; ${c.notCaptured} frames past the capture's bound were not kept` : ''}`);
        },
      },
      {
        names: ['reset-disk'],
        usage: 'reset-disk VM',
        help: "throw away a stopped VM's changes",
        run: async (args) => {
          const vm = this.vmArg(args, 'reset-disk VM');
          if (!(await this.confirm(`Reset the disk of ${esc(vm.record.name)} to its base image? Every change is lost.`))) return this.println('kept');
          await hv.resetDisk(vm.id);
          this.println(`${esc(vm.record.name)}: disk is pristine again`);
        },
      },
      {
        names: ['update'],
        usage: 'update VM [VERSION]',
        help: "move a stopped repository VM's system disk to VERSION (default the newest; an older one rolls back); its data disk (/data) is kept",
        run: async (args) => {
          const vm = this.vmArg(args, 'update VM [VERSION]');
          const info = hv.updateInfo(vm.id);
          if (!info) throw new Error(`${vm.record.name} is not of a repository appliance: it has no versions`);
          const to = args[1] ?? info.update?.version;
          if (to === undefined) return this.println(`${esc(vm.record.name)} is on version ${esc(info.current)}, the newest`);
          const data = info.dataDisk ? 'its data disk (/data) is kept' : 'it has no data disk';
          if (!(await this.confirm(`Move ${esc(vm.record.name)} from version ${esc(info.current)} to ${esc(to)}? Every change made to its system disk is discarded; ${data}.`))) return this.println('kept');
          await hv.updateVm(vm.id, to);
          this.println(GREEN(`${esc(vm.record.name)}: system disk on version ${esc(to)}`));
        },
      },
      {
        names: ['storage', 'df'],
        usage: 'storage [persist]',
        help: 'storage use and quota; "persist" asks to keep it',
        run: async (args) => {
          if (args[0] === 'persist') {
            const ok = await hv.requestPersistence();
            this.println(ok ? GREEN('the browser will keep this storage') : 'the browser did not grant persistent storage');
          }
          const u = await hv.storageUse();
          const pct = u.quota ? ((u.usage / u.quota) * 100).toFixed(1) : '?';
          this.println(`${formatBytes(u.usage)} used of ${formatBytes(u.quota)} (${pct}%), ${u.persisted ? 'persistent' : 'best-effort (may be evicted)'}`);
        },
      },
      {
        names: ['clear'],
        usage: 'clear',
        help: 'clear the screen',
        run: () => this.host.write('\x1b[2J\x1b[3J\x1b[H'),
      },
    ];
  }

  /**
   * One entry per appliance: number and name, then its title and what it is, wrapped at
   * word boundaries under the name when the terminal is narrow (a phone's panel).
   */
  private listAppliances(): void {
    const cols = Math.max(20, this.host.columns?.() ?? 80);
    const list = this.hv.appliances();
    list.forEach((a, i) => {
      const vms = this.hv.vms().filter((v) => v.record.applianceId === a.id).length;
      const kind = a.boot === 'ram' ? 'RAM' : a.imageId ? 'disk, stored' : 'disk, not yet fetched';
      const name = esc(a.name);
      const title = esc(a.title);
      const facts = `(${kind}, ${formatBytes(a.sizeBytes)}, ${vms} VM${vms === 1 ? '' : 's'})`;
      const oneLine = `${String(i + 1).padStart(2)}  ${name.padEnd(16)} ${title}  ${facts}`;
      if (oneLine.length <= cols) {
        this.println(`${String(i + 1).padStart(2)}  ${BOLD(name.padEnd(16))} ${title}  ${DIM(facts)}`);
        return;
      }
      this.println(`${String(i + 1).padStart(2)}  ${BOLD(name)}`);
      for (const l of wrapWords(title, cols - 5)) this.println(`    ${l}`);
      for (const l of wrapWords(facts, cols - 5)) this.println(`    ${DIM(l)}`);
    });
  }

  private listVms(): void {
    const list = this.hv.vms();
    if (list.length === 0) return this.println(DIM('no VMs yet: new APPLIANCE'));
    const w = Math.max(...list.map((v) => esc(v.record.name).length));
    list.forEach((v, i) => {
      const s = v.stats && v.state === 'running' ? ` ${v.stats.mips.toFixed(0)} MIPS, up ${formatUptime(v.stats.uptimeMs)}` : '';
      // A repository disk streaming: what it fetched so far (`info VM` has the whole line).
      const fetched = v.remoteDisk?.fetchedBytes && v.state === 'running' ? `, disk ${formatBytes(v.remoteDisk.fetchedBytes)} fetched` : '';
      const state = v.state === 'running' ? GREEN(v.state.padEnd(8)) : v.state === 'crashed' ? RED(v.state.padEnd(8)) : v.state.padEnd(8);
      this.println(`${String(i + 1).padStart(2)} ${BOLD(esc(v.record.name).padEnd(w))} ${state} ${String(v.record.memoryMiB).padStart(4)} MiB ${esc(v.appliance?.name ?? v.record.applianceId)}${s}${fetched}`);
    });
  }
}

function harts(n: number | undefined): string {
  return `${n ?? 1} hart${(n ?? 1) > 1 ? 's' : ''}`;
}
