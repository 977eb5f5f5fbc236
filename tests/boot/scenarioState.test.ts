// A scenario guest that resumes a saved machine instead of booting: `romvisor boot
// --save-state F --self-contained` puts the frozen overlay into the state and names its base
// (the built-in base appliance) by sha256; a scenario names that file by URL and sha256, and
// `romvisor boot SCENARIO.json` downloads it, finds the base, and goes on where it was
// saved: its console is exactly what the uninterrupted run printed from there, with no boot.
// A wrong sha256, a state that references its disk by path, one over a base this host does
// not have, and one for another build of the core are refused with one line (exit 2).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../disk/diskFixtures.ts';
import { runCli } from './runCli.ts';
import { decodeMachineState, encodeMachineState } from '../../src/state/MachineStateFile.ts';
import { NODE_CODEC } from '../../src/state/stateFiles.node.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const BASE = fileURLToPath(new URL('../../appliances/base.vhd.gz', import.meta.url));
const PROMPT = '~ # ';

let dir: string;
let cleanup: () => void;
let server: Server;
let url: string;
const files = new Map<string, Uint8Array>();

before(async () => {
  ({ dir, cleanup } = tempDir('scenario-state'));
  server = createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
after(() => {
  server.close();
  cleanup();
});

function json(name: string, value: unknown): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(value));
  return path;
}

/** A scenario of one state guest whose state is served as `/name`. */
function scenario(name: string, bytes: Uint8Array, script: unknown[], sha = sha256(bytes)): string {
  files.set(`/${name}`, bytes);
  return json(name, { version: 1, title: 'resumed', guests: [{ state: { url: `${url}/${name}`, sha256: sha }, script }] });
}

const before1 = [
  { expect: PROMPT, timeout: 300 },
  { send: 'echo written-before > /root/f; sync; cat /root/f\n' },
  { expect: 'written-before' },
  { expect: PROMPT },
];
const after1 = [
  { send: 'echo written-after >> /root/f; cat /root/f; pagefault-demo; cat /proc/interrupts; grep now /proc/timer_list; poweroff\n' },
  { expect: 'reboot: Power down', timeout: 300 },
];

describe('a scenario guest from a saved state', () => {
  let state: Uint8Array;
  let saved: string;
  let whole: string;

  before(async () => {
    const det = ['--time', 'deterministic'];
    const w = await runCli(['boot', BASE, '--snapshot', ...det, '--script', json('whole', [...before1, ...after1])]);
    assert.equal(w.code, 0, w.stderr);
    whole = w.stdout;
    const path = join(dir, 'prompt.state');
    const s = await runCli(['boot', BASE, ...det, '--script', json('before', before1), '--save-state', path, '--self-contained']);
    assert.equal(s.code, 0, s.stderr);
    saved = s.stdout;
    state = new Uint8Array(readFileSync(path));
    // Self-contained: the overlay beside it is not needed.
    rmSync(`${path}.vhd`);
  });

  it('opens where it was saved, without a boot, and goes on as the uninterrupted run', async () => {
    const { meta } = await decodeMachineState(state, NODE_CODEC);
    const [top, base] = meta.disks[0]!.chain;
    assert.equal(top!.embedded, true);
    assert.ok(!base!.embedded, 'the base is named, not embedded');
    const r = await runCli(['boot', scenario('good', state, after1)]);
    assert.equal(r.code, 0, r.stderr + r.stdout.slice(-1500));
    assert.doesNotMatch(r.stdout, /OpenSBI|Linux version|Run \/sbin\/init/, 'a state guest does not boot');
    assert.match(r.stdout, /^written-before\r?\nwritten-after\r?$/m);
    assert.equal(saved + r.stdout, whole);
  });

  it('refuses a state whose bytes are not the sha256 the scenario gives', async () => {
    const r = await runCli(['boot', scenario('wrong-sha', state, after1, '0'.repeat(64))]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /guests\[0\]\.state .*sha256 is [0-9a-f]{64}, the scenario says 0{64}/);
    assert.equal(r.stdout, '');
  });

  it('refuses a state that references its disk by path', async () => {
    const path = join(dir, 'by-path.state');
    const s = await runCli(['boot', BASE, '--time', 'deterministic', '--script', json('early', [{ expect: PROMPT, timeout: 300 }]), '--save-state', path]);
    assert.equal(s.code, 0, s.stderr);
    const r = await runCli(['boot', scenario('by-path', new Uint8Array(readFileSync(path)), after1)]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /guests\[0\]\.state: the state references its disk by path .*--self-contained/);
  });

  it('refuses a state over a base this host does not have, and one for another core', async () => {
    const { meta, state: s, embedded } = await decodeMachineState(state, NODE_CODEC);
    const chain = meta.disks[0]!.chain;
    const otherBase = await encodeMachineState(s, { disks: [{ chain: [chain[0]!, { ...chain[1]!, sha256: 'ab'.repeat(32), path: '/nowhere/base.vhd' }] }], files: embedded }, NODE_CODEC);
    const r = await runCli(['boot', scenario('other-base', otherBase, after1)]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /guests\[0\]\.state: its base disk \(sha256 (ab){32}, saved over \/nowhere\/base\.vhd\) is none of the built-in appliances \(base, .*\) and not at that path/);

    // One more scalar than this core has: a state from another build.
    const forged = { ...s, core: { ...s.core, scalars: BigUint64Array.from([...s.core.scalars, 0n]) } };
    const otherCore = await encodeMachineState(forged, { disks: meta.disks, files: embedded }, NODE_CODEC);
    const c = await runCli(['boot', scenario('other-core', otherCore, after1)]);
    assert.equal(c.code, 2, c.stderr);
    assert.match(c.stderr, /guests\[0\]\.state: the state is for another build of the core/);
    assert.equal(c.stdout, '');
  });

  it('restores a self-contained state with --restore and into --overlay', async () => {
    const path = join(dir, 'again.state');
    writeFileSync(path, state);
    const overlay = join(dir, 'again.vhd');
    const r = await runCli(['boot', '--restore', path, '--overlay', overlay, '--script', json('after', after1)]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.equal(saved + r.stdout, whole);
    assert.ok(existsSync(overlay), 'the overlay asked for is kept');
  });
});
