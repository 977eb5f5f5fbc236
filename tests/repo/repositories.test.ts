// The page's list of repositories (hypervisor/Repositories): adds that overlap while their
// indexes are read. A user who clicks Add twice, or adds two repositories in quick
// succession, gets each listed once, in localStorage too, and the second click on the same
// URL is refused by name rather than listed twice.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Repositories } from '../../src/hypervisor/Repositories.ts';
import { REPOSITORY_SCHEMA } from '../../src/repo/RepositoryIndex.ts';
import { tempDir } from '../disk/diskFixtures.ts';
import { startRepoServer, type RepoServer } from './repoServer.ts';

const sha = (c: string) => c.repeat(64);
const index = (name: string) => ({
  schema: REPOSITORY_SCHEMA,
  name,
  appliances: [{ name: 'mini', memoryMiB: 64, versions: [{ version: '1', url: 'mini-1.vhd', size: 300 * 1024, virtualSize: 2 ** 26, sha256: sha('a'), chunkSize: 131072, chunks: [sha('b'), sha('c'), sha('d')] }] }],
});

/** A localStorage stand-in that keeps what was saved. */
function memoryStorage(): Pick<Storage, 'getItem' | 'setItem'> & { saved: Map<string, string> } {
  const saved = new Map<string, string>();
  return { saved, getItem: (k) => saved.get(k) ?? null, setItem: (k, v) => void saved.set(k, v) };
}

describe('the page\'s repository list', () => {
  const tmp = tempDir('repolist');
  let server: RepoServer;

  before(async () => {
    for (const name of ['one', 'two']) {
      mkdirSync(join(tmp.dir, name));
      writeFileSync(join(tmp.dir, name, 'repository.json'), JSON.stringify(index(name)));
    }
    server = await startRepoServer(tmp.dir);
  });
  after(async () => {
    await server.close();
    tmp.cleanup();
  });

  it('lists a URL added twice at once once, and refuses the second add by name', async () => {
    const storage = memoryStorage();
    const repos = new Repositories(storage);
    const [a, b] = await Promise.allSettled([repos.add(`${server.url}one/`), repos.add(`${server.url}one`)]);
    assert.equal(a.status, 'fulfilled');
    assert.equal(b.status, 'rejected');
    assert.match((b as PromiseRejectedResult).reason.message, /repository http:\/\/127\.0\.0\.1:\d+\/one\/repository\.json is being added already/);
    assert.deepEqual(repos.list().map((e) => e.index?.name), ['one']);
    assert.deepEqual(JSON.parse(storage.saved.get('romvisor.repositories')!), [`${server.url}one/repository.json`]);
    // Once it has landed, the same URL is in the catalog already.
    await assert.rejects(repos.add(`${server.url}one/repository.json`), /is in the catalog already/);
  });

  it('keeps both of two repositories added at once, across a reload', async () => {
    const storage = memoryStorage();
    const repos = new Repositories(storage);
    await Promise.all([repos.add(`${server.url}one`), repos.add(`${server.url}two`)]);
    assert.deepEqual(repos.list().map((e) => e.index?.name).sort(), ['one', 'two']);
    const reloaded = new Repositories(storage);
    await reloaded.refresh();
    assert.deepEqual(reloaded.list().map((e) => e.index?.name).sort(), ['one', 'two']);
    assert.equal(reloaded.appliances().length, 2);
  });

  it('lets a URL whose index failed be added again once the server has it', async () => {
    const repos = new Repositories(memoryStorage());
    await assert.rejects(repos.add(`${server.url}three`));
    mkdirSync(join(tmp.dir, 'three'));
    writeFileSync(join(tmp.dir, 'three', 'repository.json'), JSON.stringify(index('three')));
    await repos.add(`${server.url}three`);
    assert.deepEqual(repos.list().map((e) => e.index?.name), ['three']);
  });
});
