/**
 * What each privilege mode is on this machine, in words: the letter alone means nothing
 * to a student who has not read the privileged spec yet.
 */
import type { Privilege } from '../../machine/index.ts';

export const PRIVILEGE_NAMES: Record<Privilege, { mode: string; who: string }> = {
  M: { mode: 'Machine', who: 'reset ROM and firmware (OpenSBI)' },
  S: { mode: 'Supervisor', who: 'the Linux kernel' },
  U: { mode: 'User', who: 'programs: init, the shell' },
};

/** Who runs in each mode under a bare kernel (QEMU's -bios none): no firmware, no Linux. */
export const BARE_KERNEL_WHO: Record<Privilege, string> = {
  M: 'the kernel itself, from its first instruction (-bios none: no firmware)',
  S: 'a kernel that mret\'d into S-mode',
  U: 'the kernel\'s user programs',
};

/** Who runs in mode `p`: Linux behind OpenSBI, or a bare kernel. */
export function privilegeWho(p: Privilege, bareKernel: boolean): string {
  return bareKernel ? BARE_KERNEL_WHO[p] : PRIVILEGE_NAMES[p].who;
}
