// DiskLock across processes: one writer or many readers per disk file, stale locks of
// dead processes taken over, locks released on exit and on SIGTERM.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { DiskLock, DiskLockError } from '../../src/disk/node.ts';
import { tempDir } from './diskFixtures.ts';
import { holdDiskLock, type LockHolder } from './diskLockHolder.ts';

let dir: string;
let cleanup: () => void;
const holders: LockHolder[] = [];
before(() => ({ dir, cleanup } = tempDir('disk-lock')));
afterEach(async () => {
  DiskLock.releaseAll();
  for (const h of holders.splice(0)) await h.stop('SIGKILL');
});
after(() => cleanup());

async function holder(path: string, mode: 'read' | 'write'): Promise<LockHolder> {
  const h = await holdDiskLock(path, mode);
  holders.push(h);
  return h;
}

/** A PID that is certainly not running: a process that has exited and been reaped. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  assert.equal(r.status, 0);
  return r.pid!;
}

function inUseBy(pid: number, path: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof DiskLockError, String(e));
    assert.equal(e.code, 'in-use');
    assert.equal(e.pid, pid);
    assert.equal(e.message, `${path} is in use by process ${pid}`);
    return true;
  };
}

describe('DiskLock', () => {
  it('refuses a second writer, and readers, naming the holder; the lock goes when it exits', async () => {
    const disk = join(dir, 'w.vhd');
    const h = await holder(disk, 'write');
    const child = h.child;
    assert.deepEqual(readdirSync(`${disk}.lock`), [`write-${child.pid}-1`]);
    await assert.rejects(DiskLock.acquire(disk, 'write'), inUseBy(child.pid!, disk));
    await assert.rejects(DiskLock.acquire(disk, 'read'), inUseBy(child.pid!, disk));
    const other = await holder(disk, 'write');
    assert.equal(other.said, `refused ${child.pid}`);
    await h.stop();
    assert.ok(!existsSync(`${disk}.lock`), 'the holder removed its lock on exit');
    const lock = await DiskLock.acquire(disk, 'write');
    lock.release();
    assert.ok(!existsSync(`${disk}.lock`));
  });

  it('lets several readers share a file and keeps writers out while any of them reads', async () => {
    const disk = join(dir, 'r.vhd');
    const a = await holder(disk, 'read');
    const b = await holder(disk, 'read');
    assert.equal(a.said, 'locked');
    assert.equal(b.said, 'locked');
    const mine = await DiskLock.acquire(disk, 'read');
    assert.equal(readdirSync(`${disk}.lock`).length, 3);
    await assert.rejects(DiskLock.acquire(disk, 'write'), (e) => e instanceof DiskLockError && e.code === 'in-use');
    mine.release();
    await a.stop();
    await assert.rejects(DiskLock.acquire(disk, 'write'), inUseBy(b.child.pid!, disk));
    await b.stop();
    (await DiskLock.acquire(disk, 'write')).release();
  });

  it('takes over the lock of a process that is no longer running', async () => {
    const disk = join(dir, 'stale.vhd');
    const dead = deadPid();
    mkdirSync(`${disk}.lock`);
    writeFileSync(join(`${disk}.lock`, `write-${dead}-1`), `${dead}\n`);
    writeFileSync(join(`${disk}.lock`, `read-${dead}-2`), `${dead}\n`);
    const lock = await DiskLock.acquire(disk, 'write');
    const left = readdirSync(`${disk}.lock`);
    assert.equal(left.length, 1, `only our entry is left: ${left}`);
    assert.match(left[0]!, new RegExp(`^write-${process.pid}-\\d+$`));
    lock.release();
    assert.ok(!existsSync(`${disk}.lock`));

    // A plain lock file holding a PID (written by hand or another tool) counts too.
    writeFileSync(`${disk}.lock`, `${dead}\n`);
    (await DiskLock.acquire(disk, 'write')).release();
    const { child } = await holder(join(dir, 'unrelated.vhd'), 'read');
    writeFileSync(`${disk}.lock`, `${child.pid}\n`);
    await assert.rejects(DiskLock.acquire(disk, 'write'), inUseBy(child.pid!, disk));
  });

  it('takes over the lock of a killed process that its parent has not reaped yet (a zombie)', async () => {
    if (process.platform !== 'linux') return;
    // sh forks a child that exits a moment later, after sh has become sleep, which never
    // reaps it. (A child that exited at once could be reaped by sh before its exec.)
    const parent = spawn('sh', ['-c', 'sleep 0.3 & echo $!; exec sleep 30']);
    try {
      const zombie = await new Promise<number>((resolve) => parent.stdout.setEncoding('utf8').once('data', (d: string) => resolve(Number(d.trim()))));
      const until = Date.now() + 5000;
      while (!/\) Z /.test(readFileSync(`/proc/${zombie}/stat`, 'latin1')) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
      const disk = join(dir, 'zombie.vhd');
      mkdirSync(`${disk}.lock`);
      writeFileSync(join(`${disk}.lock`, `write-${zombie}-1`), `${zombie}\n`);
      (await DiskLock.acquire(disk, 'write')).release();
      assert.ok(!existsSync(`${disk}.lock`));
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('is not left behind by SIGTERM, and a SIGKILLed holder does not block the next one', async () => {
    const disk = join(dir, 'sig.vhd');
    const term = await holder(disk, 'write');
    await term.stop('SIGTERM');
    assert.equal(term.child.signalCode, 'SIGTERM', 'the signal still ends the process the default way');
    assert.ok(!existsSync(`${disk}.lock`), 'SIGTERM released the lock');

    const killed = await holder(disk, 'write');
    await killed.stop('SIGKILL');
    assert.deepEqual(readdirSync(`${disk}.lock`), [`write-${killed.child.pid}-1`], 'SIGKILL leaves the entry');
    (await DiskLock.acquire(disk, 'write')).release();
    assert.ok(!existsSync(`${disk}.lock`));
  });

  it('gives a writer a temporary file beside the disk, removing those of killed writers', async () => {
    const disk = join(dir, 'temp.vhd');
    const dead = deadPid();
    const { child } = await holder(join(dir, 'other.vhd'), 'read');
    writeFileSync(`${disk}.${dead}.tmp`, 'half an image');
    writeFileSync(`${disk}.${child.pid}.tmp`, 'not ours to judge');
    const lock = await DiskLock.acquire(disk, 'write');
    assert.equal(lock.temporaryPath(), `${disk}.${process.pid}.tmp`);
    assert.ok(!existsSync(`${disk}.${dead}.tmp`), "a dead writer's temporary file is removed");
    assert.ok(existsSync(`${disk}.${child.pid}.tmp`), "a live process's is left alone");
    lock.release();
    assert.throws(() => lock.temporaryPath(), /needs a held write lock/);
  });

  it('locks the file a symlink names, not the link', async () => {
    const disk = join(dir, 'real.vhd');
    writeFileSync(disk, '');
    const link = join(dir, 'link.vhd');
    symlinkSync('real.vhd', link);
    const { child } = await holder(disk, 'write');
    await assert.rejects(DiskLock.acquire(link, 'read'), inUseBy(child.pid!, link));
    // A link to a file that does not exist yet locks the file it would create.
    const dangling = join(dir, 'dangling.vhd');
    symlinkSync('later.vhd', dangling);
    const lock = await DiskLock.acquire(dangling, 'write');
    assert.ok(existsSync(join(dir, 'later.vhd.lock')));
    lock.release();
  });
});
