// CSR numbers and names from the privileged spec's CSR listing tables (unprivileged
// counters and floating-point CSRs, supervisor, hypervisor, machine, debug/trigger).
// The disassembler prints these names; an unnamed CSR prints as its number in hex.

const NAMES = new Map<number, string>();

function add(csr: number, name: string): void {
  NAMES.set(csr, name);
}

/** `base + i` named `prefix + i` for i in [from, to]. */
function addRange(base: number, prefix: string, from: number, to: number, suffix = ''): void {
  for (let i = from; i <= to; i++) add(base + i - from, `${prefix}${i}${suffix}`);
}

// Unprivileged: floating point (F), counters (Zicntr, Zihpm); the h variants are RV32's
// upper halves, still named on RV64 because the number is the same.
add(0x001, 'fflags');
add(0x002, 'frm');
add(0x003, 'fcsr');
add(0xc00, 'cycle');
add(0xc01, 'time');
add(0xc02, 'instret');
addRange(0xc03, 'hpmcounter', 3, 31);
add(0xc80, 'cycleh');
add(0xc81, 'timeh');
add(0xc82, 'instreth');
addRange(0xc83, 'hpmcounter', 3, 31, 'h');

// Supervisor.
add(0x100, 'sstatus');
add(0x104, 'sie');
add(0x105, 'stvec');
add(0x106, 'scounteren');
add(0x10a, 'senvcfg');
add(0x140, 'sscratch');
add(0x141, 'sepc');
add(0x142, 'scause');
add(0x143, 'stval');
add(0x144, 'sip');
add(0x180, 'satp');
add(0x5a8, 'scontext');

// Hypervisor and virtual supervisor.
add(0x600, 'hstatus');
add(0x602, 'hedeleg');
add(0x603, 'hideleg');
add(0x604, 'hie');
add(0x605, 'htimedelta');
add(0x606, 'hcounteren');
add(0x607, 'hgeie');
add(0x60a, 'henvcfg');
add(0x615, 'htimedeltah');
add(0x61a, 'henvcfgh');
add(0x643, 'htval');
add(0x644, 'hip');
add(0x645, 'hvip');
add(0x64a, 'htinst');
add(0x680, 'hgatp');
add(0x6a8, 'hcontext');
add(0xe12, 'hgeip');
add(0x200, 'vsstatus');
add(0x204, 'vsie');
add(0x205, 'vstvec');
add(0x240, 'vsscratch');
add(0x241, 'vsepc');
add(0x242, 'vscause');
add(0x243, 'vstval');
add(0x244, 'vsip');
add(0x280, 'vsatp');

// Machine.
add(0xf11, 'mvendorid');
add(0xf12, 'marchid');
add(0xf13, 'mimpid');
add(0xf14, 'mhartid');
add(0xf15, 'mconfigptr');
add(0x300, 'mstatus');
add(0x301, 'misa');
add(0x302, 'medeleg');
add(0x303, 'mideleg');
add(0x304, 'mie');
add(0x305, 'mtvec');
add(0x306, 'mcounteren');
add(0x30a, 'menvcfg');
add(0x310, 'mstatush');
add(0x31a, 'menvcfgh');
add(0x320, 'mcountinhibit');
addRange(0x323, 'mhpmevent', 3, 31);
add(0x340, 'mscratch');
add(0x341, 'mepc');
add(0x342, 'mcause');
add(0x343, 'mtval');
add(0x344, 'mip');
add(0x34a, 'mtinst');
add(0x34b, 'mtval2');
addRange(0x3a0, 'pmpcfg', 0, 15);
addRange(0x3b0, 'pmpaddr', 0, 63);
add(0x747, 'mseccfg');
add(0x757, 'mseccfgh');
add(0xb00, 'mcycle');
add(0xb02, 'minstret');
addRange(0xb03, 'mhpmcounter', 3, 31);
add(0xb80, 'mcycleh');
add(0xb82, 'minstreth');
addRange(0xb83, 'mhpmcounter', 3, 31, 'h');

// Debug and trigger modules (debug spec).
add(0x7a0, 'tselect');
add(0x7a1, 'tdata1');
add(0x7a2, 'tdata2');
add(0x7a3, 'tdata3');
add(0x7a4, 'tinfo');
add(0x7a5, 'tcontrol');
add(0x7a5, 'tcontrol');
add(0x7a8, 'mcontext');
add(0x7aa, 'mscontext');
add(0x7b0, 'dcsr');
add(0x7b1, 'dpc');
add(0x7b2, 'dscratch0');
add(0x7b3, 'dscratch1');

// Ratified extensions beyond RV64GC whose CSRs a kernel may touch: vector (V), entropy
// source (Zkr), state enable (Smstateen), supervisor timer compare (Sstc), advanced
// interrupt architecture (Smaia/Ssaia) and counter overflow (Sscofpmf).
add(0x008, 'vstart');
add(0x009, 'vxsat');
add(0x00a, 'vxrm');
add(0x00f, 'vcsr');
add(0xc20, 'vl');
add(0xc21, 'vtype');
add(0xc22, 'vlenb');
add(0x015, 'seed');
addRange(0x10c, 'sstateen', 0, 3);
addRange(0x30c, 'mstateen', 0, 3);
addRange(0x31c, 'mstateen', 0, 3, 'h');
addRange(0x60c, 'hstateen', 0, 3);
addRange(0x61c, 'hstateen', 0, 3, 'h');
add(0x14d, 'stimecmp');
add(0x15d, 'stimecmph');
add(0x24d, 'vstimecmp');
add(0x25d, 'vstimecmph');
add(0x308, 'mvien');
add(0x309, 'mvip');
add(0x313, 'midelegh');
add(0x314, 'mieh');
add(0x318, 'mvienh');
add(0x319, 'mviph');
add(0x350, 'miselect');
add(0x351, 'mireg');
add(0x354, 'miph');
add(0x35c, 'mtopei');
add(0xfb0, 'mtopi');
add(0x114, 'sieh');
add(0x150, 'siselect');
add(0x151, 'sireg');
add(0x154, 'siph');
add(0x15c, 'stopei');
add(0xdb0, 'stopi');
add(0x214, 'vsieh');
add(0x250, 'vsiselect');
add(0x251, 'vsireg');
add(0x254, 'vsiph');
add(0x25c, 'vstopei');
add(0xeb0, 'vstopi');
add(0x608, 'hvien');
add(0x609, 'hvictl');
add(0x613, 'hidelegh');
add(0x618, 'hvienh');
add(0x646, 'hviprio1');
add(0x647, 'hviprio2');
add(0x655, 'hviph');
add(0x656, 'hviprio1h');
add(0x657, 'hviprio2h');
add(0xda0, 'scountovf');
addRange(0x723, 'mhpmevent', 3, 31, 'h');

/** The CSR's spec name, or undefined when the number has none. */
export function csrName(csr: number): string | undefined {
  return NAMES.get(csr & 0xfff);
}

/** The CSR number for a name (the inverse of csrName), or undefined. */
export function csrNumber(name: string): number | undefined {
  for (const [n, s] of NAMES) if (s === name) return n;
  return undefined;
}
