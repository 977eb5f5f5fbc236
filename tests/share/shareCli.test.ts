// `romvisor boot --share DIR` refuses a folder it cannot share before anything boots.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli } from '../boot/runCli.ts';

const dir = mkdtempSync(join(tmpdir(), 'romvisor-share-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('romvisor boot --share', () => {
  it('refuses a missing folder or a file with exit 2 and one line naming it', async () => {
    const missing = await runCli(['boot', '--share', join(dir, 'missing')]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /^romvisor boot: --share .*missing: ENOENT/);
    writeFileSync(join(dir, 'file'), '');
    const file = await runCli(['boot', '--share', join(dir, 'file')]);
    assert.equal(file.code, 2, file.stderr);
    assert.match(file.stderr, /--share .*file: not a directory/);
  });
});
