// Each shipped appliance, as a user meets it: boot it, run its application, write a file,
// power off; boot again on the same overlay and read the file back; the exported disk's
// root file system passes e2fsck; the committed image never changes.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runCli } from './runCli.ts';

const appliance = (name: string) => fileURLToPath(new URL(`../../appliances/${name}.vhd.gz`, import.meta.url));
/** What a user types: the .vhd name of a committed .vhd.gz. */
const asTyped = (name: string) => fileURLToPath(new URL(`../../appliances/${name}.vhd`, import.meta.url));
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'romvisor-apps-'));
const PROMPT = '~ # ';

function script(name: string, steps: unknown[]): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(steps));
  return path;
}

/** Flattens an overlay chain to raw and checks partition 2 (the root) with e2fsck -fn. */
function fsckRoot(overlay: string, name: string): string {
  const exported = join(dir, `${name}-export.vhd`);
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('../../bin/romvisor.mjs', import.meta.url)), 'vhd', 'export', overlay, exported], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const raw = join(dir, `${name}.raw`);
  execFileSync('qemu-img', ['convert', '-f', 'vpc', '-O', 'raw', exported, raw]);
  // Partition 2's start and size from the MBR entry at 0x1ce (LBA at +8, sectors at +12).
  const mbr = readFileSync(raw).subarray(0, 512);
  const start = mbr.readUInt32LE(0x1ce + 8);
  const count = mbr.readUInt32LE(0x1ce + 12);
  const root = join(dir, `${name}-root.img`);
  execFileSync('dd', [`if=${raw}`, `of=${root}`, 'bs=512', `skip=${start}`, `count=${count}`, 'status=none']);
  const fsck = spawnSync('/usr/sbin/e2fsck', ['-fn', root], { encoding: 'utf8' });
  assert.equal(fsck.status, 0, `e2fsck -fn exited ${fsck.status}:\n${fsck.stdout}${fsck.stderr}`);
  return root;
}

const APPS = [
  { name: 'sqlite', run: 'sqlite3 /root/sample.db "select count(*) from planets"', expect: /^8\r?$/m },
  { name: 'lua', run: 'lua -e "print(string.format(\'lua says %d\', 6*7))"', expect: /^lua says 42\r?$/m },
  { name: 'base', run: 'pagefault-demo', expect: /pagefault-demo: wrote page\[0\] = 42/ },
];

for (const app of APPS) {
  describe(`the ${app.name} appliance`, () => {
    it('runs its application and keeps what the guest wrote across boots, leaving the image alone', async () => {
      const image = appliance(app.name);
      const before = sha(image);
      const overlay = join(dir, `${app.name}.vhd`);
      const first = await runCli(['boot', asTyped(app.name), '--overlay', overlay, '--time', 'deterministic', '--script', script(`${app.name}-1`, [
        { expect: PROMPT, timeout: 120 },
        { send: `${app.run}\n` },
        { expect: PROMPT },
        { send: `echo kept-by-${app.name} > /root/kept.txt; sync; poweroff\n` },
        { expect: 'reboot: Power down' },
      ])]);
      assert.equal(first.code, 0, first.stderr + first.stdout.slice(-1500));
      assert.match(first.stdout, app.expect);

      // The second boot names the appliance as the page's catalog does: a bare built-in name.
      const second = await runCli(['boot', app.name, '--overlay', overlay, '--time', 'deterministic', '--script', script(`${app.name}-2`, [
        { expect: PROMPT, timeout: 120 },
        { send: 'cat /root/kept.txt; poweroff\n' },
        { expect: 'reboot: Power down' },
      ])]);
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stdout, new RegExp(`^kept-by-${app.name}\\r?$`, 'm'));
      assert.equal(sha(image), before, 'the committed appliance is unchanged');

      const root = fsckRoot(overlay, app.name);
      const cat = spawnSync('/usr/sbin/debugfs', ['-R', 'cat /root/kept.txt', root], { encoding: 'utf8' });
      assert.match(cat.stdout, new RegExp(`kept-by-${app.name}`));
    });
  });
}

describe('romvisor boot NAME', () => {
  it('refuses a name that is not a built-in appliance, listing the ones there are', async () => {
    const r = await runCli(['boot', 'sqlite3']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /"sqlite3" is not a built-in appliance \(base, lua, sqlite\), IMAGE\.vhd or IMAGE\.vhd\.gz/);
  });
});
