// `romvisor run-elf` as a user meets it: its exit codes and its one-line refusals.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { runCli } from '../boot/runCli.ts';

const elf = (name: string) => fileURLToPath(new URL(`../../build/isa/${name}.elf`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'romvisor-elf-'));

describe('romvisor run-elf', () => {
  it('exits 0 when the program passes and 3 with the pc when the budget runs out', async () => {
    assert.equal((await runCli(['run-elf', elf('rv64i_alu')])).code, 0);
    const r = await runCli(['run-elf', elf('rv64i_alu'), '--max-insns', '50']);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^romvisor run-elf: budget of 50 instructions spent at pc 0x8000[0-9a-f]{4} \(M-mode\)\n$/);
  });

  it('exits 1 and names the test when tohost reports a failure', async () => {
    // Patch the passing program's "li t0, 1" before its tohost write into "li t0, 7":
    // (3 << 1) | 1, test 3 failed.
    const bytes = readFileSync(elf('rv64i_alu'));
    const li1 = Buffer.from([0x85, 0x42]); // c.li t0, 1
    const at = bytes.indexOf(Buffer.concat([li1, Buffer.from([0x17, 0x13])]));
    assert.ok(at > 0, 'found the pass path');
    bytes[at] = 0x9d; // c.li t0, 7
    const patched = join(dir, 'fails.elf');
    writeFileSync(patched, bytes);
    const r = await runCli(['run-elf', patched]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /FAIL: test 3/);
  });

  it('refuses what is not a RISC-V ELF64 executable with one line and exit 2', async () => {
    const notElf = join(dir, 'notes.txt');
    writeFileSync(notElf, 'hello\n');
    const truncated = join(dir, 'truncated.elf');
    writeFileSync(truncated, readFileSync(elf('rv64i_alu')).subarray(0, 100));
    const host = join(dir, 'host.elf');
    copyFileSync(process.execPath, host);
    const outside = join(dir, 'outside.elf');
    const b = readFileSync(elf('rv64i_alu'));
    // The first PT_LOAD header's p_paddr, moved far below RAM.
    const phoff = Number(b.readBigUInt64LE(32));
    let ph = phoff;
    while (b.readUInt32LE(ph) !== 1 /* PT_LOAD */) ph += 56;
    b.writeBigUInt64LE(0x2000_0000n, ph + 24);
    writeFileSync(outside, b);
    const cases: [string, RegExp][] = [
      [notElf, /not an ELF file \(no \\x7fELF magic at offset 0\)/],
      [truncated, /program header table ends at 0x[0-9a-f]+, past the end of the file \(0x64 bytes\)/],
      [host, /e_machine at 0x12 is 62, expected 243 \(RISC-V\)/],
      [outside, /segment at 0x20000000 \(0x[0-9a-f]+ bytes\) is outside RAM 0x80000000\.\.0x88000000/],
      [join(dir, 'missing.elf'), /cannot read .*missing\.elf: ENOENT/],
    ];
    for (const [file, message] of cases) {
      const r = await runCli(['run-elf', file]);
      assert.equal(r.code, 2, `${file}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
    }
  });
});
