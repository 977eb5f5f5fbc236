/**
 * The crash test in Chromium: a base VM in the page runs the write-and-sync loop and
 * every Chromium process is SIGKILLed at a random moment; a new browser on the same
 * profile boots the VM once and powers it off from the guest, the page exports its disk,
 * and the disk is checked (crashCheck.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backToShell, consoleText, killPersistentChromium, launchPersistent, newPage, newVmAtShell, powerOn, typeInVm, vmState, type E2eEnv } from '../e2e/harness.ts';
import type { SeededRandom } from '../SeededRandom.ts';
import { checkCrashedDisk, confirmedFiles, GUEST_LOOP, type CrashVerdict } from './crashCheck.ts';

export interface BrowserCrashRound extends CrashVerdict {
  killedAfterMs: number;
}

/** One kill and its check, on a browser profile of its own. */
export async function browserCrashRound(env: E2eEnv, rng: SeededRandom): Promise<BrowserCrashRound> {
  const dir = mkdtempSync(join(tmpdir(), 'romvisor-crash-browser-'));
  const profile = join(dir, 'profile');
  try {
    let context = await launchPersistent(profile);
    let page = await newPage(env, context);
    await powerOn(page);
    const vm = await newVmAtShell(page, 'base');
    await typeInVm(page, vm, GUEST_LOOP);
    const killedAfterMs = rng.int(200, 4000);
    await page.waitForTimeout(killedAfterMs);
    // What the console shows at the kill: each CONFIRMED line came after its sync returned.
    const confirmed = confirmedFiles(await consoleText(page, vm));
    killPersistentChromium(profile);
    await context.close().catch(() => {});

    context = await launchPersistent(profile);
    try {
      page = await newPage(env, context);
      await backToShell(page, vm);
      await typeInVm(page, vm, 'poweroff\n');
      await vmState(page, vm, 'stopped', 60_000);
      const vhd = await page.evaluate(async (name) => {
        const hv = (globalThis as any).__romvisor.hypervisor();
        const record = hv.vms().find((v: any) => v.record.name === name).record;
        const blob: Blob = await hv.store.exportVhd(record.diskImageId);
        const url: string = await new Promise((res) => {
          const r = new FileReader();
          r.onload = () => res(r.result as string);
          r.readAsDataURL(blob);
        });
        return url.slice(url.indexOf(',') + 1);
      }, vm);
      const file = join(dir, 'exported.vhd');
      writeFileSync(file, Buffer.from(vhd, 'base64'));
      return { killedAfterMs, ...checkCrashedDisk(file, confirmed) };
    } finally {
      await context.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
