// "Where does this address go?": the privileged spec's page-walk algorithm ("Virtual
// Address Translation Process", written for Sv32 and applied to Sv39/48/57 with their
// LEVELS and VPN widths) replayed step by step over guest RAM, recording each PTE and
// why the walk ends. It reads memory and never writes it: where hardware would set A or D,
// the result says so instead.
import type {
  AccessType, Privilege, PteFlags, Translation, TranslationFault, TranslationFaultReason,
  TranslationMode, TranslationState, WalkLevel,
} from './Types.ts';
import { CodedError } from '../errors/CodedError.ts';
import { hex } from '../format/hex.ts';
import { privilegeOf } from './privilege.ts';
import { causeName } from './trapCauses.ts';

export type TranslationErrorCode = 'bad-satp-mode';

/** A state the hart can never be in (so there is nothing to explain). */
export class TranslationError extends CodedError<TranslationErrorCode> {
  constructor(code: TranslationErrorCode, message: string) {
    super(code, message);
    this.name = 'TranslationError';
  }
}

// PTE bits (privileged spec, "Sv39 page table entry").
const PTE_V = 1n << 0n;
const PTE_R = 1n << 1n;
const PTE_W = 1n << 2n;
const PTE_X = 1n << 3n;
const PTE_U = 1n << 4n;
const PTE_G = 1n << 5n;
const PTE_A = 1n << 6n;
const PTE_D = 1n << 7n;
const PTE_PPN_SHIFT = 10n;
const PTE_PPN_MASK = (1n << 44n) - 1n;
/** Bits 63:54: reserved, Svpbmt's PBMT (62:61) and Svnapot's N (63); romvisor implements
 * neither extension, so like its MMU any set bit faults. */
const PTE_RESERVED = 0x3ffn << 54n;

// mstatus fields (privileged spec, "Machine Status Register").
const MSTATUS_MPP_SHIFT = 11n;
const MSTATUS_MPRV = 1n << 17n;
const MSTATUS_SUM = 1n << 18n;
const MSTATUS_MXR = 1n << 19n;

// satp (RV64): MODE 63:60, ASID 59:44, PPN 43:0.
const SATP_MODE_SHIFT = 60n;
const SATP_PPN_MASK = (1n << 44n) - 1n;

const PAGE_SHIFT = 12n;
const PTESIZE = 8n;
const MASK64 = (1n << 64n) - 1n;

/** satp.MODE encodings and the walk's shape: LEVELS and the virtual address width. */
const MODES = new Map<bigint, { mode: TranslationMode; levels: number; vaBits: bigint }>([
  [8n, { mode: 'Sv39', levels: 3, vaBits: 39n }],
  [9n, { mode: 'Sv48', levels: 4, vaBits: 48n }],
  [10n, { mode: 'Sv57', levels: 5, vaBits: 57n }],
]);

/** The page-fault and access-fault cause of each access type. */
const CAUSES = {
  fetch: { page: 12, access: 1 },
  load: { page: 13, access: 5 },
  store: { page: 15, access: 7 },
} as const;

/** The spec's cause name as it reads mid-sentence: "load page fault". */
const faultName = (cause: number): string => {
  const name = causeName(BigInt(cause));
  return name[0]!.toLowerCase() + name.slice(1);
};

/** Size of the page a leaf at `level` maps: 4 KiB << 9·level. */
function pageSizeAt(level: number): bigint {
  return 1n << (PAGE_SHIFT + 9n * BigInt(level));
}

/** 4 KiB, 2 MiB, 1 GiB, 512 GiB, 256 TiB. */
export function pageSizeName(size: bigint): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let u = 0;
  while (size >= 1024n && size % 1024n === 0n && u < units.length - 1) {
    size /= 1024n;
    u++;
  }
  return `${size} ${units[u]}`;
}

export function decodePteFlags(pte: bigint): PteFlags {
  const b = (m: bigint): boolean => (pte & m) !== 0n;
  return { V: b(PTE_V), R: b(PTE_R), W: b(PTE_W), X: b(PTE_X), U: b(PTE_U), G: b(PTE_G), A: b(PTE_A), D: b(PTE_D) };
}

/**
 * Explains how `va` translates for `access` in `state`, reading 8-byte PTEs through
 * `readPhys` (which throws or returns undefined for an address that is not RAM).
 */
export function explainTranslation(
  va: bigint,
  access: AccessType,
  state: TranslationState,
  readPhys: (pa: bigint) => bigint | undefined,
): Translation {
  va &= MASK64;
  const mstatus = state.mstatus;
  // Loads and stores in M-mode with MPRV = 1 are translated and checked as if at MPP's
  // privilege; instruction fetch always uses the current privilege.
  let effectivePriv: Privilege = state.priv;
  let mprvNote = '';
  if (access !== 'fetch' && state.priv === 'M' && (mstatus & MSTATUS_MPRV) !== 0n) {
    effectivePriv = privilegeOf((mstatus >> MSTATUS_MPP_SHIFT) & 3n) ?? 'U';
    mprvNote = ` (mstatus.MPRV = 1: as MPP = ${effectivePriv})`;
  }
  const modeField = (state.satp >> SATP_MODE_SHIFT) & 15n;
  const shape = MODES.get(modeField);
  if (modeField !== 0n && shape === undefined) {
    throw new TranslationError(
      'bad-satp-mode',
      `satp = ${hex(state.satp)}: MODE ${modeField} is reserved on RV64 (a write of it leaves satp unchanged)`,
    );
  }
  const base: Translation = { va, access, mode: shape?.mode ?? 'Bare', effectivePriv, levels: [] };

  if (effectivePriv === 'M' || shape === undefined) {
    const bareReason = effectivePriv === 'M'
      ? `M-mode ${access === 'fetch' ? 'fetches are' : 'accesses are'} not translated${mprvNote}`
      : 'satp.MODE = Bare: no translation or protection';
    return { ...base, mode: shape && effectivePriv === 'M' ? shape.mode : 'Bare', bareReason, pa: va };
  }

  const cause = CAUSES[access];
  const levels: WalkLevel[] = [];
  const fault = (reason: TranslationFaultReason, step: number, detail: string, level?: number): Translation => {
    const isAccess = reason === 'pte-access-fault';
    const f: TranslationFault = {
      cause: isAccess ? cause.access : cause.page,
      causeName: faultName(isAccess ? cause.access : cause.page),
      reason,
      level,
      step,
      detail,
      tval: va,
    };
    return { ...base, levels, fault: f };
  };

  // va must be sign-extended from its top implemented bit (bits 63..VABITS-1 all equal).
  const shift = 64n - shape.vaBits;
  const canonical = BigInt.asUintN(64, BigInt.asIntN(64, va << shift) >> shift);
  if (canonical !== va) {
    return fault(
      'non-canonical',
      0,
      `${shape.mode}: bits 63..${shape.vaBits - 1n} of ${hex(va)} must all equal bit ${shape.vaBits - 1n}`,
    );
  }

  // Step 1: a = satp.ppn × PAGESIZE, i = LEVELS − 1.
  let a = (state.satp & SATP_PPN_MASK) << PAGE_SHIFT;
  let i = shape.levels - 1;
  let pte = 0n;
  let entry: WalkLevel;
  for (;;) {
    // Step 2: pte = the PTE at a + va.vpn[i] × PTESIZE; not readable memory is an access fault.
    const vpn = Number((va >> (PAGE_SHIFT + 9n * BigInt(i))) & 0x1ffn);
    const pteAddress = a + BigInt(vpn) * PTESIZE;
    let read: bigint | undefined;
    try {
      read = readPhys(pteAddress);
    } catch {
      read = undefined;
    }
    if (read === undefined) {
      levels.push({ level: i, vpn, pteAddress, kind: 'fault' });
      return fault('pte-access-fault', 2, `the level-${i} PTE address ${hex(pteAddress)} is not in RAM`, i);
    }
    pte = read & MASK64;
    const flags = decodePteFlags(pte);
    entry = { level: i, vpn, pteAddress, pte, flags, ppn: (pte >> PTE_PPN_SHIFT) & PTE_PPN_MASK, kind: 'pointer' };
    levels.push(entry);

    // Step 3: invalid, or a reserved encoding.
    if (!flags.V) {
      entry.kind = 'fault';
      return fault('invalid', 3, `the level-${i} PTE at ${hex(pteAddress)} has V = 0`, i);
    }
    if (!flags.R && flags.W) {
      entry.kind = 'fault';
      return fault('reserved-w-without-r', 3, `the level-${i} PTE has W = 1 with R = 0, a reserved encoding`, i);
    }
    if ((pte & PTE_RESERVED) !== 0n) {
      entry.kind = 'fault';
      return fault(
        'reserved-bits',
        3,
        `the level-${i} PTE sets reserved bits 63:54 (${hex((pte & PTE_RESERVED) >> 54n)}; PBMT and N are not implemented)`,
        i,
      );
    }
    // Step 4: R or X makes a leaf; otherwise descend, and running out of levels faults.
    if (flags.R || flags.X) {
      entry.kind = 'leaf';
      break;
    }
    if (i === 0) {
      entry.kind = 'fault';
      return fault('no-leaf', 4, 'the level-0 PTE is a pointer (R = W = X = 0): there is no level below', 0);
    }
    i--;
    a = entry.ppn! << PAGE_SHIFT;
  }

  // Step 5: the leaf's permissions for this access at the effective privilege.
  const denied = permissionDenied(entry.flags!, access, effectivePriv, mstatus);
  if (denied !== undefined) {
    entry.kind = 'fault';
    return fault('permission', 5, `${denied}${mprvNote}`, i);
  }
  // Step 6: a superpage's PPN must be aligned to the superpage (ppn[i-1:0] = 0).
  const ppn = entry.ppn!;
  const lowMask = (1n << (9n * BigInt(i))) - 1n;
  if ((ppn & lowMask) !== 0n) {
    entry.kind = 'fault';
    return fault(
      'misaligned-superpage',
      6,
      `a ${pageSizeName(pageSizeAt(i))} leaf at level ${i} needs ppn[${i - 1}:0] = 0, but ppn = ${hex(ppn)}`,
      i,
    );
  }
  // Step 7: A, and D for a store, must be set; romvisor's hart sets them (as QEMU does)
  // rather than faulting. Step 8: pa = leaf ppn above level i, va below.
  const pa = ((ppn & ~lowMask) << PAGE_SHIFT) | (va & (pageSizeAt(i) - 1n));
  return {
    ...base,
    levels,
    pa,
    pageSize: pageSizeAt(i),
    setsA: !entry.flags!.A,
    setsD: access === 'store' && !entry.flags!.D,
  };
}

/** Why step 5 refuses the access, or undefined when the leaf allows it. */
function permissionDenied(f: PteFlags, access: AccessType, priv: Privilege, mstatus: bigint): string | undefined {
  const sum = (mstatus & MSTATUS_SUM) !== 0n;
  const mxr = (mstatus & MSTATUS_MXR) !== 0n;
  if (priv === 'U' && !f.U) return 'U-mode may only use pages with U = 1; this leaf has U = 0';
  if (priv === 'S' && f.U) {
    if (access === 'fetch') return 'S-mode never executes from a U = 1 page (SUM does not apply to fetches)';
    if (!sum) return 'S-mode may access a U = 1 page only with mstatus.SUM = 1; SUM = 0';
  }
  if (access === 'fetch' && !f.X) return 'fetch needs X = 1; the leaf has X = 0';
  if (access === 'load' && !f.R && !(mxr && f.X)) {
    return f.X ? 'load needs R = 1 (or X = 1 with mstatus.MXR = 1); R = 0 and MXR = 0' : 'load needs R = 1; the leaf has R = 0';
  }
  if (access === 'store' && !f.W) return 'store needs W = 1; the leaf has W = 0';
  return undefined;
}

const flagString = (f: PteFlags): string =>
  (['D', 'A', 'G', 'U', 'X', 'W', 'R', 'V'] as const).map((k) => (f[k] ? k : '-')).join('');

/** A text view of a translation, one line per step, for the inspector and the CLI. */
export function formatTranslation(t: Translation): string {
  const lines = [`${t.access} ${hex(t.va)} at ${t.effectivePriv}-mode, ${t.mode}`];
  if (t.bareReason !== undefined) {
    lines.push(`  ${t.bareReason}`, `  → pa ${hex(t.pa!)}`);
    return lines.join('\n');
  }
  for (const l of t.levels) {
    const head = `  level ${l.level}: vpn[${l.level}] = ${hex(BigInt(l.vpn))}, PTE @ ${hex(l.pteAddress)}`;
    if (l.pte === undefined) {
      lines.push(`${head}: unreadable`);
      continue;
    }
    const what = l.kind === 'leaf' ? `leaf, ${pageSizeName(pageSizeAt(l.level))} page` : l.kind;
    lines.push(`${head} = ${hex(l.pte)} [${flagString(l.flags!)}] ppn ${hex(l.ppn!)} (${what})`);
  }
  if (t.fault !== undefined) {
    const f = t.fault;
    lines.push(`  ✗ ${f.causeName} (cause ${f.cause}, tval ${hex(f.tval)}), step ${f.step}: ${f.detail}`);
  } else {
    lines.push(`  → pa ${hex(t.pa!)} in a ${pageSizeName(t.pageSize!)} page`);
    const sets = [t.setsA ? 'A' : '', t.setsD ? 'D' : ''].filter(Boolean);
    if (sets.length > 0) lines.push(`  the hart sets ${sets.join(' and ')} in the leaf PTE`);
  }
  return lines.join('\n');
}
