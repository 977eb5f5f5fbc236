// Linux boot to the busybox prompt on a 4-hart machine: romvisor --smp 4 (deterministic
// time, so the harts' interleaving is the same in every run) beside qemu-system-riscv64
// -smp 4, same firmware, Image and initramfs. Every hart enters OpenSBI; the ones the
// kernel does not start stay in the firmware's HSM wait on both machines.
import { bestOfThree, benchKernelPath, bootRomvisor, bootRow, qemuInitramfsArgs } from './linuxBoot.ts';
import { qemuToPrompt } from '../qemuToPrompt.ts';
import type { BenchGroup } from '../Types.ts';

const HARTS = 4;
const PROMPT = '~ # ';

export const smpBootGroup: BenchGroup = {
  name: 'smp-boot',
  description: `OpenSBI + Linux 6.1 + busybox initramfs to the shell prompt with ${HARTS} harts, romvisor --smp ${HARTS} vs QEMU -smp ${HARTS}`,
  async run(log) {
    const kernelPath = await benchKernelPath();
    log(`smp-boot: qemu -smp ${HARTS}`);
    const q = await bestOfThree(() => qemuToPrompt([...qemuInitramfsArgs(kernelPath), '-smp', String(HARTS)], PROMPT));
    log(`smp-boot: romvisor --smp ${HARTS}`);
    const r = await bestOfThree(() => bootRomvisor('deterministic', HARTS));
    return [bootRow('smp-boot', `boot-to-shell --smp ${HARTS} (deterministic)`, q, r)];
  },
};
