// Repositories: repository.json's schema, `romvisor repo build` over a folder of appliance
// VHDs and `romvisor repo verify` of the folder and of the same folder over HTTP.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RepoError } from '../../src/repo/RepoError.ts';
import { parseRepositoryIndex, REPOSITORY_SCHEMA } from '../../src/repo/RepositoryIndex.ts';
import { indexUrl } from '../../src/repo/repositoryLocation.ts';
import { runCli as romvisor } from '../boot/runCli.ts';
import { tempDir } from '../disk/diskFixtures.ts';
import { makeRepoAppliance } from './repoFixture.ts';
import { startRepoServer } from './repoServer.ts';

const sha = (c: string) => c.repeat(64);
const validIndex = () => ({
  schema: REPOSITORY_SCHEMA,
  name: 'Example',
  appliances: [
    {
      name: 'mini',
      title: 'Mini',
      description: 'small',
      memoryMiB: 64,
      versions: [{ version: '1', url: 'mini-1.vhd', size: 300 * 1024, virtualSize: 2 ** 26, sha256: sha('a'), chunkSize: 131072, chunks: [sha('b'), sha('c'), sha('d')] }],
    },
  ],
});
const parse = (o: unknown) => parseRepositoryIndex(new TextEncoder().encode(JSON.stringify(o)), 'repository.json');
function refused(o: unknown, message: RegExp): void {
  assert.throws(() => parse(o), (e: unknown) => e instanceof RepoError && e.code === 'bad-index' && message.test(e.message), `expected ${message}`);
}

describe('repository.json', () => {
  it('reads a valid index, defaulting title and description', () => {
    const o = validIndex();
    delete (o.appliances[0] as { title?: string }).title;
    const index = parse(o);
    assert.equal(index.appliances[0]!.title, 'mini');
    assert.equal(index.appliances[0]!.versions[0]!.chunks.length, 3);
  });

  it('refuses each broken field by its path and value', () => {
    const edit = (f: (o: ReturnType<typeof validIndex>) => void) => {
      const o = validIndex();
      f(o);
      return o;
    };
    refused({ ...validIndex(), schema: 'other/1' }, /repository\.json: schema must be "romvisor-repository\/1", got "other\/1"/);
    refused(edit((o) => (o.appliances[0]!.versions[0]!.chunks[1] = 'XYZ')), /appliances\[0\]\.versions\[0\]\.chunks\[1\] must be 64 lowercase hex digits, got "XYZ"/);
    refused(edit((o) => o.appliances[0]!.versions[0]!.chunks.pop()), /appliances\[0\]\.versions\[0\]\.chunks must have 3 to 3 entries, got an array of 2/);
    refused(edit((o) => (o.appliances[0]!.versions[0]!.chunkSize = 100000)), /chunkSize must be a power of two, got 100000/);
    refused(edit((o) => (o.appliances[0]!.versions[0]!.chunkSize = 32768)), /chunkSize must be a whole number from 65536 to 262144, got 32768/);
    refused(edit((o) => (o.appliances[0]!.versions[0]!.url = 'javascript:alert(1)')), /versions\[0\]\.url must be relative to the index or an http\(s\) URL/);
    refused(edit((o) => o.appliances.push(o.appliances[0]!)), /appliances\[1\]\.name names an appliance listed before, got "mini"/);
    refused(edit((o) => (o.appliances[0]!.memoryMiB = 8)), /appliances\[0\]\.memoryMiB must be a whole number from 64 to 2048, got 8/);
    refused(edit((o) => (o.appliances[0]!.name = 'a b')), /appliances\[0\]\.name may only contain/);
    assert.throws(() => parseRepositoryIndex(new Uint8Array([0x7b, 0xff]), 'r.json'), /r\.json: not UTF-8 JSON/);
    assert.throws(() => parseRepositoryIndex(new TextEncoder().encode('{ "schema": '), 'r.json'), /r\.json: not UTF-8 JSON: /);
    assert.throws(() => parseRepositoryIndex(new TextEncoder().encode('\n<!doctype html><html>…'), 'r.json'), /r\.json: the server answered with an HTML page, not a repository index \(is this the folder that holds repository\.json\?\)/);
  });

  it('is found from the folder URL with or without a slash, or its own URL', () => {
    assert.equal(indexUrl('http://h/repo').href, 'http://h/repo/repository.json');
    assert.equal(indexUrl('http://h/repo/').href, 'http://h/repo/repository.json');
    assert.equal(indexUrl('https://h/x/index.json').href, 'https://h/x/index.json');
    assert.throws(() => indexUrl('ftp://h/'), /ftp: URLs are not repositories/);
    assert.throws(() => indexUrl('not a url'), /is not a URL/);
  });
});

describe('repo build and verify', () => {
  let dir: string;
  let cleanup: () => void;
  let repoDir: string;
  before(async () => {
    ({ dir, cleanup } = tempDir('repo'));
    repoDir = join(dir, 'repo');
    mkdirSync(repoDir);
    await makeRepoAppliance(repoDir, 'mini', '1');
    await makeRepoAppliance(repoDir, 'mini', '2');
  });
  after(() => cleanup());

  it('indexes the VHDs of a folder by their appliance.json, versions oldest first, and verifies them from the folder and over HTTP', async () => {
    const built = await romvisor(['repo', 'build', repoDir, '--name', 'Test repository', '--chunk-size', '64K']);
    assert.equal(built.code, 0, built.stderr);
    assert.match(built.stdout, /mini@1 +mini-1\.vhd/);
    const index = parseRepositoryIndex(readFileSync(join(repoDir, 'repository.json')));
    assert.equal(index.name, 'Test repository');
    assert.deepEqual(index.appliances.map((a) => [a.name, a.title, a.memoryMiB, a.versions.map((v) => v.version)]), [['mini', 'Test mini', 64, ['1', '2']]]);
    const v1 = index.appliances[0]!.versions[0]!;
    assert.equal(v1.chunkSize, 65536);
    assert.equal(v1.size, readFileSync(join(repoDir, 'mini-1.vhd')).length);
    assert.ok(v1.virtualSize > 64 * 2 ** 20);

    const local = await romvisor(['repo', 'verify', repoDir]);
    assert.equal(local.code, 0, local.stderr);
    assert.match(local.stdout, /2 file\(s\), \d+ chunks, .*: all match the index/);
    const server = await startRepoServer(repoDir);
    try {
      const remote = await romvisor(['repo', 'verify', server.url.replace(/\/$/, '')]);
      assert.equal(remote.code, 0, remote.stderr);
      assert.match(remote.stdout, /all match the index/);
    } finally {
      await server.close();
    }
  });

  it('names the chunk whose bytes changed, with both hashes, and a file of the wrong size', async () => {
    const file = join(repoDir, 'mini-2.vhd');
    const bytes = readFileSync(file);
    const index = parseRepositoryIndex(readFileSync(join(repoDir, 'repository.json')));
    const v2 = index.appliances[0]!.versions[1]!;
    // One byte in chunk 5.
    bytes[5 * v2.chunkSize + 77] ^= 0x40;
    writeFileSync(file, bytes);
    const r = await romvisor(['repo', 'verify', repoDir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`chunk 5 \\(bytes 327680-393215\\) of mini-2\\.vhd: sha256 is [0-9a-f]{64}, the index says ${v2.chunks[5]}`));
    assert.match(r.stderr, /mini-2\.vhd: sha256 is [0-9a-f]{64}, the index says/);
    assert.doesNotMatch(r.stderr, /mini-1\.vhd/);
    writeFileSync(file, bytes.subarray(0, bytes.length - 512));
    const short = await romvisor(['repo', 'verify', repoDir]);
    assert.equal(short.code, 2);
    assert.match(short.stderr, new RegExp(`mini-2\\.vhd: ${bytes.length - 512} bytes, the index says ${v2.size}`));
  });

  it('refuses a folder without VHDs, and a gzipped VHD', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const none = await romvisor(['repo', 'build', empty]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no \.vhd files to index/);
    writeFileSync(join(empty, 'x.vhd.gz'), 'x');
    const gz = await romvisor(['repo', 'build', empty]);
    assert.equal(gz.code, 2);
    assert.match(gz.stderr, /x\.vhd\.gz: a gzipped VHD cannot be read by range/);
  });
});
