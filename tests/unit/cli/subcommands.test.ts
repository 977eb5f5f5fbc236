// The shape every `romvisor GROUP SUB` command shares (src/cli/subcommands.ts): usage for
// help and for nothing, an unknown subcommand named beside the known ones (Object's own
// names included), bad input in one stderr line with exit 2, a bug thrown on.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CodedError } from '../../../src/errors/CodedError.ts';
import { EXIT } from '../../../src/cli/CliIo.ts';
import { runSubcommand, UsageError } from '../../../src/cli/subcommands.ts';

async function run(argv: string[], options = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io = { stdout: (s: string) => void (out += s), stderr: (s: string) => void (err += s) };
  const code = await runSubcommand('thing', argv, io, 'usage: romvisor thing make|break', {
    make: (args) => (io.stdout(`made ${args.join(' ')}\n`), EXIT.ok),
    break: async () => {
      throw new CodedError('bad-image', 'thing.vhd: the footer is damaged\nchecksum 0x1 vs 0x2');
    },
    crash: () => {
      throw new TypeError('a bug');
    },
    missing: () => {
      throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', syscall: 'open' });
    },
  }, options);
  return { code, out, err };
}

describe('romvisor command groups', () => {
  it('run the subcommand named with the arguments after it', async () => {
    assert.deepEqual(await run(['make', 'a', '--b']), { code: 0, out: 'made a --b\n', err: '' });
  });

  it('print the usage for help (exit 0) and for no subcommand (exit 2)', async () => {
    for (const h of ['help', '--help', '-h']) assert.deepEqual(await run([h]), { code: 0, out: 'usage: romvisor thing make|break\n', err: '' });
    assert.deepEqual(await run([]), { code: 2, out: 'usage: romvisor thing make|break\n', err: '' });
  });

  it('name an unknown subcommand and the ones there are, Object\'s own names too', async () => {
    for (const sub of ['unmake', 'constructor', '__proto__', 'toString']) {
      const r = await run([sub]);
      assert.equal(r.code, 2);
      assert.equal(r.err, `romvisor thing ${sub}: unknown thing command ${JSON.stringify(sub)}; try: make, break, crash, missing\n`);
    }
    assert.ok(new UsageError('x') instanceof CodedError);
  });

  it('turn bad input into stderr and exit 2, first line only where asked, and throw a bug on', async () => {
    assert.deepEqual(await run(['break']), { code: 2, out: '', err: 'romvisor thing break: thing.vhd: the footer is damaged\nchecksum 0x1 vs 0x2\n' });
    assert.equal((await run(['break'], { firstLineOnly: true })).err, 'romvisor thing break: thing.vhd: the footer is damaged\n');
    await assert.rejects(run(['crash']), TypeError);
    await assert.rejects(run(['missing']), /ENOENT/);
    const isBadInput = (e: unknown): e is Error => e instanceof Error && (e as NodeJS.ErrnoException).syscall !== undefined;
    assert.deepEqual(await run(['missing'], { isBadInput }), { code: 2, out: '', err: 'romvisor thing missing: ENOENT: no such file\n' });
  });
});
