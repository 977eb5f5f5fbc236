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
