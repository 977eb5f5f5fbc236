// Updates as patches: a one-file update of the base appliance (/etc/appliance-version
// changed; tests/repo/updateFixture.ts) made into a patch against version 1 by romvisor
// (`appliance diff`: a differencing VHD, 64 KiB blocks) and by QEMU (`qemu-img convert -B`:
// a qcow2 holding what differs from its backing file, 64 KiB clusters). The row compares the
// time to make each and, in its note, their sizes beside the whole new VHD. Both patches are
// checked: the chain, flattened, is the whole new version (`qemu-img compare`).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diffAppliance } from '../../src/repo/node.ts';
import { makeUpdateRepository, UPDATE_APPLIANCE } from '../../tests/repo/updateFixture.ts';
import type { BenchGroup } from '../Types.ts';

const QEMU_IMG = '/usr/bin/qemu-img';
const ROMVISOR = fileURLToPath(new URL('../../bin/romvisor.mjs', import.meta.url));

export const patchGroup: BenchGroup = {
  name: 'patch',
  description: 'a one-file update of the base appliance as a patch: romvisor appliance diff (differencing VHD) vs qemu-img convert -B (qcow2 over a backing file): time and bytes, beside the whole new VHD',
  async run(log) {
    const work = mkdtempSync(join(tmpdir(), 'romvisor-bench-patch-'));
    try {
      const upd = await makeUpdateRepository(work);
      const old = join(upd.dir, `${UPDATE_APPLIANCE}-1.vhd`);
      const best = async (run: () => Promise<void> | void) => {
        let seconds = Infinity;
        for (let i = 0; i < 3; i++) {
          const t0 = performance.now();
          await run();
          seconds = Math.min(seconds, (performance.now() - t0) / 1000);
        }
        return seconds;
      };
      const ours = join(work, 'patch.vhd');
      const romvisorSeconds = await best(async () => {
        rmSync(ours, { force: true });
        await diffAppliance(old, upd.wholeV2, ours);
      });
      const theirs = join(work, 'patch.qcow2');
      const qemuSeconds = await best(() => {
        rmSync(theirs, { force: true });
        execFileSync(QEMU_IMG, ['convert', '-O', 'qcow2', '-B', old, '-F', 'vpc', '-f', 'vpc', upd.wholeV2, theirs]);
      });
      const flat = join(work, 'flat.vhd');
      execFileSync(process.execPath, [ROMVISOR, 'vhd', 'export', ours, flat]);
      const same = (a: string, b: string) => /identical/.test(execFileSync(QEMU_IMG, ['compare', a, b], { encoding: 'utf8' }));
      const outputsMatch = same(flat, upd.wholeV2) && same(theirs, upd.wholeV2);
      const whole = statSync(upd.wholeV2).size;
      const oursBytes = statSync(ours).size;
      const theirsBytes = statSync(theirs).size;
      const note = `patch ${oursBytes} bytes (${((oursBytes / whole) * 100).toFixed(1)}% of the ${whole}-byte whole VHD; ${upd.diff.changedSectors} sectors changed) vs qemu-img's qcow2 ${theirsBytes} bytes (${((theirsBytes / whole) * 100).toFixed(1)}%)`;
      log(`patch: ${note}`);
      return [{ group: 'patch', name: 'one-file update as a patch vs qemu-img convert -B', romvisorSeconds, qemuSeconds, ratio: romvisorSeconds / qemuSeconds, outputsMatch, note }];
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  },
};
