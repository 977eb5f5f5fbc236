// `romvisor boot --repo URL NAME`: an appliance with a 64 MiB root served by a local HTTP
// server (with and without Range) boots to a shell reading a fraction of its VHD; a second
// boot fetches nothing, and boots with the server gone; a chunk changed on the server
// stops the run with exit 2 naming it.
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRepositoryIndex, type RepositoryVersion } from '../../src/repo/RepositoryIndex.ts';
import { buildRepository } from '../../src/repo/buildRepository.node.ts';
import { runCli as romvisor, writeScript } from '../boot/runCli.ts';
import { PROMPT } from '../boot/testAppliance.ts';
import { tempDir } from '../disk/diskFixtures.ts';
import { makeRepoAppliance } from './repoFixture.ts';
import { startRepoServer, type RepoServer } from './repoServer.ts';

let dir: string;
let cleanup: () => void;
let repoDir: string;
let version: RepositoryVersion;
let script: string;
const VHD = '/mini-1.vhd';

before(async () => {
  ({ dir, cleanup } = tempDir('remote-boot'));
  repoDir = join(dir, 'repo');
  mkdirSync(repoDir);
  await makeRepoAppliance(repoDir, 'mini', '1');
  await buildRepository(repoDir, { name: 'remote boot test' });
  version = parseRepositoryIndex(readFileSync(join(repoDir, 'repository.json'))).appliances[0]!.versions[0]!;
  script = writeScript(dir, 'version', [{ expect: PROMPT }, { send: 'cat /etc/appliance-version; echo END-OF-CHECK; poweroff -f\n' }, { expect: 'END-OF-CHECK\r\n' }]);
});
after(() => cleanup());

const dataHome = (name: string) => ({ XDG_DATA_HOME: join(dir, name) });

describe('a repository appliance booted lazily over HTTP Range', () => {
  let server: RepoServer;
  let lastGuestRange = '';
  before(async () => (server = await startRepoServer(repoDir)));
  after(() => server.close());

  it('reaches the prompt fetching well under the image, the second boot fetches nothing, and the third boots with the server gone', async (t) => {
    const env = dataHome('data-lazy');
    const first = await romvisor(['boot', '--repo', server.url, 'mini', '--script', script], { env });
    assert.equal(first.code, 0, first.stderr + first.stdout.slice(-2000));
    assert.match(first.stdout, /\r\n1\r\nEND-OF-CHECK/);
    const fetched = server.sent.get(VHD) ?? 0;
    const ratio = fetched / version.size;
    t.diagnostic(`lazy boot fetched ${fetched} of ${version.size} bytes of the VHD (${(ratio * 100).toFixed(1)}%; virtual disk ${version.virtualSize} bytes) in ${server.requests.filter((r) => r.path === VHD).length} requests`);
    assert.ok(fetched > 0 && ratio < 0.6, `fetched ${fetched} of ${version.size}`);
    assert.match(first.stderr, new RegExp(`mini@1 from ${server.url}mini-1\\.vhd: fetched ${fetched} of ${version.size} bytes \\(\\d+ range request\\(s\\)\\)`));
    assert.ok(server.requests.filter((r) => r.path === VHD).every((r) => /^bytes=\d+-\d+$/.test(r.range)), 'every request for the VHD is a range');
    lastGuestRange = server.requests.filter((r) => r.path === VHD).at(-1)!.range;

    server.reset();
    const second = await romvisor(['boot', '--repo', server.url.replace(/\/$/, ''), 'mini@1', '--script', script], { env });
    assert.equal(second.code, 0, second.stderr + second.stdout.slice(-2000));
    assert.equal(server.sent.get(VHD) ?? 0, 0, 'the second boot read every chunk from the local store');
    assert.deepEqual(server.requests.map((r) => r.path), ['/repository.json']);

    await server.close();
    const offline = await romvisor(['boot', '--repo', server.url, 'mini', '--script', script], { env });
    assert.equal(offline.code, 0, offline.stderr + offline.stdout.slice(-2000));
    assert.match(offline.stderr, /cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\); using the copy of its index kept from an earlier boot/);
  });

  it('stops with exit 2 naming a chunk that changed on the server and the sha256 the index expects', async () => {
    assert.ok(lastGuestRange, 'needs the first boot of the previous test');
    // The chunk of the last range the guest read: read after the kernel was loaded, so by the guest.
    const chunk = Math.floor(Number(/^bytes=(\d+)-/.exec(lastGuestRange)![1]) / version.chunkSize);
    const changedDir = join(dir, 'changed');
    cpSync(repoDir, changedDir, { recursive: true });
    const bytes = readFileSync(join(changedDir, 'mini-1.vhd'));
    bytes.fill(0x55, chunk * version.chunkSize + 100, chunk * version.chunkSize + 600);
    writeFileSync(join(changedDir, 'mini-1.vhd'), bytes);
    const changed = await startRepoServer(changedDir);
    try {
      const r = await romvisor(['boot', '--repo', changed.url, 'mini', '--script', script], { env: dataHome('data-changed') });
      assert.equal(r.code, 2, r.stderr + r.stdout.slice(-2000));
      assert.match(r.stderr, new RegExp(`romvisor boot: chunk ${chunk} \\(bytes ${chunk * version.chunkSize}-\\d+\\) of mini-1\\.vhd at ${changed.url}mini-1\\.vhd: sha256 is [0-9a-f]{64}, the repository index expects ${version.chunks[chunk]}`));
      assert.doesNotMatch(r.stdout, /END-OF-CHECK/);
    } finally {
      await changed.close();
    }
  });
});

describe('a repository appliance on a server that ignores Range', () => {
  it('boots after one verified full download', async () => {
    const server = await startRepoServer(repoDir, { ranges: false });
    try {
      const r = await romvisor(['boot', '--repo', `${server.url}repository.json`, 'mini', '--script', script], { env: dataHome('data-norange') });
      assert.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
      assert.match(r.stdout, /\r\n1\r\nEND-OF-CHECK/);
      assert.equal(server.requests.filter((q) => q.path === VHD).length, 1);
      assert.equal(server.sent.get(VHD), version.size);
      assert.match(r.stderr, /the server ignores Range: one full download/);
    } finally {
      await server.close();
    }
  });

  it('refuses an appliance or version the index does not have, naming what it has', async () => {
    const server = await startRepoServer(repoDir);
    try {
      const r = await romvisor(['boot', '--repo', server.url, 'mini@7', '--script', script], { env: dataHome('data-missing') });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /appliance "mini" has no version "7" \(it has 1\)/);
      const n = await romvisor(['boot', '--repo', server.url, 'maxi', '--script', script], { env: dataHome('data-missing') });
      assert.equal(n.code, 2);
      assert.match(n.stderr, /repository "remote boot test" has no appliance "maxi" \(it has mini\)/);
    } finally {
      await server.close();
    }
  });
});

describe('repo fetch', () => {
  it('makes an appliance available offline: every chunk fetched once, the next fetch and an offline boot need nothing', async () => {
    const server = await startRepoServer(repoDir);
    const env = dataHome('data-fetch');
    try {
      const first = await romvisor(['repo', 'fetch', server.url, 'mini@1'], { env });
      assert.equal(first.code, 0, first.stderr);
      assert.equal(server.sent.get(VHD), version.size);
      assert.match(first.stdout, new RegExp(`mini@1: available offline; fetched ${version.size} bytes`));
      server.reset();
      const again = await romvisor(['repo', 'fetch', server.url, 'mini'], { env });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(server.sent.get(VHD) ?? 0, 0);
      assert.match(again.stdout, new RegExp(`${version.chunks.length} of ${version.chunks.length} chunks were kept already`));
    } finally {
      await server.close();
    }
    const offline = await romvisor(['boot', '--repo', server.url, 'mini', '--script', script], { env });
    assert.equal(offline.code, 0, offline.stderr + offline.stdout.slice(-2000));
    assert.match(offline.stdout, /\r\n1\r\nEND-OF-CHECK/);
  });
});

describe('a scenario guest naming a repository appliance', () => {
  it('boots it as --repo does: { "repo": URL, "name", "version" }', async () => {
    const server = await startRepoServer(repoDir);
    try {
      const scenario = join(dir, 'repo-scenario.json');
      writeFileSync(scenario, JSON.stringify({
        version: 1,
        guests: [{
          appliance: { repo: server.url, name: 'mini', version: '1' },
          memoryMiB: 96,
          script: [{ expect: PROMPT }, { send: 'cat /etc/appliance-version; echo END-OF-CHECK; poweroff -f\n' }, { expect: 'END-OF-CHECK\r\n' }],
        }],
      }));
      const r = await romvisor(['boot', scenario], { env: dataHome('data-scenario') });
      assert.equal(r.code, 0, r.stderr + r.stdout.slice(-2000));
      assert.match(r.stdout, /\r\n1\r\nEND-OF-CHECK/);
      assert.ok((server.sent.get(VHD) ?? 0) > 0 && server.requests.filter((q) => q.path === VHD).every((q) => /^bytes=/.test(q.range)), 'read by range');
      // A version the repository does not have is named.
      writeFileSync(scenario, readFileSync(scenario, 'utf8').replace('"version":"1"', '"version":"7"'));
      const missing = await romvisor(['boot', scenario], { env: dataHome('data-scenario') });
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(missing.stderr, /mini.*7/);
    } finally {
      await server.close();
    }
  });
});
