/**
 * `0x80200000`: addresses, offsets and register values the way objdump, the spec and every
 * error message write them. Bigints print as unsigned 64-bit values, negative numbers as
 * unsigned 32-bit (an instruction word read as int32); `digits` zero-pads.
 */
export function hex(v: bigint | number, digits = 0): string {
  const digitsText = typeof v === 'bigint' ? BigInt.asUintN(64, v).toString(16) : (v < 0 ? v >>> 0 : v).toString(16);
  return `0x${digitsText.padStart(digits, '0')}`;
}
