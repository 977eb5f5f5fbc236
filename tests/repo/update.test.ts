// Versions and updates in the CLI: version 2 of an appliance published as a patch
// (`romvisor appliance diff`) over version 1 in a repository served over HTTP. A VM of
// version 1 writes a file to /data (its data disk) and one to its system disk; moving it to
// version 2 with `boot --repo URL NAME@2 --update` fetches only the patch, keeps /data,
// discards the system disk's changes and changes /etc/appliance-version; rolling back to
// version 1 the same way gives version 1 again with /data intact.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRepositoryIndex, type RepositoryIndex } from '../../src/repo/RepositoryIndex.ts';
import { runCli as romvisor, writeScript } from '../boot/runCli.ts';
import { PROMPT } from '../boot/testAppliance.ts';
import { QEMU_IMG, tempDir } from '../disk/diskFixtures.ts';
import { startRepoServer, type RepoServer } from './repoServer.ts';
import { makeUpdateRepository, UPDATE_APPLIANCE as NAME, type UpdateRepository } from './updateFixture.ts';

let dir: string;
let cleanup: () => void;
let upd: UpdateRepository;
let index: RepositoryIndex;
const BASE_VERSION = JSON.parse(readFileSync(new URL('../../appliances/manifest.json', import.meta.url), 'utf8')).appliances.base.version as string;

before(async () => {
  ({ dir, cleanup } = tempDir('update'));
  upd = await makeUpdateRepository(dir);
  index = parseRepositoryIndex(readFileSync(join(upd.dir, 'repository.json')));
});
after(() => cleanup());

describe('a patch made by appliance diff', () => {
  it('holds only what changed, reads as the new version over the old one, and is published with its parent', () => {
    const whole = statSync(upd.wholeV2).size;
    assert.ok(upd.diff.size < whole / 10, `patch ${upd.diff.size} bytes vs whole ${whole}`);
    assert.ok(upd.diff.changedSectors > 0 && upd.diff.changedSectors < 64, `${upd.diff.changedSectors} sectors changed`);
    // qemu-img reads the patch (QEMU's vpc driver does not follow a VHD's parent, so the
    // chain is compared flattened by romvisor, sector by sector by qemu-img).
    const info = JSON.parse(execFileSync(QEMU_IMG, ['info', '--output=json', join(upd.dir, `${NAME}-2.vhd`)], { encoding: 'utf8' }));
    assert.equal(info.format, 'vpc');
    const flat = join(dir, 'flat-2.vhd');
    const r = execFileSync(process.execPath, [new URL('../../bin/romvisor.mjs', import.meta.url).pathname, 'vhd', 'export', join(upd.dir, `${NAME}-2.vhd`), flat], { encoding: 'utf8' });
    assert.match(r, /flattened from 2 disk\(s\)/);
    assert.match(execFileSync(QEMU_IMG, ['compare', flat, upd.wholeV2], { encoding: 'utf8' }), /Images are identical/);

    const [v1, v2] = index.appliances[0]!.versions;
    assert.equal(v1!.version, '1');
    assert.equal(v1!.parent, undefined);
    assert.match(v1!.uniqueId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(v2!.version, '2');
    assert.equal(v2!.parent, '1');
    assert.equal(v2!.size, upd.diff.size);
    assert.equal(index.appliances[0]!.dataDiskMiB, 16);
  });

  it('is refused by repo build without its parent in the folder', async () => {
    const alone = join(dir, 'patch-alone');
    mkdirSync(alone);
    copyFileSync(join(upd.dir, `${NAME}-2.vhd`), join(alone, `${NAME}-2.vhd`));
    const r = await romvisor(['repo', 'build', alone]);
    assert.equal(r.code, 2, r.stdout);
    // Its header's absolute locator still finds version 1 outside the folder: refused all the same.
    assert.match(r.stderr, new RegExp(`${NAME}-2\\.vhd is a patch over unique id [0-9a-f-]{36}, which no VHD in .*patch-alone is`));
  });
});

describe('boot --repo --update', () => {
  let server: RepoServer;
  before(async () => (server = await startRepoServer(upd.dir)));
  after(() => server.close());

  const check = writeScript(dir, 'check', [
    { expect: PROMPT },
    { send: 'echo "data: $(cat /data/note)"; echo "system: $(cat /etc/appliance-version)"; ls /root; echo END-OF-CHECK; poweroff\n' },
    { expect: 'reboot: Power down' },
  ]);

  it('keeps /data and discards the system disk going 1 -> 2 (a patch) and back to 1', async () => {
    const overlay = join(dir, 'vm.vhd');
    const data = join(dir, 'vm-data.vhd');
    const env = { XDG_DATA_HOME: join(dir, 'xdg') };
    const boot = (spec: string, ...more: string[]) => romvisor(['boot', '--repo', server.url, spec, '--overlay', overlay, '--data-disk', data, ...more, '--script', check], { env });

    const write = writeScript(dir, 'write', [
      { expect: PROMPT },
      { send: 'echo kept > /data/note; echo mine > /root/system-change; cat /etc/appliance-version; poweroff\n' },
      { expect: 'reboot: Power down' },
    ]);
    const first = await romvisor(['boot', '--repo', server.url, `${NAME}@1`, '--overlay', overlay, '--data-disk', data, '--script', write], { env });
    assert.equal(first.code, 0, first.stderr + first.stdout.slice(-2000));
    assert.match(first.stdout, /data: formatting the blank data disk \/dev\/vdb/);
    assert.match(first.stdout, new RegExp(`\\r\\n${BASE_VERSION.replace(/\./g, '\\.')}\\r\\n`));

    // Another version without --update: refused, saying what --update would discard.
    const refused = await boot(`${NAME}@2`);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, new RegExp(`is the system disk of ${NAME}@1; booting ${NAME}@2 replaces it.*discarding its changes to the system disk \\(the data disk is kept\\): add --update`));

    // No version: the VM stays on its own, told that 2 is there and what it downloads.
    const stays = await boot(NAME);
    assert.equal(stays.code, 0, stays.stderr);
    assert.match(stays.stderr, new RegExp(`${NAME}@2 is available \\(a patch of [\\d.]+ KiB to download at most\\)`));
    assert.match(stays.stdout, new RegExp(`system: ${BASE_VERSION.replace(/\./g, '\\.')}\\r\\n`));
    assert.match(stays.stdout, /system-change/);

    server.reset();
    const updated = await boot(`${NAME}@2`, '--update');
    assert.equal(updated.code, 0, updated.stderr + updated.stdout.slice(-2000));
    assert.match(updated.stderr, /system disk moved from version 1 to 2 \(its changes to the system disk discarded; the data disk kept\)/);
    assert.match(updated.stdout, /data: kept\r\n/);
    assert.match(updated.stdout, /system: 2\r\n/);
    assert.doesNotMatch(updated.stdout, /system-change/);
    assert.doesNotMatch(updated.stdout, /formatting/);
    // Version 1's chunks were kept from before: the update fetched the patch only.
    assert.equal(server.sent.get(`/${NAME}-1.vhd`) ?? 0, 0);
    assert.ok((server.sent.get(`/${NAME}-2.vhd`) ?? 0) <= upd.diff.size);

    const noData = await romvisor(['boot', 'base', '--data-disk', join(dir, 'x.vhd'), '--script', check]);
    assert.equal(noData.code, 2);
    assert.match(noData.stderr, /--data-disk .*x\.vhd: appliance "base" has no data disk \(its appliance\.json gives no dataDiskMiB\)/);

    const back = await boot(`${NAME}@1`, '--update');
    assert.equal(back.code, 0, back.stderr + back.stdout.slice(-2000));
    assert.match(back.stderr, /system disk moved from version 2 to 1/);
    assert.match(back.stdout, /data: kept\r\n/);
    assert.match(back.stdout, new RegExp(`system: ${BASE_VERSION.replace(/\./g, '\\.')}\\r\\n`));
  });
});

describe('a version naming its parent in repository.json', () => {
  const entry = (v: string, extra: object = {}) => ({ version: v, url: `m-${v}.vhd`, size: 512, virtualSize: 1024, sha256: 'a'.repeat(64), chunkSize: 65536, chunks: ['b'.repeat(64)], ...extra });
  const parse = (versions: object[]) => () => parseRepositoryIndex(new TextEncoder().encode(JSON.stringify({ schema: 'romvisor-repository/1', name: 'r', appliances: [{ name: 'm', memoryMiB: 64, versions }] })));
  const id = '0123abcd-0000-4000-8000-00000000beef';

  it('is refused when the parent is not listed before it, gives no uniqueId, or is another size', () => {
    assert.throws(parse([entry('1', { parent: '2' }), entry('2', { uniqueId: id })]), /appliances\[0\]\.versions\[0\]\.parent must name a version listed before this one, got "2"/);
    assert.throws(parse([entry('1'), entry('2', { parent: '1' })]), /versions\[1\]\.parent names version "1", which gives no uniqueId/);
    assert.throws(parse([entry('1', { uniqueId: id }), entry('2', { parent: '1', virtualSize: 2048 })]), /versions\[1\]\.virtualSize must be the 1024 bytes of its parent version "1", got 2048/);
    assert.throws(parse([entry('1', { uniqueId: 'ABC' })]), /versions\[0\]\.uniqueId must be a VHD unique id/);
    assert.equal(parse([entry('1', { uniqueId: id }), entry('2', { parent: '1' })])().appliances[0]!.versions[1]!.parent, '1');
  });
});
