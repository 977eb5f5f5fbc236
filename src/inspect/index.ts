// The inspector's public API: disassembly, page-walk explanation, CSR field decoding.
export { disassemble } from './disassemble.ts';
export { csrName, csrNumber } from './csrName.ts';
export { fRegName, xRegName } from './registerNames.ts';
export { privilegeOf } from './privilege.ts';
export { decodePteFlags, explainTranslation, formatTranslation, pageSizeName, TranslationError } from './pageWalk.ts';
export type { TranslationErrorCode } from './pageWalk.ts';
export type {
  AccessType, CauseName, DisassembleOptions, Disassembly, Privilege, PteFlags, Translation, TranslationFault,
  TranslationFaultReason, TranslationMode, TranslationState, TrapKind, WalkLevel,
} from './Types.ts';
export { decodeCsrFields, DECODED_CSRS, formatCsrFields } from './csrFields.ts';
export { causeName, causeOfCounter, nameCause } from './trapCauses.ts';
export type { CsrField, DecodedCsr } from './csrFields.ts';
export {
  checkTrapLogFilter, DEFAULT_TRAP_LOG_FILTER, isDefaultFilter, keepsTrap, parseTrapLogFilter, PRIVILEGES,
  returnMaskFor, ringMasksFor, sameFilter, TRAP_KINDS, TRAP_LOG_FILTER_FIELDS, type TrapLogFilter,
} from './trapLogFilter.ts';
