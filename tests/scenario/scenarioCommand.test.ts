import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { scenarioCommand } from '../../src/cli/scenarioCommand.ts';
import { decodeScenarioUrl, parseScenarioJson, scenarioToJson } from '../../src/scenario/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'romvisor-scenario-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const example = new URL('../../src/scenario/examples/reset-to-shell.json', import.meta.url).pathname;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await scenarioCommand(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Bad input: exit 2 and exactly one line on stderr, nothing on stdout. */
async function refused(argv: string[], message: string | RegExp): Promise<void> {
  const r = await cli(...argv);
  const prefix = `romvisor scenario ${argv[0]}: `;
  assert.equal(r.code, 2, r.out);
  assert.equal(r.out, '');
  assert.ok(r.err.startsWith(prefix) && r.err.indexOf('\n') === r.err.length - 1, r.err);
  if (typeof message === 'string') assert.equal(r.err, `${prefix}${message}\n`);
  else assert.match(r.err.slice(prefix.length), message);
}

describe('romvisor scenario encode and decode', () => {
  it('turn a file into a link and the link back into the same JSON', async () => {
    const enc = await cli('encode', example, '--base', 'https://romvisor.example/play#old');
    assert.equal(enc.code, 0, enc.err);
    assert.match(enc.out, /^https:\/\/romvisor\.example\/play#s=[A-Za-z0-9_-]+\n$/);
    const dec = await cli('decode', enc.out.trim());
    assert.equal(dec.code, 0, dec.err);
    assert.equal(dec.out, scenarioToJson(parseScenarioJson(readFileSync(example, 'utf8'))));
    assert.deepEqual(decodeScenarioUrl(enc.out), JSON.parse(dec.out));
  });

  it('print just the fragment without --base', async () => {
    const r = await cli('encode', example);
    assert.match(r.out, /^#s=[A-Za-z0-9_-]+\n$/);
  });

  it('refuse bad files in one line naming the file', async () => {
    await refused(['encode', join(dir, 'missing.json')], `${join(dir, 'missing.json')}: ENOENT`);
    const notJson = file('not.json', '{ version: 1 }');
    await refused(['encode', notJson], new RegExp(`^${notJson} is not JSON: `));
    const bad = file('bad.json', '{"version":1,"guests":[{"appliance":{"builtin":"base"},"memoryMiB":3}],"colour":"red"}');
    await refused(['encode', bad], `${bad}: invalid scenario, 2 problems: colour: is not a field of a scenario (fields: version, title, notes, view, guests); guests[0].memoryMiB: 3 MiB is below the minimum of 64 MiB`);
    const future = file('v9.json', '{"version":9}');
    await refused(['encode', future], `${future}: scenario version 9 is not supported; this romvisor reads version 1`);
    const big = file('big.json', ' '.repeat(70_000));
    await refused(['encode', big], `${big} is 70000 bytes, the limit for a scenario is 65536`);
  });

  it('refuse bad links in one line', async () => {
    await refused(['decode', 'https://romvisor.example/'], 'the link carries no scenario ("#s=..."): it has no "#" fragment');
    await refused(['decode', '#s=ab$'], 'the scenario in the link is damaged: character 2 is "$", which is not base64url');
    await refused(['decode', '#s=____'], /compressed data is corrupt/);
  });

  it('refuse bad arguments in one line', async () => {
    const none = await cli();
    assert.equal(none.code, 2);
    assert.match(none.out, /^usage: romvisor scenario encode/);
    await refused(['unpack'], 'unknown scenario command "unpack"; try: encode, decode');
    await refused(['encode'], 'encode takes one FILE.json, got 0 arguments');
    await refused(['decode', 'a', 'b'], 'decode takes one URL, got 2 arguments');
    await refused(['encode', example, '--base', 'not a url'], '--base "not a url" is not an absolute URL');
    await refused(['decode', '#s=x', '--base', 'https://x/'], /^Unknown option '--base'/);
  });

  it('explain themselves with --help', async () => {
    const r = await cli('--help');
    assert.equal(r.code, 0);
    assert.match(r.out, /romvisor scenario encode FILE\.json \[--base URL\]/);
  });
});
