// A scenario guest that names a bare kernel instead of an appliance: `romvisor boot
// SCENARIO.json` downloads the kernel and its drive from the URLs (here a server on this
// machine), checks their sha256, boots the kernel as -bios none with the drive on a
// snapshot, and plays the guest's console script. A wrong sha256 is refused before boot.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../disk/diskFixtures.ts';
import { runCli } from './runCli.ts';
import { buildTeachKernel } from './teachKernelElf.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let dir: string;
let cleanup: () => void;
let server: Server;
let base: string;
const files = new Map<string, Uint8Array>();
let served = 0;

before(async () => {
  const kernel = buildTeachKernel();
  ({ dir, cleanup } = tempDir('scenario-kernel'));
  files.set('/kernel.elf', new Uint8Array(readFileSync(kernel)));
  const disk = new Uint8Array(64 * 1024);
  disk.set(new TextEncoder().encode('A DISK FROM A SCENARIO\n'));
  files.set('/fs.img', disk);
  server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    served++;
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => {
  server.close();
  cleanup();
});

function writeScenario(name: string, guest: Record<string, unknown>): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ version: 1, title: 'teaching kernel', guests: [guest] }));
  return path;
}

describe('romvisor boot SCENARIO.json with a kernel guest', () => {
  it('downloads, checks and boots the kernel with its drive, and plays the script', async () => {
    const path = writeScenario('ok', {
      kernel: { url: `${base}/kernel.elf`, sha256: sha256(files.get('/kernel.elf')!) },
      bios: 'none',
      drives: [{ url: `${base}/fs.img`, sha256: sha256(files.get('/fs.img')!), format: 'raw' }],
      time: 'deterministic',
      script: [{ expect: 'counter: 1000 (as expected)' }, { expect: 'disk: sector 0 says: A DISK FROM A SCENARIO' }, { expect: 'teaching kernel done' }],
    });
    const r = await runCli(['boot', path], { timeoutMs: 120_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /disk: virtio-blk at 0x10001000, IRQ 1\n/);
    assert.match(r.stdout, /disk: boot count 1 written\n/);
  });

  it('refuses a kernel whose bytes do not hash to the scenario\'s sha256 (exit 2), before booting', async () => {
    const path = writeScenario('bad', { kernel: { url: `${base}/kernel.elf`, sha256: 'ab'.repeat(32) } });
    const r = await runCli(['boot', path], { timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /guest 1 of 1: kernel http:\/\/127\.0\.0\.1:\d+\/kernel\.elf: sha256 is [0-9a-f]{64}, the scenario says abab/);
    assert.doesNotMatch(r.stdout, /teaching kernel/);
  });

  it('names a drive it cannot fetch (exit 2)', async () => {
    const before = served;
    const path = writeScenario('missing', {
      kernel: { url: `${base}/kernel.elf`, sha256: sha256(files.get('/kernel.elf')!) },
      drives: [{ url: `${base}/nothing.img`, sha256: 'cd'.repeat(32) }],
    });
    const r = await runCli(['boot', path], { timeoutMs: 60_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /drive 1 http:\/\/127\.0\.0\.1:\d+\/nothing\.img: HTTP 404/);
    assert.equal(served, before + 2);
  });
});
