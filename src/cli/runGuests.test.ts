// The pieces of a multi-guest run that need no guest: [name] prefixes on whole lines, and
// one console log per guest.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConsoleLogs, ConsolePrefixer } from './runGuests.ts';

describe('ConsolePrefixer', () => {
  it('puts the prefix before every whole line and holds a partial one until it ends or the run does', () => {
    const chunks: string[] = [];
    const p = new ConsolePrefixer('[web] ', (s) => chunks.push(s));
    const out = () => chunks.join('');
    p.write('one\r\ntw');
    assert.equal(out(), '[web] one\r\n');
    p.write('o\n\nthree');
    assert.equal(out(), '[web] one\r\n[web] two\n[web] \n');
    p.flush();
    assert.equal(out(), '[web] one\r\n[web] two\n[web] \n[web] three\n');
    p.flush();
    assert.equal(chunks.length, 3, 'nothing more to flush');
  });
});

describe('ConsoleLogs', () => {
  it('writes each guest\'s bytes to DIR/NAME.log, creating DIR, byte for byte', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'romvisor-logs-')), 'new', 'dir');
    const logs = new ConsoleLogs(dir);
    const web = logs.open('web');
    const client = logs.open('client');
    web('caf\xe9\r\n');
    client('x');
    web('# ');
    logs.close();
    assert.deepEqual([...readFileSync(join(dir, 'web.log'))], [...Buffer.from('caf\xe9\r\n# ', 'latin1')]);
    assert.equal(readFileSync(join(dir, 'client.log'), 'latin1'), 'x');
  });
});
