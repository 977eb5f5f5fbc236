// The 9P2000.L server as the guest's v9fs client meets it, over both backends (a host
// directory and memory), and the confinement of the host directory against a hostile client.
import assert from 'node:assert/strict';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { LINUX_ERRNO, MemoryShare, NinePServer, P9, QTDIR, QTSYMLINK, type ShareBackend } from './index.ts';
import { HostDirShare } from './node.ts';
import { NinePClient, O } from '../../tests/share/NinePClient.ts';

const E = LINUX_ERRNO;
const temps: string[] = [];
after(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'romvisor-9p-'));
  temps.push(d);
  return d;
}

async function session(backend: ShareBackend): Promise<{ c: NinePClient; server: NinePServer }> {
  const server = new NinePServer(backend);
  server.onUnexpectedError = (e) => assert.fail(`unexpected error: ${String(e)}`);
  const c = new NinePClient(server);
  await c.version();
  await c.attach(0);
  return { c, server };
}

/** A walk from the root that resolves only its first `n` names: it makes no fid (9P's partial walk). */
async function stopsAt(c: NinePClient, names: string[], n: number): Promise<void> {
  const q = await c.walk(0, 99, names);
  assert.ok(Array.isArray(q) && q.length === n, `walk ${names.join('/')}: ${JSON.stringify(q, (_, v) => (typeof v === 'bigint' ? Number(v) : v))}`);
  assert.equal(await c.fails(P9.TCLUNK, (w) => w.u32(99)), LINUX_ERRNO.EBADF);
}

const text = (s: string) => new TextEncoder().encode(s);
const backends: [string, () => Promise<ShareBackend>][] = [
  ['memory', async () => new MemoryShare()],
  ['a host directory', async () => HostDirShare.open(tempDir())],
];

for (const [label, make] of backends) {
  describe(`9P2000.L over ${label}`, () => {
    it('negotiates msize within bounds and refuses other versions and requests before Tversion', async () => {
      const server = new NinePServer(await make());
      const c = new NinePClient(server);
      assert.equal(await c.fails(P9.TATTACH, (w) => w.u32(0).u32(0xffff_ffff).str('').str('').u32(0)), E.EPROTO);
      assert.equal(await c.version(8 << 20), 1 << 20);
      assert.equal(await c.version(65536), 65536);
      const r = await c.ok(P9.TVERSION, (w) => w.u32(65536).str('9P2000'));
      r.u32('msize');
      assert.equal(r.str('version'), 'unknown');
    });

    it('creates, writes, reads back, lists and stats a file', async () => {
      const { c } = await session(await make());
      assert.ok(Array.isArray(await c.walk(0, 1, [])));
      await c.lcreate(1, 'hello.txt');
      assert.equal(await c.write(1, 0, text('hello, ')), 7);
      assert.equal(await c.write(1, 7, text('guest')), 5);
      await c.clunk(1);
      const q = await c.walk(0, 2, ['hello.txt']);
      assert.ok(Array.isArray(q) && q.length === 1 && q[0]!.type === 0);
      await c.lopen(2, O.RDONLY);
      assert.equal(new TextDecoder().decode(await c.read(2, 0, 100)), 'hello, guest');
      assert.equal(new TextDecoder().decode(await c.read(2, 7, 3)), 'gue');
      assert.equal((await c.read(2, 100, 10)).length, 0);
      const attr = await c.getattr(2);
      assert.equal(attr.size, 12n);
      assert.equal(attr.mode & 0o170000, 0o100000);
      await c.clunk(2);
      assert.deepEqual(await c.list(0, 3), ['.', '..', 'hello.txt']);
    });

    it('makes directories, renames and removes, and moves open fids along with a rename', async () => {
      const { c } = await session(await make());
      await c.ok(P9.TMKDIR, (w) => w.u32(0).str('a').u32(0o755).u32(0));
      await c.walk(0, 1, ['a']);
      await c.lcreate(1, 'f');
      await c.write(1, 0, text('x'));
      await c.ok(P9.TRENAMEAT, (w) => w.u32(0).str('a').u32(0).str('b'));
      // fid 1 was a/f, now b/f: getattr still finds it by path.
      await c.walk(0, 2, ['b', 'f']);
      await c.ok(P9.TSETATTR, (w) => w.u32(2).u32(0x8).u32(0).u32(0).u32(0).u64(0).u64(0).u64(0).u64(0).u64(0));
      assert.equal((await c.getattr(1)).size, 0n);
      assert.equal(typeof (await c.walk(0, 3, ['a'])), 'number');
      assert.equal(await c.fails(P9.TUNLINKAT, (w) => w.u32(0).str('b').u32(0x200)), E.ENOTEMPTY);
      await c.ok(P9.TRENAME, (w) => w.u32(2).u32(0).str('g'));
      await c.ok(P9.TUNLINKAT, (w) => w.u32(0).str('g').u32(0));
      await c.ok(P9.TUNLINKAT, (w) => w.u32(0).str('b').u32(0x200));
      assert.deepEqual(await c.list(0, 4), ['.', '..']);
      assert.equal(await c.fails(P9.TRENAMEAT, (w) => w.u32(0).str('nothing').u32(0).str('x')), E.ENOENT);
    });

    it('keeps symbolic links as leaves: readlink gives the text, walk and open do not pass through', async () => {
      const { c } = await session(await make());
      await c.ok(P9.TMKDIR, (w) => w.u32(0).str('d').u32(0o755).u32(0));
      await c.ok(P9.TSYMLINK, (w) => w.u32(0).str('up').str('/etc').u32(0));
      await c.ok(P9.TSYMLINK, (w) => w.u32(0).str('dl').str('d').u32(0));
      const q = await c.walk(0, 1, ['up']);
      assert.ok(Array.isArray(q) && q[0]!.type === QTSYMLINK);
      const r = await c.ok(P9.TREADLINK, (w) => w.u32(1));
      assert.equal(r.str('target'), '/etc');
      await stopsAt(c, ['up', 'passwd'], 1);
      // A partial walk answers the qids of the names that resolved and makes no fid.
      const partial = await c.walk(0, 2, ['dl', 'x']);
      assert.ok(Array.isArray(partial) && partial.length === 1);
      assert.equal(await c.fails(P9.TCLUNK, (w) => w.u32(2)), E.EBADF);
      assert.equal(await c.fails(P9.TLOPEN, (w) => w.u32(1).u32(O.RDONLY)), E.ELOOP);
      // Creating over a link fails; it does not write where the link points.
      await c.walk(0, 3, []);
      assert.notEqual(await c.fails(P9.TLCREATE, (w) => w.u32(3).str('up').u32(O.RDWR | O.CREAT).u32(0o644).u32(0)), 0);
    });

    it('keeps `..` at the root and refuses names with "/", NUL, "." or ".."', async () => {
      const { c } = await session(await make());
      const root = await c.getattr(0);
      const q = await c.walk(0, 1, ['..', '..', '..']);
      assert.ok(Array.isArray(q) && q.length === 3 && q.every((x) => x.path === root.qid.path && x.type === QTDIR));
      for (const bad of ['a/b', '/etc', 'x\0y', '.', '', '..']) {
        await c.walk(0, 2, []);
        assert.equal(await c.fails(P9.TLCREATE, (w) => w.u32(2).str(bad).u32(O.RDWR | O.CREAT).u32(0o644).u32(0)), E.EINVAL, JSON.stringify(bad));
        await c.clunk(2);
        assert.equal(await c.fails(P9.TMKDIR, (w) => w.u32(0).str(bad).u32(0o755).u32(0)), E.EINVAL);
      }
      for (const bad of ['a/b', '/', 'x\0', '.', '']) assert.equal(await c.walk(0, 3, [bad]), E.EINVAL, JSON.stringify(bad));
      assert.equal(await c.walk(0, 3, ['x'.repeat(256)]), E.ENAMETOOLONG);
    });

    it('refuses link, mknod and xattrs cleanly, and answers flush, lock, statfs and fsync', async () => {
      const { c } = await session(await make());
      await c.walk(0, 1, []);
      await c.lcreate(1, 'f');
      assert.equal(await c.fails(P9.TLINK, (w) => w.u32(0).u32(1).str('g')), E.EPERM);
      assert.equal(await c.fails(P9.TMKNOD, (w) => w.u32(0).str('n').u32(0o10644).u32(0).u32(0).u32(0)), E.EPERM);
      assert.equal(await c.fails(P9.TXATTRWALK, (w) => w.u32(1).u32(9).str('user.x')), E.EOPNOTSUPP);
      assert.equal(await c.fails(P9.TOPEN, (w) => w.u32(1).u8(0)), E.EOPNOTSUPP);
      await c.ok(P9.TFLUSH, (w) => w.u16(3));
      await c.ok(P9.TFSYNC, (w) => w.u32(1).u32(0));
      assert.equal((await c.ok(P9.TLOCK, (w) => w.u32(1).u8(1).u32(0).u64(0).u64(0).u32(1).str('guest'))).u8('status'), 0);
      const s = await c.ok(P9.TSTATFS, (w) => w.u32(0));
      assert.equal(s.u32('type'), 0x01021997);
      assert.ok(s.u32('bsize') > 0);
    });

    it('answers a malformed or truncated request with EPROTO and keeps serving', async () => {
      const { c } = await session(await make());
      const good = c.message(P9.TWALK, (w) => w.u32(0).u32(5).u16(1).str('nothing'));
      assert.equal((await c.raw(good.slice(0, 12).map((b, i) => (i === 0 ? 12 : b)))).errno, E.EPROTO);
      assert.equal((await c.raw(Uint8Array.of(3, 0, 0, 0, 110, 1, 0))).errno, E.EPROTO);
      assert.equal((await c.send(P9.TWRITE, (w) => w.u32(0).u64(0).u32(100).bytes(text('short')))).errno, E.EPROTO);
      assert.deepEqual(await c.list(0, 1), ['.', '..']);
    });

    it('bounds a read by the reply room and msize', async () => {
      const { c } = await session(await make());
      await c.walk(0, 1, []);
      await c.lcreate(1, 'big');
      await c.write(1, 0, new Uint8Array(100_000).fill(7));
      c.room = 1000;
      assert.equal((await c.read(1, 0, 100_000)).length, 1000 - 11);
      c.room = 1 << 20;
      assert.equal((await c.read(1, 0, 100_000)).length, 100_000);
    });
  });
}

describe('a host directory shared with a hostile guest', () => {
  function plant() {
    const top = tempDir();
    const share = join(top, 'share');
    const outside = join(top, 'outside');
    mkdirSync(share);
    mkdirSync(outside);
    mkdirSync(join(outside, 'dir'));
    writeFileSync(join(outside, 'secret'), 'outside secret');
    writeFileSync(join(outside, 'dir', 'inner'), 'outside inner');
    writeFileSync(join(share, 'mine'), 'inside');
    symlinkSync(join(outside, 'secret'), join(share, 'to-secret'));
    symlinkSync(outside, join(share, 'to-outside'));
    symlinkSync('../outside', join(share, 'relative-out'));
    symlinkSync(join(outside, 'new-file'), join(share, 'dangling'));
    const snapshot = () =>
      readdirSync(outside, { recursive: true })
        .map(String)
        .sort()
        .map((p) => {
          const st = lstatSync(join(outside, p));
          return `${p} ${st.mode} ${st.size} ${st.mtimeMs} ${st.isFile() ? readFileSync(join(outside, p), 'latin1') : ''}`;
        });
    return { share, outside, snapshot };
  }

  it('never reads, writes, creates, lists or changes anything outside through links', async () => {
    const { share, outside, snapshot } = plant();
    const before = snapshot();
    const { c } = await session(await HostDirShare.open(share));
    for (const link of ['to-secret', 'to-outside', 'relative-out', 'dangling']) {
      assert.ok(Array.isArray(await c.walk(0, 1, [link])));
      for (const flags of [O.RDONLY, O.RDWR, O.WRONLY | O.TRUNC]) assert.equal(await c.fails(P9.TLOPEN, (w) => w.u32(1).u32(flags)), E.ELOOP);
      // setattr on the link: neither truncates nor chmods the target.
      await c.send(P9.TSETATTR, (w) => w.u32(1).u32(0x9).u32(0o777).u32(0).u32(0).u64(0).u64(0).u64(0).u64(0).u64(0));
      await c.clunk(1);
      await stopsAt(c, [link, 'secret'], 1);
      await stopsAt(c, [link, 'dir', 'inner'], 1);
      for (const op of [P9.TMKDIR]) assert.notEqual(await c.fails(op, (w) => w.u32(0).str(link).u32(0o755).u32(0)), 0);
      await c.walk(0, 3, []);
      assert.notEqual(await c.fails(P9.TLCREATE, (w) => w.u32(3).str(link).u32(O.RDWR | O.CREAT).u32(0o644).u32(0)), 0);
      await c.clunk(3);
    }
    // `..` everywhere stays inside.
    await stopsAt(c, ['..', '..', 'outside'], 2);
    // A directory swapped for a link under an open fid: the old fid's path no longer passes.
    await c.ok(P9.TMKDIR, (w) => w.u32(0).str('d').u32(0o755).u32(0));
    await c.walk(0, 5, ['d']);
    rmSync(join(share, 'd'), { recursive: true });
    symlinkSync(outside, join(share, 'd'));
    assert.equal(await c.walk(5, 6, ['secret']), E.ENOTDIR);
    await c.walk(0, 7, []);
    assert.equal(await c.fails(P9.TLCREATE, (w) => w.u32(5).str('planted').u32(O.RDWR | O.CREAT).u32(0o644).u32(0)), E.ENOTDIR);
    assert.equal(await c.fails(P9.TMKDIR, (w) => w.u32(5).str('planted').u32(0o755).u32(0)), E.ENOTDIR);
    assert.equal(await c.fails(P9.TUNLINKAT, (w) => w.u32(5).str('secret').u32(0)), E.ENOTDIR);
    assert.equal(await c.fails(P9.TRENAMEAT, (w) => w.u32(5).str('secret').u32(0).str('stolen')), E.ENOTDIR);
    await c.lopen(5, O.RDONLY | O.DIRECTORY).then(
      () => assert.fail('opened a link as a directory'),
      () => undefined,
    );
    // Unlinking the links removes the links, not their targets; renaming moves the link.
    await c.ok(P9.TRENAMEAT, (w) => w.u32(0).str('to-secret').u32(0).str('moved'));
    assert.equal(readlinkSync(join(share, 'moved')), join(outside, 'secret'));
    await c.ok(P9.TUNLINKAT, (w) => w.u32(0).str('moved').u32(0));
    await c.ok(P9.TUNLINKAT, (w) => w.u32(0).str('to-outside').u32(0));
    assert.deepEqual(snapshot(), before);
    assert.equal(statSync(join(outside, 'secret')).isFile(), true);
  });

  it('shows a device node or fifo in the folder as a fifo and never opens it', async () => {
    const { share } = plant();
    const { c } = await session(await HostDirShare.open(share));
    // A fifo planted by the host (mkfifo needs no privilege).
    const { execFileSync } = await import('node:child_process');
    execFileSync('mkfifo', [join(share, 'pipe')]);
    await c.walk(0, 1, ['pipe']);
    assert.equal((await c.getattr(1)).mode & 0o170000, 0o010000);
    assert.equal(await c.fails(P9.TLOPEN, (w) => w.u32(1).u32(O.RDONLY)), E.EACCES);
  });

  it('refuses a share that is not a directory', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'f'), '');
    await assert.rejects(HostDirShare.open(join(d, 'f')), { code: 'ENOTDIR' });
    await assert.rejects(HostDirShare.open(join(d, 'missing')), { code: 'ENOENT' });
  });
});

describe('a 9P session in a machine state', () => {
  it('is saved with no file open, and a new server given it answers the same fids', async () => {
    const share = new MemoryShare();
    const { c, server } = await session(share);
    assert.ok(Array.isArray(await c.walk(0, 1, [])));
    await c.lcreate(1, 'kept.txt');
    await c.write(1, 0, text('kept'));
    // An open file's handle lives in the host: the session is not saved while one is open.
    assert.match((server.captureSession() as { unsavable: string }).unsavable, /1 file of the shared folder open/);
    await c.clunk(1);
    assert.ok(Array.isArray(await c.walk(0, 5, ['kept.txt'])));
    const saved = server.captureSession();
    assert.ok(!('unsavable' in saved));
    assert.deepEqual(saved.fids, [{ fid: 0, path: [] }, { fid: 5, path: ['kept.txt'] }]);

    const again = new NinePServer(share);
    again.restoreSession(JSON.parse(JSON.stringify(saved)));
    assert.equal(again.msize, server.msize);
    const c2 = new NinePClient(again);
    assert.equal((await c2.getattr(5)).size, 4n);
    await c2.lopen(5, O.RDONLY);
    assert.equal(new TextDecoder().decode(await c2.read(5, 0, 10)), 'kept');
  });

  it('refuses a session with a bad name, a duplicate fid or a server in use, and changes nothing', () => {
    const fresh = () => new NinePServer(new MemoryShare());
    const ok = { msize: 8192, versioned: true, fids: [{ fid: 0, path: [] }] };
    for (const bad of [
      { ...ok, fids: [{ fid: 0, path: ['..'] }] },
      { ...ok, fids: [{ fid: 0, path: [] }, { fid: 0, path: ['a'] }] },
      { ...ok, fids: [{ fid: 0xffff_ffff, path: [] }] },
      { ...ok, msize: 100 },
    ]) {
      const s = fresh();
      assert.throws(() => s.restoreSession(bad), { name: 'ShareError' });
      assert.equal(s.fidCount, 0);
    }
    const used = fresh();
    used.restoreSession(ok);
    assert.throws(() => used.restoreSession(ok), /only into a server that has none/);
  });
});
