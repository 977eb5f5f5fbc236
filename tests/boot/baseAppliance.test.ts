// The shipped base appliance (appliances/base.vhd.gz), booted by name: a note written in
// one session is there in the next, through the overlay, and the image is not touched.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { sha256, tempDir } from '../disk/diskFixtures.ts';
import { runCli as romvisor, writeScript } from './runCli.ts';

const BASE = fileURLToPath(new URL('../../appliances/base.vhd.gz', import.meta.url));
const PROMPT = '~ # ';

let dir: string;
let cleanup: () => void;
before(() => {
  ({ dir, cleanup } = tempDir('base-appliance'));
});
after(() => cleanup());

describe('romvisor boot base', () => {
  it('keeps a note across boots in the overlay and leaves the image alone', async () => {
    const env = { XDG_DATA_HOME: join(dir, 'data') };
    const overlay = join(dir, 'base-session.vhd');
    const before = sha256(readFileSync(BASE));
    // `poweroff` goes through busybox init and rcK, which leaves the root file system clean.
    const write = writeScript(dir, 'write', [{ expect: PROMPT }, { send: 'echo hello from the overlay > /root/note.txt; sync; poweroff\n' }, { expect: 'reboot: Power down' }]);
    const a = await romvisor(['boot', 'base', '--overlay', overlay, '--time', 'deterministic', '--script', write], { env });
    assert.equal(a.code, 0, a.stderr + a.stdout.slice(-1000));
    assert.match(a.stdout, /root file system is read-only and clean/);

    const read = writeScript(dir, 'read', [{ expect: PROMPT }, { send: 'cat /root/note.txt; poweroff\n' }, { expect: 'reboot: Power down' }]);
    const b = await romvisor(['boot', 'base', '--overlay', overlay, '--time', 'deterministic', '--script', read], { env });
    assert.equal(b.code, 0, b.stderr + b.stdout.slice(-1000));
    assert.ok(/^hello from the overlay\r?$/m.test(b.stdout), b.stdout.slice(-1000));
    assert.equal(sha256(readFileSync(BASE)), before);
  });
});
