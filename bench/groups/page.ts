// The page as users run it (the built site under vite preview): the base appliance booted
// to its shell prompt in Chromium (a
// VM in a Web Worker, disk in IndexedDB) against the same boot in node (the CLI's Vm over
// the .vhd), with QEMU's boot of the same VHD as the peer; and one VM's MIPS while it runs a
// shell busy-loop alone, then with three more VMs doing the same on this 2-core machine.
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { consoleText, hvCommand, newPage, powerOn, startBuiltEnv, typeInVm, waitForConsole } from '../../tests/e2e/harness.ts';
import { openApplianceVm } from '../applianceVm.ts';
import { qemuApplianceArgs } from '../qemuAppliance.ts';
import { qemuToPrompt } from '../qemuToPrompt.ts';
import type { BenchGroup, BenchRow } from '../Types.ts';
import type { JitMode } from '../../src/jit/Jit.ts';
import type { JitView } from '../../src/machine/jitView.ts';
import { jitPageFigures } from '../jitPageFigures.ts';

const BASE = fileURLToPath(new URL('../../appliances/base.vhd.gz', import.meta.url));
const PROMPT = /~ # $/;
const LOOP = 'while :; do :; done\n';
/** One data directory for the node boots, so the .vhd.gz is unpacked only once. */
const BENCH_DATA = mkdtempSync(join(tmpdir(), 'romvisor-bench-'));

async function bootBaseInNode(jit: JitMode = 'off'): Promise<number> {
  // Timed like the page's click-to-prompt: opening the disk and reading the kernel from its
  // boot partition count (the .vhd.gz is unpacked into the cache by the first, untimed run).
  const start = performance.now();
  const { vm, dispose } = await openApplianceVm(BASE, jit, BENCH_DATA);
  try {
    let text = '';
    vm.onConsole((b) => (text += Buffer.from(b).toString('latin1')));
    while (!PROMPT.test(text)) {
      const r = vm.run(16);
      if (r.kind === 'idle') {
        const work = vm.pendingWork();
        await (work ?? new Promise((res) => setTimeout(res, Math.min(r.wakeInMs ?? 1, 5))));
      } else if (r.kind !== 'running') throw new Error(`base ended its boot: ${r.kind}`);
      else await new Promise((res) => setImmediate(res));
    }
    return (performance.now() - start) / 1000;
  } finally {
    await dispose();
  }
}

async function bootBaseInQemu(): Promise<number> {
  const dir = fileURLToPath(new URL('../../build/bench/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const r = await qemuToPrompt(await qemuApplianceArgs(BASE, dir), PROMPT);
  if (!r.ok) throw new Error(r.note);
  return r.seconds;
}

/** Starts a VM from its card and returns seconds from the click to the shell prompt. */
async function bootInPage(page: Page, name: string): Promise<number> {
  const start = performance.now();
  await page.click(`[data-vm="${name}"] [data-action="start"]`);
  await waitForConsole(page, name, (t) => PROMPT.test(t.trimEnd() + ' '), 120_000);
  return (performance.now() - start) / 1000;
}

/** The JIT view of a VM's worker, as the inspector's panel gets it. */
function jitViewOf(page: Page, name: string): Promise<JitView> {
  return page.evaluate((n) => (globalThis as any).__romvisor.hypervisor().vm(n).machine.jitView(), name);
}

async function mipsOf(page: Page, name: string, settleMs: number): Promise<number> {
  await page.waitForTimeout(settleMs);
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    samples.push(Number(await page.textContent(`[data-vm="${name}"] [data-metric="mips"]`)));
    await page.waitForTimeout(1000);
  }
  return samples.reduce((a, b) => a + b, 0) / samples.length;
}

export const pageGroup: BenchGroup = {
  name: 'page',
  description: 'the base appliance booted in Chromium vs in node (interpreter, and --jit auto; QEMU peer), and one VM alone vs with four running',
  async run(log) {
    // The built site, as a static host serves it (the dev server would time its on-the-fly
    // transforms of every worker module too).
    const env = await startBuiltEnv();
    const rows: BenchRow[] = [];
    try {
      const page = await newPage(env);
      await powerOn(page);
      for (const n of ['w1', 'w2', 'w3', 'w4', 'j1', 'j2']) await hvCommand(page, `new base ${n}`);
      await page.waitForSelector('[data-vm="j2"]');
      // Each VM's tier is its own setting, as the card's menu sets it: w1..w4 the interpreter
      // (the page's default is the JIT's auto tier), j1 and j2 auto.
      for (const n of ['w1', 'w2', 'w3', 'w4']) await hvCommand(page, `set ${n} jit off`);
      for (const n of ['j1', 'j2']) await hvCommand(page, `set ${n} jit auto`);
      await page.waitForFunction(() => ['w1', 'w2', 'w3', 'w4', 'j1', 'j2'].every((n) => (globalThis as any).__romvisor.hypervisor().vm(n).record.jit === (n[0] === 'w' ? 'off' : 'auto')));
      // The first boot also fetches, inflates and stores the image: not part of the figure.
      await bootInPage(page, 'w4');
      // Interpreter and JIT boots alternate, so a change in the machine's load falls on both.
      log('page: boot base in Chromium, interpreter and --jit auto');
      const w1 = await bootInPage(page, 'w1');
      const j1 = await bootInPage(page, 'j1');
      const w2 = await bootInPage(page, 'w2');
      const j2 = await bootInPage(page, 'j2');
      const browser = Math.min(w1, w2);
      const browserJit = Math.min(j1, j2);
      // The counters of the faster JIT boot's worker, read at its prompt (the panel's view).
      const view = await jitViewOf(page, j1 <= j2 ? 'j1' : 'j2');
      // Off again, so the MIPS figures below are of w1..w4 alone.
      for (const n of ['j1', 'j2']) {
        await page.click(`[data-vm="${n}"] [data-action="stop"]`);
        await page.waitForSelector(`[data-vm="${n}"][data-state="stopped"]`, { timeout: 30_000 });
      }
      log('page: boot base in node, interpreter and --jit auto');
      await bootBaseInNode(); // unpacks the image into the cache
      const nodeRuns: number[] = [];
      const nodeJitRuns: number[] = [];
      for (let i = 0; i < 2; i++) {
        nodeRuns.push(await bootBaseInNode());
        nodeJitRuns.push(await bootBaseInNode('auto'));
      }
      const node = Math.min(...nodeRuns);
      const nodeJit = Math.min(...nodeJitRuns);
      log('page: boot base in QEMU');
      const qemu = Math.min(await bootBaseInQemu(), await bootBaseInQemu());
      rows.push({
        group: 'page', name: 'base boot-to-shell, Chromium', romvisorSeconds: browser, qemuSeconds: qemu, ratio: browser / qemu, outputsMatch: true,
        jitSeconds: browserJit, jitRatio: browserJit / qemu, jit: view.stats, jitPages: jitPageFigures(view),
        note: `Chromium/node ${(browser / node).toFixed(2)}x, with --jit auto ${(browserJit / nodeJit).toFixed(2)}x (${view.stats.compiles} pages translated by the prompt)`,
      });
      rows.push({ group: 'page', name: 'base boot-to-shell, node', romvisorSeconds: node, qemuSeconds: qemu, ratio: node / qemu, jitSeconds: nodeJit, jitRatio: nodeJit / qemu, outputsMatch: true });

      log('page: MIPS alone vs four');
      await bootInPage(page, 'w3');
      await typeInVm(page, 'w1', LOOP);
      const alone = await mipsOf(page, 'w1', 3000);
      for (const n of ['w2', 'w3', 'w4']) await typeInVm(page, n, LOOP);
      const withFour = await mipsOf(page, 'w1', 3000);
      const busy = (await consoleText(page, 'w1')).includes('while :');
      rows.push({ group: 'page', name: 'one VM busy, alone', romvisorMips: alone, outputsMatch: busy, note: 'no QEMU counterpart' });
      rows.push({ group: 'page', name: 'one VM busy, four busy', romvisorMips: withFour, outputsMatch: busy, note: `alone/four ${(alone / withFour).toFixed(2)}x on ${2} cores` });
    } finally {
      await env.close();
    }
    return rows;
  },
};
