// `romvisor boot --share DIR` with real OpenSBI + Linux + BusyBox (the built-in initramfs,
// whose init mounts the share's tag `host` on /mnt/host): files cross both ways byte for
// byte, 32 MiB included; directories, renames and deletes are seen on the other side; and a
// guest that tries every way out (host links planted in the share, `..`, its own links)
// never reads or changes anything outside the folder.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../disk/diskFixtures.ts';
import { runCli, writeScript } from './runCli.ts';
import { BUILTIN } from '../../src/cli/bootImages.ts';

const PROMPT = '~ # ';
const MiB = 1024 * 1024;
let dir: string;
let cleanup: () => void;

before(() => {
  ({ dir, cleanup } = tempDir('share-folder'));
});
after(() => cleanup());

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** Paths under `root`, links listed but never followed (readdirSync's `recursive` follows them). */
function walk(root: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, prefix)).sort()) {
    const p = prefix ? `${prefix}/${name}` : name;
    out.push(p);
    if (lstatSync(join(root, p)).isDirectory()) out.push(...walk(root, p));
  }
  return out;
}

/** Everything about a directory tree a guest could change, links included (never followed). */
function snapshot(root: string): string {
  return walk(root)
    .map((p) => {
      const st = lstatSync(join(root, p));
      const what = st.isSymbolicLink() ? `-> ${readlinkSync(join(root, p))}` : st.isFile() ? md5(readFileSync(join(root, p))) : 'dir';
      return `${p} ${st.mode.toString(8)} ${st.size} ${st.mtimeMs} ${what}`;
    })
    .join('\n');
}

/** Boots the built-in kernel and initramfs with `share`, plays `commands` at the prompt, powers off. */
async function boot(name: string, share: string, commands: string, extra: string[] = []) {
  const script = writeScript(dir, name, [
    { expect: PROMPT },
    // The init mounted the share; the marker is computed so that the echoed command line does not match it.
    { send: `${commands}; echo END-$((40+2))\n` },
    { expect: 'END-42', timeout: 600 },
    { send: 'poweroff -f\n' },
    { expect: 'reboot: Power down' },
  ]);
  // The built-in kernel and initramfs, not the base appliance: nothing but the share is written.
  const args = ['boot', '--kernel', BUILTIN.kernel, '--initrd', BUILTIN.initrd, '--share', share, '--script', script, '--hang-timeout', '300', ...extra];
  const run = await runCli(args, { timeoutMs: 900_000 });
  assert.equal(run.code, 0, `${run.stderr}\n${run.stdout.slice(-3000)}`);
  return run.stdout;
}

describe('a host folder shared with --share', () => {
  it('moves files both ways byte for byte (32 MiB too), and directories, renames and deletes show on both sides', async () => {
    const share = join(dir, 'both-ways');
    mkdirSync(join(share, 'host-dir', 'deeper'), { recursive: true });
    writeFileSync(join(share, 'hello.txt'), 'hello from the host\n');
    writeFileSync(join(share, 'host-dir', 'deeper', 'leaf'), 'leaf\n');
    writeFileSync(join(share, 'remove-me'), 'x');
    writeFileSync(join(share, 'rename-me'), 'renamed by the guest\n');
    const big = randomBytes(32 * MiB);
    writeFileSync(join(share, 'big.bin'), big);
    const out = await boot(
      'both-ways',
      share,
      [
        'cat /mnt/host/hello.txt',
        'find /mnt/host/host-dir',
        'md5sum /mnt/host/big.bin',
        // A guest file, written from the guest's own RAM disk so its checksum is taken apart from the share.
        'head -c 33554432 /dev/urandom > /tmp/g.bin && md5sum /tmp/g.bin && cp /tmp/g.bin /mnt/host/from-guest.bin',
        'printf "written by the guest\\n" > /mnt/host/small.txt',
        'mkdir -p /mnt/host/guest-dir/sub && echo nested > /mnt/host/guest-dir/sub/n.txt',
        'mv /mnt/host/rename-me /mnt/host/guest-dir/renamed',
        'rm /mnt/host/remove-me && rmdir /mnt/host/host-dir/deeper 2>&1; rm -r /mnt/host/host-dir/deeper',
        'ls /mnt/host | tr "\\n" " "; echo',
      ].join('; '),
    );
    assert.match(out, /hello from the host/);
    assert.match(out, /\/mnt\/host\/host-dir\/deeper\/leaf/);
    assert.match(out, new RegExp(`${md5(big)}  /mnt/host/big.bin`), 'the guest read the 32 MiB host file intact');
    const guestSum = /([0-9a-f]{32})  \/tmp\/g\.bin/.exec(out)?.[1];
    assert.ok(guestSum, out.slice(-2000));
    const fromGuest = readFileSync(join(share, 'from-guest.bin'));
    assert.equal(fromGuest.length, 32 * MiB);
    assert.equal(md5(fromGuest), guestSum, 'the 32 MiB guest file arrived intact');
    assert.equal(readFileSync(join(share, 'small.txt'), 'utf8'), 'written by the guest\n');
    assert.equal(readFileSync(join(share, 'guest-dir', 'sub', 'n.txt'), 'utf8'), 'nested\n');
    assert.equal(readFileSync(join(share, 'guest-dir', 'renamed'), 'utf8'), 'renamed by the guest\n');
    assert.equal(existsSync(join(share, 'rename-me')), false);
    assert.equal(existsSync(join(share, 'remove-me')), false);
    assert.equal(existsSync(join(share, 'host-dir', 'deeper')), false);
    assert.match(out, /big\.bin from-guest\.bin guest-dir hello\.txt host-dir small\.txt/);
  });

  it('never lets the guest read, list, write or create outside the folder, whatever links and paths it uses', async () => {
    const top = join(dir, 'confined');
    const share = join(top, 'share');
    const outside = join(top, 'outside');
    mkdirSync(join(outside, 'dir'), { recursive: true });
    mkdirSync(join(share, 'sub'), { recursive: true });
    writeFileSync(join(outside, 'secret'), 'OUTSIDE-SECRET\n');
    writeFileSync(join(outside, 'dir', 'inner'), 'OUTSIDE-INNER\n');
    // Host links in the share pointing out: absolute, relative, to a directory, dangling, deep.
    symlinkSync(join(outside, 'secret'), join(share, 'abs-secret'));
    symlinkSync('../outside/secret', join(share, 'rel-secret'));
    symlinkSync(outside, join(share, 'out-dir'));
    symlinkSync(join(outside, 'created-through-link'), join(share, 'dangling'));
    symlinkSync('../../outside/dir', join(share, 'sub', 'deep-out'));
    const before = snapshot(outside);
    const linksBefore = snapshot(share);
    const out = await boot(
      'confined',
      share,
      [
        'cd /mnt/host',
        'ls -l /mnt/host',
        'readlink /mnt/host/abs-secret; readlink /mnt/host/rel-secret',
        'cat abs-secret rel-secret out-dir/secret sub/deep-out/inner 2>&1',
        'ls out-dir/ sub/deep-out/ 2>&1',
        'echo PWNED > dangling 2>&1; echo PWNED >> abs-secret 2>&1; echo PWNED > out-dir/new 2>&1',
        'chmod 777 abs-secret out-dir 2>&1; touch out-dir/secret 2>&1; rm out-dir/secret sub/deep-out/inner 2>&1',
        'mv out-dir/secret /mnt/host/stolen 2>&1; mkdir out-dir/made 2>&1',
        'ls /mnt/host/.. /mnt/host/../.. 2>&1 | head -3',
        'cat /mnt/host/../outside/secret /mnt/host/../../outside/secret 2>&1',
        // The guest's own links are stored as text and resolved in the guest.
        'ln -s /etc/hostname /mnt/host/guest-link && cat /mnt/host/guest-link && ln -s ../../.. /mnt/host/up && ls /mnt/host/up/ | head -3',
        'cd /',
      ].join('; '),
    );
    assert.doesNotMatch(out, /OUTSIDE-SECRET|OUTSIDE-INNER/, 'nothing outside the share was read');
    assert.match(out, new RegExp(`${join(outside, 'secret')}\\r?\\n\\.\\./outside/secret`), 'readlink gives the link text');
    assert.equal(snapshot(outside), before, 'nothing outside the share changed');
    assert.deepEqual(readdirSync(top).sort(), ['outside', 'share']);
    // The planted links are still the same links (the guest's chmod and rm went nowhere else).
    assert.equal(snapshot(share).split('\n').filter((l) => l.includes(' -> ') && !/guest-link|^up /.test(l)).join('\n'), linksBefore.split('\n').filter((l) => l.includes(' -> ')).join('\n'));
    assert.equal(readlinkSync(join(share, 'guest-link')), '/etc/hostname');
    assert.equal(readlinkSync(join(share, 'up')), '../../..');
    assert.equal(existsSync(join(share, 'stolen')), false);
  });

  it('gives the same console bytes on two deterministic runs with a share', async () => {
    const share = join(dir, 'deterministic');
    mkdirSync(share);
    writeFileSync(join(share, 'a.txt'), 'deterministic\n');
    writeFileSync(join(share, 'b.bin'), Buffer.alloc(300_000, 7));
    const cmds = 'cat /mnt/host/a.txt; md5sum /mnt/host/b.bin; ls /mnt/host; cat /proc/uptime; grep -i virtio /proc/interrupts';
    const a = await boot('det-a', share, cmds, ['--time', 'deterministic']);
    const b = await boot('det-b', share, cmds, ['--time', 'deterministic']);
    assert.match(a, /deterministic\r?\n/);
    assert.equal(a, b);
  });
});
