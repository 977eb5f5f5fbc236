// The inspector's public API: disassembly, page-walk explanation, CSR field decoding.
export { disassemble } from './disassemble.ts';
export { csrName, csrNumber } from './csrName.ts';
export { fRegName, xRegName } from './registerNames.ts';
export type { DisassembleOptions, Disassembly } from './Types.ts';
