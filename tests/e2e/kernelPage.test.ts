/**
 * Teaching kernels in the page: a student drops the project's teaching kernel (an ELF) and
 * a raw disk image on "Run a kernel", picks three harts and presses Run; the kernel's own
 * console says each hart came up, took its timer interrupts and IPI, that the shared
 * counter adds up and that it read and wrote the disk — what `qemu-system-riscv64 -bios none
 * -smp 3 -drive file=fs.img,format=raw` prints (tests/boot/teachKernel.test.ts compares the
 * two byte for byte in the CLI). A scenario's kernel guest ({ kernel: { url, sha256 },
 * drives }) runs the same way from a link, and a link whose kernel does not hash to its
 * sha256 is refused. A VM of the table keeps its harts setting across a reload, and the
 * inspector lists its harts. Screenshots: test-results/kernel-page-*.png.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { decodeScenarioUrl, encodeScenarioUrl, type Scenario } from '../../src/scenario/index.ts';
import { DEFAULT_JIT_MODE } from '../../src/jit/Jit.ts';
import { buildTeachKernel } from '../boot/teachKernelElf.ts';
import { newPage, powerOn, resultsDir, shot, startEnv, vmState, waitFor, waitForConsole, type E2eEnv } from './harness.ts';

const SECTOR = 512;
const DISK_BYTES = 64 * 1024;

/** The teaching kernel's disk, as tests/boot/teachKernel.test.ts makes it. */
function teachingDisk(): Buffer {
  const disk = Buffer.alloc(DISK_BYTES);
  disk.write('ROMVISOR TEACHING DISK\n', 'latin1');
  for (let i = SECTOR; i < DISK_BYTES; i++) disk[i] = (i * 7) & 0xff;
  disk.fill(0, 2 * SECTOR, 2 * SECTOR + 4);
  return disk;
}

/** What the kernel prints when every part of it ran on `harts` harts with the disk. */
function expectedLines(harts: number): string[] {
  const each = Array.from({ length: harts }, (_, h) => h);
  return [
    'romvisor teaching kernel',
    `device tree: ${harts} hart${harts > 1 ? 's' : ''}`,
    ...each.map((h) => `hart ${h} up`),
    ...each.map((h) => `hart ${h}: 3 timer interrupts, 1 IPI`),
    `counter: ${1000 * harts} (as expected)`,
    'disk: virtio-blk at 0x10001000, IRQ 1',
    `disk: ${DISK_BYTES / SECTOR} sectors`,
    'disk: sector 0 says: ROMVISOR TEACHING DISK',
    'disk: boot count 1 written',
    'teaching kernel done',
  ];
}

const kernelHook = <T>(page: Page, what: 'consoleText' | 'state' | 'vmName') =>
  page.evaluate((w) => (globalThis as unknown as { __romvisorKernel: Record<string, () => unknown> }).__romvisorKernel[w]!(), what) as Promise<T | undefined>;

let env: E2eEnv;
let kernelPath: string;
let kernel: Buffer;
const errors: string[] = [];

before(async () => {
  kernelPath = buildTeachKernel();
  kernel = readFileSync(kernelPath);
  env = await startEnv();
});

after(async () => {
  await env?.close();
});

describe('teaching kernels in the page', () => {
  test('Run a kernel boots the teaching kernel with a raw disk on three harts, as QEMU -bios none does', async () => {
    const page = await newPage(env, undefined, { width: 1280, height: 1000 });
    page.on('pageerror', (e) => errors.push(e.message));
    const panel = page.locator('.kernel-panel');
    await panel.locator('[data-kernel-file]').setInputFiles({ name: 'kernel.elf', mimeType: 'application/octet-stream', buffer: kernel });
    assert.match(await panel.locator('[data-kernel-chosen]').innerText(), /^kernel\.elf: RISC-V ELF, \d+ segments? .*entry 0x80000000$/);
    await panel.locator('[data-kernel-drive-file]').setInputFiles({ name: 'fs.img', mimeType: 'application/octet-stream', buffer: teachingDisk() });
    assert.match(await panel.locator('[data-kernel-drive="0"]').innerText(), /vda\s+fs\.img\s+64 KiB · 0x10001000, IRQ 1/);
    await panel.locator('[data-kernel-setting="harts"]').selectOption('3');
    await panel.locator('[data-action="run-kernel"]').click();
    // The server powers on by itself, then the kernel runs and powers its machine off.
    const text = await waitFor('the kernel to finish', async () => {
      const t = (await kernelHook<string>(page, 'consoleText')) ?? '';
      return t.includes('teaching kernel done') && t;
    }, 120_000);
    for (const line of expectedLines(3)) assert.ok(text.includes(line), `the console lacks "${line}":\n${text}`);
    assert.match(text, /powering on kernel-1: 128 MiB RAM, 3 harts, kernel kernel\.elf \(-bios none\)/);
    await waitFor('the machine powered off', async () => (await kernelHook<string>(page, 'state')) === 'stopped', 30_000);
    // The card names the tier the kernel ran with (the page's default, the JIT's auto tier).
    const tier = DEFAULT_JIT_MODE === 'off' ? '' : ` · JIT ${DEFAULT_JIT_MODE}`;
    const meta = await panel.locator('.vm-meta').innerText();
    assert.ok(meta.includes(`kernel kernel.elf (-bios none) · 128 MiB RAM · 3 harts${tier} · fs.img (raw); written in this page, not to your file`), meta);
    await shot(page, 'kernel-page-run', true);
    await panel.screenshot({ path: `${resultsDir}/kernel-page-panel.png` });

    // The drive as the kernel left it: its boot count and the line it wrote, as in the CLI test.
    const [download] = await Promise.all([page.waitForEvent('download'), panel.locator('[data-action="download-drive"][data-drive="0"]').click()]);
    assert.equal(download.suggestedFilename(), 'fs.img');
    const written = readFileSync((await download.path())!);
    assert.equal(written.length, DISK_BYTES);
    assert.equal(written.readUInt32LE(2 * SECTOR), 1, 'boot count 1');
    assert.match(written.subarray(SECTOR, 2 * SECTOR).toString('latin1'), /^written by the romvisor teaching kernel, sector 0 sum [0-9a-f]{8}\n/);
    assert.ok(written.subarray(3 * SECTOR).equals(teachingDisk().subarray(3 * SECTOR)), 'the rest as it was');

    // Start on the card goes on with the drive as written, as QEMU with the same file: boot count 2.
    await panel.locator('.vm-card [data-action="start"]').click();
    const second = await waitFor('the restarted kernel to finish', async () => {
      const t = (await kernelHook<string>(page, 'consoleText')) ?? '';
      return t.includes('boot count 2 written') && t;
    }, 120_000);
    assert.match(second, /disk: boot count 2 written/);
    await waitFor('the machine powered off again', async () => (await kernelHook<string>(page, 'state')) === 'stopped', 30_000);

    // Run again: the drive is the dropped file again (boot count 1), now on one hart.
    await panel.locator('[data-kernel-setting="harts"]').selectOption('1');
    await panel.locator('[data-action="run-kernel"]').click();
    const again = await waitFor('the second run to finish', async () => {
      const t = (await kernelHook<string>(page, 'consoleText')) ?? '';
      return t.includes('teaching kernel done') && t;
    }, 120_000);
    for (const line of expectedLines(1)) assert.ok(again.includes(line), `the second run lacks "${line}":\n${again}`);
    assert.equal(await kernelHook<string>(page, 'vmName'), 'kernel-2');

    // Not an ELF: named at once, nothing runs.
    await panel.locator('[data-kernel-file]').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
    assert.match(await panel.locator('[data-kernel-status]').innerText(), /notes\.txt: not an ELF file \(no \\x7fELF magic at offset 0\)/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("a scenario's kernel guest runs from a link, and a kernel that does not hash to its sha256 is refused", async () => {
    const page = await newPage(env);
    page.on('pageerror', (e) => errors.push(e.message));
    const disk = teachingDisk();
    // A course's server, cross-origin: the page fetches with CORS.
    await page.route('https://course.example/**', (route) => {
      const path = new URL(route.request().url()).pathname;
      const body = path === '/kernel.elf' ? kernel : path === '/fs.img' ? disk : undefined;
      return body ? route.fulfill({ status: 200, body, headers: { 'Access-Control-Allow-Origin': '*', 'Content-Type': 'application/octet-stream' } }) : route.fulfill({ status: 404 });
    });
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const scenario: Scenario = {
      version: 1,
      title: 'Three harts, one disk',
      guests: [{
        kernel: { url: 'https://course.example/kernel.elf', sha256: sha(kernel) },
        bios: 'none',
        drives: [{ url: 'https://course.example/fs.img', sha256: sha(disk), format: 'raw', readonly: false }],
        memoryMiB: 128,
        harts: 3,
        cmdline: '',
        time: 'deterministic',
        script: [{ expect: 'teaching kernel done' }],
      }],
    };
    await page.goto(encodeScenarioUrl(scenario, env.url));
    await page.locator('[data-action="run-scenario"]').click();
    const phase = () => page.evaluate(() => (globalThis as unknown as { __romvisorScenario: { phase(): string } }).__romvisorScenario.phase());
    await waitFor('the scenario to pass', async () => (await phase()) === 'passed', 120_000);
    const text = await page.evaluate(() => (globalThis as unknown as { __romvisorScenario: { consoleText(i: number): string } }).__romvisorScenario.consoleText(0));
    for (const line of expectedLines(3)) assert.ok(text.includes(line), `the scenario guest's console lacks "${line}":\n${text}`);
    await shot(page, 'kernel-page-scenario', true);

    // The same link with another kernel's hash: refused before anything runs.
    const wrong = structuredClone(scenario);
    wrong.guests[0]!.kernel!.sha256 = '0'.repeat(64);
    await page.goto(encodeScenarioUrl(wrong, env.url));
    await page.reload();
    await page.locator('[data-action="run-scenario"]').click();
    await waitFor('the scenario to fail', async () => (await phase()) === 'failed', 60_000);
    assert.match(await page.locator('[data-scenario-status]').innerText(), new RegExp(`GET https://course\\.example/kernel\\.elf: sha256 is ${sha(kernel)}, the scenario says 0{64}; refused`));
    assert.deepEqual(errors, []);
    await page.close();
  });

  test("a VM's harts setting is kept with it, and the inspector lists its harts", async () => {
    const page = await newPage(env);
    page.on('pageerror', (e) => errors.push(e.message));
    await powerOn(page);
    await page.click('[data-appliance="base"] [data-action="new-vm"]');
    const card = page.locator('[data-vm="base-1"]');
    await vmState(page, 'base-1', 'stopped', 60_000);
    const harts = card.locator('[data-setting="harts"]');
    assert.equal(await harts.inputValue(), '1');
    await harts.selectOption('2');
    await waitFor('the setting stored', async () => (await page.evaluate(() => (globalThis as any).__romvisor.hypervisor().vm('base-1').record.harts)) === 2);
    await page.reload();
    await vmState(page, 'base-1', 'stopped', 60_000);
    assert.equal(await card.locator('[data-setting="harts"]').inputValue(), '2');
    // Its scenario link carries the harts too.
    await card.locator('details.menu summary').click();
    await card.locator('[data-action="share"]').click();
    const dialog = page.locator('[data-share-dialog]');
    await dialog.waitFor();
    assert.equal(decodeScenarioUrl(await dialog.locator('[data-share-url]').inputValue()).guests[0]!.harts, 2);
    await dialog.getByRole('button', { name: 'Close' }).click();
    await card.locator('[data-action="start"]').click();
    await vmState(page, 'base-1', 'running');
    assert.equal(await card.locator('[data-setting="harts"]').isDisabled(), true, 'the setting is fixed while the VM runs');
    await waitForConsole(page, 'base-1', (t) => t.includes('powering on base-1: 64 MiB RAM, 2 harts'), 30_000);
    await card.locator('[data-action="watch"]').click();
    const inspector = card.locator('.teach-inspector');
    await inspector.getByRole('button', { name: 'Pause' }).click();
    await waitFor('the paused status', async () => (await inspector.locator('.teach-status').innerText()).startsWith('paused ·'));
    assert.match(await inspector.locator('.teach-status').innerText(), / · harts \*?0:[MSU]( \(wfi\))? \*?1:[MSU]/);
    await inspector.getByRole('button', { name: 'Continue' }).click();
    await card.locator('[data-action="stop"]').click();
    await vmState(page, 'base-1', 'stopped');
    assert.deepEqual(errors, []);
    await page.close();
  });
});
