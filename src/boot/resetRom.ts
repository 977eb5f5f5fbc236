/**
 * The reset ROM at 0x1000, as on QEMU's virt board: the hart starts here in M-mode and
 * jumps to the firmware with a0 = hartid, a1 = device tree address, a2 = address of a
 * `struct fw_dynamic_info` telling OpenSBI's fw_dynamic where the next stage (the kernel)
 * is and that it runs in S-mode.
 */

export const RESET_ROM_BASE = 0x1000n;

// The six instructions, encoded by hand (RV64I: U-, I-type). t0 = x5, a0..a2 = x10..x12.
const AUIPC_T0 = 0x00000297; //       auipc t0, 0            t0 = 0x1000
const ADDI_A2 = (40 << 20) | (5 << 15) | (12 << 7) | 0x13; // addi a2, t0, 40   &fw_dynamic_info
const CSRR_A0 = (0xf14 << 20) | (2 << 12) | (10 << 7) | 0x73; // csrr a0, mhartid
const LD_A1 = (32 << 20) | (5 << 15) | (3 << 12) | (11 << 7) | 0x03; // ld a1, 32(t0)  fdt
const LD_T0 = (24 << 20) | (5 << 15) | (3 << 12) | (5 << 7) | 0x03; //  ld t0, 24(t0)  firmware
const JR_T0 = (5 << 15) | 0x67; //                                       jr t0

/** OpenSBI's fw_dynamic_info (include/sbi/fw_dynamic.h): magic "OSBI", version 2. */
const FW_DYNAMIC_MAGIC = 0x4942534fn;
const FW_DYNAMIC_VERSION = 2n;
export const NEXT_MODE_S = 1n;

export interface ResetRomConfig {
  firmwareAddr: bigint;
  fdtAddr: bigint;
  /** Where fw_dynamic jumps after initialising: the kernel. */
  nextAddr: bigint;
  nextMode?: bigint;
}

export function buildResetRom(cfg: ResetRomConfig): Uint8Array {
  const rom = new Uint8Array(40 + 6 * 8);
  const dv = new DataView(rom.buffer);
  [AUIPC_T0, ADDI_A2, CSRR_A0, LD_A1, LD_T0, JR_T0].forEach((insn, i) => dv.setUint32(i * 4, insn >>> 0, true));
  dv.setBigUint64(24, cfg.firmwareAddr, true);
  dv.setBigUint64(32, cfg.fdtAddr, true);
  const info = [FW_DYNAMIC_MAGIC, FW_DYNAMIC_VERSION, cfg.nextAddr, cfg.nextMode ?? NEXT_MODE_S, 0n /* options */, 0n /* boot hart */];
  info.forEach((v, i) => dv.setBigUint64(40 + i * 8, v, true));
  return rom;
}
