// The main CSRs split into their named fields for the inspector. Field positions are the
// RV64 layouts of the privileged spec (mstatus/sstatus, satp, mip/mie/sip/sie,
// mcause/scause and the exception/interrupt code table, medeleg/mideleg).
import { csrName, csrNumber } from './csrName.ts';
import { privilegeOf } from './privilege.ts';
import { causeName, EXCEPTION_CAUSES } from './trapCauses.ts';

/** One field of a CSR value. */
export interface CsrField {
  /** The spec's field name (MPP, SUM, ASID) or, for delegation bits, the cause's name. */
  name: string;
  /** Bit positions, inclusive; hi = lo for one bit. */
  hi: number;
  lo: number;
  value: bigint;
  /** What the value means, where a number alone does not say it: "S", "Dirty", "Sv39". */
  meaning?: string;
}

export interface DecodedCsr {
  /** The CSR's name. */
  csr: string;
  value: bigint;
  fields: CsrField[];
}

interface FieldSpec {
  name: string;
  hi: number;
  lo: number;
  meaning?: (v: bigint) => string | undefined;
}

const CONTEXT_STATUS = ['Off', 'Initial', 'Clean', 'Dirty'];
const XLEN_NAMES = [undefined, '32', '64', '128'];
const priv = (v: bigint): string => privilegeOf(v) ?? 'reserved';
const contextStatus = (v: bigint): string => CONTEXT_STATUS[Number(v)];
const xlen = (v: bigint): string | undefined => XLEN_NAMES[Number(v)] ?? 'reserved';

const bit = (name: string, n: number): FieldSpec => ({ name, hi: n, lo: n });

/** mstatus for RV64; sstatus is the subset S-mode sees. */
const MSTATUS: FieldSpec[] = [
  bit('SIE', 1), bit('MIE', 3), bit('SPIE', 5), bit('MPIE', 7),
  { name: 'SPP', hi: 8, lo: 8, meaning: (v) => (v ? 'S' : 'U') },
  { name: 'VS', hi: 10, lo: 9, meaning: contextStatus },
  { name: 'MPP', hi: 12, lo: 11, meaning: priv },
  { name: 'FS', hi: 14, lo: 13, meaning: contextStatus },
  { name: 'XS', hi: 16, lo: 15, meaning: contextStatus },
  bit('MPRV', 17), bit('SUM', 18), bit('MXR', 19), bit('TVM', 20), bit('TW', 21), bit('TSR', 22),
  { name: 'UXL', hi: 33, lo: 32, meaning: xlen },
  { name: 'SXL', hi: 35, lo: 34, meaning: xlen },
  bit('SD', 63),
];
const SSTATUS_NAMES = new Set(['SIE', 'SPIE', 'SPP', 'VS', 'FS', 'XS', 'SUM', 'MXR', 'UXL', 'SD']);
const SSTATUS = MSTATUS.filter((f) => SSTATUS_NAMES.has(f.name));

const SATP_MODES = new Map<bigint, string>([[0n, 'Bare'], [8n, 'Sv39'], [9n, 'Sv48'], [10n, 'Sv57'], [11n, 'Sv64']]);
const SATP: FieldSpec[] = [
  { name: 'MODE', hi: 63, lo: 60, meaning: (v) => SATP_MODES.get(v) ?? 'reserved' },
  { name: 'ASID', hi: 59, lo: 44 },
  { name: 'PPN', hi: 43, lo: 0, meaning: (v) => `root page table at 0x${(v << 12n).toString(16)}` },
];

/** Interrupt bits of mip/mie (their positions are the interrupt cause codes). */
const M_INTERRUPTS: FieldSpec[] = [
  bit('SSIP', 1), bit('MSIP', 3), bit('STIP', 5), bit('MTIP', 7), bit('SEIP', 9), bit('MEIP', 11), bit('LCOFIP', 13),
];
const S_INTERRUPT_NAMES = new Set(['SSIP', 'STIP', 'SEIP', 'LCOFIP']);
const S_INTERRUPTS = M_INTERRUPTS.filter((f) => S_INTERRUPT_NAMES.has(f.name));
/** mie/sie name the same bits ...IE instead of ...IP. */
const enableBits = (bits: FieldSpec[]): FieldSpec[] => bits.map((f) => ({ ...f, name: `${f.name.slice(0, -1)}E` }));

function causeFields(value: bigint): FieldSpec[] {
  return [
    { name: 'Interrupt', hi: 63, lo: 63 },
    { name: 'Exception Code', hi: 62, lo: 0, meaning: () => causeName(value) },
  ];
}

/** medeleg: bit n delegates exception code n. ECALL from M-mode (11) is read-only zero. */
const MEDELEG: FieldSpec[] = [...EXCEPTION_CAUSES].filter(([c]) => c !== 11).map(([c, { name }]) => bit(name, c));
/** mideleg: bit n delegates interrupt code n (named like mip's bits). */
const MIDELEG: FieldSpec[] = M_INTERRUPTS;

function layoutFor(name: string, value: bigint): FieldSpec[] | undefined {
  switch (name) {
    case 'mstatus': return MSTATUS;
    case 'sstatus': return SSTATUS;
    case 'satp': return SATP;
    case 'mip': return M_INTERRUPTS;
    case 'mideleg': return MIDELEG;
    case 'mie': return enableBits(M_INTERRUPTS);
    case 'sip': return S_INTERRUPTS;
    case 'sie': return enableBits(S_INTERRUPTS);
    case 'mcause': case 'scause': return causeFields(value);
    case 'medeleg': return MEDELEG;
    default: return undefined;
  }
}

/** The CSR names decodeCsrFields knows. */
export const DECODED_CSRS: readonly string[] = [
  'mstatus', 'sstatus', 'satp', 'mip', 'mie', 'sip', 'sie', 'mcause', 'scause', 'medeleg', 'mideleg',
];

/**
 * Splits `value` of CSR `csr` (a number or a name) into its fields, or returns undefined
 * for a CSR without a field layout here.
 */
export function decodeCsrFields(csr: number | string, value: bigint): DecodedCsr | undefined {
  const name = typeof csr === 'number' ? csrName(csr) : csrNumber(csr) === undefined ? undefined : csr;
  if (name === undefined) return undefined;
  const layout = layoutFor(name, value);
  if (layout === undefined) return undefined;
  value = BigInt.asUintN(64, value);
  const fields = layout.map((f): CsrField => {
    const v = (value >> BigInt(f.lo)) & ((1n << BigInt(f.hi - f.lo + 1)) - 1n);
    const meaning = f.meaning?.(v);
    const field: CsrField = { name: f.name, hi: f.hi, lo: f.lo, value: v };
    if (meaning !== undefined) field.meaning = meaning;
    return field;
  });
  return { csr: name, value, fields };
}

/** One line: `mstatus = 0x...: MPP=S SUM FS=Dirty ...`, listing the fields that are not zero. */
export function formatCsrFields(d: DecodedCsr): string {
  const parts = d.fields
    .filter((f) => f.value !== 0n || f.name === 'MODE' || f.name === 'Exception Code')
    .map((f) => {
      if (f.hi === f.lo && f.meaning === undefined) return f.name;
      const v = f.meaning ?? `0x${f.value.toString(16)}`;
      return `${f.name}=${v}`;
    });
  return `${d.csr} = 0x${d.value.toString(16)}${parts.length ? `: ${parts.join(' ')}` : ''}`;
}
