// romvisor's bare-metal runner as the ISA tests, the fuzzer and the benchmarks call it.
// One place to import it from, so a change of its home (e.g. behind src/boot/index.ts)
// is a one-line edit here.
import { runBareMetal, type BareMetalResult } from '../../src/boot/bareMetal.ts';

export type { BareMetalResult };
export type RunBareMetal = typeof runBareMetal;
export { runBareMetal };
