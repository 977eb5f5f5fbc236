/**
 * QEMU's own spellings for `romvisor boot`, so a course's Makefile line runs with
 * `romvisor boot` in place of `qemu-system-riscv64`. Each QEMU flag that means the same
 * thing here becomes romvisor's long option; a flag that romvisor does not have, or a value
 * it cannot honour, is refused by name rather than ignored.
 */
import { CodedError } from '../errors/CodedError.ts';

export class QemuArgError extends CodedError<'unknown-flag' | 'bad-value'> {
  override readonly name = 'QemuArgError';
}

/** The default gdb port of QEMU's `-s`. */
export const QEMU_GDB_PORT = 1234;

type Rule =
  /** Becomes `--NAME VALUE`. */
  | { kind: 'value'; to: string; map?: (v: string, flag: string) => string }
  /** Becomes `--NAME`. */
  | { kind: 'flag'; to: string }
  /** Takes a value that must be one of those accepted, then vanishes. */
  | { kind: 'check'; accept: (v: string) => boolean; why: string }
  /** Means what romvisor does anyway. */
  | { kind: 'drop' }
  | { kind: 'gdb-default' };

/** QEMU's -m: a bare number is MiB. */
const qemuMem = (v: string) => (/^\d+$/.test(v) ? `${v}M` : v.replace(/^size=/, ''));

/** QEMU's -smp: `N`, or `cpus=N` among topology options. */
function qemuSmp(v: string, flag: string): string {
  for (const part of v.split(',')) {
    if (/^\d+$/.test(part)) return part;
    const m = /^cpus=(\d+)$/.exec(part);
    if (m) return m[1]!;
  }
  throw new QemuArgError('bad-value', `${flag} "${v}": give the number of harts (N or cpus=N)`);
}

const RULES: Record<string, Rule> = {
  '-bios': { kind: 'value', to: 'bios' },
  '-kernel': { kind: 'value', to: 'kernel' },
  '-initrd': { kind: 'value', to: 'initrd' },
  '-append': { kind: 'value', to: 'append' },
  '-m': { kind: 'value', to: 'mem', map: qemuMem },
  '-smp': { kind: 'value', to: 'smp', map: qemuSmp },
  '-drive': { kind: 'value', to: 'drive' },
  '-device': { kind: 'value', to: 'device' },
  '-gdb': { kind: 'value', to: 'gdb' },
  '-s': { kind: 'gdb-default' },
  '-S': { kind: 'flag', to: 'wait-debugger' },
  '-snapshot': { kind: 'flag', to: 'snapshot' },
  '-nographic': { kind: 'drop' },
  '-machine': { kind: 'check', accept: (v) => v === 'virt' || v === 'type=virt', why: 'romvisor is a virt machine only' },
  '-M': { kind: 'check', accept: (v) => v === 'virt' || v === 'type=virt', why: 'romvisor is a virt machine only' },
  // romvisor's virtio-mmio is the modern interface only (virtio 1.x), which is what this says.
  '-global': { kind: 'check', accept: (v) => v === 'virtio-mmio.force-legacy=false', why: 'only virtio-mmio.force-legacy=false is accepted (romvisor has no legacy virtio-mmio)' },
};

/** The QEMU flags `romvisor boot` accepts, for its usage text and the README. */
export const QEMU_FLAGS = Object.keys(RULES);

/**
 * Rewrites QEMU's single-dash flags into romvisor's options; everything else passes as it
 * is (`valueOptions`: romvisor's options that take a value, whose value is passed on
 * unread). Throws QemuArgError naming any single-dash word that is not a flag romvisor accepts.
 */
export function translateQemuArgs(argv: readonly string[], valueOptions: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    // romvisor's own options (--x), its one-letter ones (-h) and positionals pass through;
    // -m is both QEMU's and romvisor's and means the same.
    if (!arg.startsWith('-') || arg.startsWith('--') || arg === '-h') {
      out.push(arg);
      // The value of one of romvisor's options (`--append "-x"`) is not a flag.
      if (valueOptions.has(arg.slice(2)) && i + 1 < argv.length) out.push(argv[++i]!);
      continue;
    }
    const rule = RULES[arg];
    if (!rule) {
      throw new QemuArgError('unknown-flag', `unknown option "${arg}" (QEMU flags romvisor boot accepts: ${QEMU_FLAGS.join(' ')}; see romvisor boot --help)`);
    }
    const takesValue = rule.kind === 'value' || rule.kind === 'check';
    const value = takesValue ? argv[i + 1] : undefined;
    if (takesValue) {
      if (value === undefined) throw new QemuArgError('bad-value', `${arg} needs a value`);
      i++;
    }
    switch (rule.kind) {
      case 'value':
        out.push(`--${rule.to}`, rule.map ? rule.map(value!, arg) : value!);
        break;
      case 'flag':
        out.push(`--${rule.to}`);
        break;
      case 'check':
        if (!rule.accept(value!)) throw new QemuArgError('bad-value', `${arg} ${value}: not supported (${rule.why})`);
        break;
      case 'gdb-default':
        out.push('--gdb', `tcp::${QEMU_GDB_PORT}`);
        break;
      case 'drop':
        break;
    }
  }
  return out;
}
