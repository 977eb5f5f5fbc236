// CSR field decoding on values whose layout the privileged spec fixes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { causeName, decodeCsrFields, formatCsrFields, DECODED_CSRS } from '../../src/inspect/index.ts';

const field = (csr: string | number, value: bigint, name: string) => {
  const d = decodeCsrFields(csr, value);
  assert.ok(d, `${csr} decodes`);
  const f = d.fields.find((x) => x.name === name);
  assert.ok(f, `${csr} has a field ${name}`);
  return f;
};

describe('decodeCsrFields: mstatus and sstatus', () => {
  // MPP = S (bits 12:11 = 01), FS = Dirty (14:13 = 11), SUM, MXR, SD, UXL = SXL = 64.
  const value = (1n << 63n) | (2n << 34n) | (2n << 32n) | (1n << 19n) | (1n << 18n) | (3n << 13n) | (1n << 11n) | (1n << 3n);

  it('names every mstatus field with its position', () => {
    const d = decodeCsrFields('mstatus', value)!;
    const names = d.fields.map((f) => f.name);
    for (const n of ['SIE', 'MIE', 'SPIE', 'MPIE', 'SPP', 'MPP', 'FS', 'MPRV', 'SUM', 'MXR', 'TVM', 'TW', 'TSR', 'SD', 'UXL', 'SXL']) {
      assert.ok(names.includes(n), `mstatus.${n}`);
    }
    assert.deepEqual(field('mstatus', value, 'MPP'), { name: 'MPP', hi: 12, lo: 11, value: 1n, meaning: 'S' });
    assert.equal(field('mstatus', value, 'FS').meaning, 'Dirty');
    assert.equal(field('mstatus', value, 'SUM').value, 1n);
    assert.equal(field('mstatus', value, 'MPRV').value, 0n);
    assert.equal(field('mstatus', value, 'SD').value, 1n);
    assert.equal(field('mstatus', value, 'UXL').meaning, '64');
    assert.equal(field('mstatus', 2n << 11n, 'MPP').meaning, 'reserved');
    assert.equal(field(0x300, 3n << 11n, 'MPP').meaning, 'M');
  });

  it('shows sstatus as the S-mode subset', () => {
    const names = decodeCsrFields('sstatus', value)!.fields.map((f) => f.name);
    assert.ok(names.includes('SUM') && names.includes('SPP') && names.includes('FS'));
    assert.ok(!names.includes('MPP') && !names.includes('MIE') && !names.includes('TVM'));
  });

  it('formats the fields that are set', () => {
    assert.equal(
      formatCsrFields(decodeCsrFields('mstatus', value)!),
      `mstatus = 0x${value.toString(16)}: MIE MPP=S FS=Dirty SUM MXR UXL=64 SXL=64 SD`,
    );
  });
});

describe('decodeCsrFields: satp', () => {
  it('splits MODE, ASID and PPN', () => {
    const satp = (8n << 60n) | (0x1234n << 44n) | 0x80123n;
    assert.equal(field('satp', satp, 'MODE').meaning, 'Sv39');
    assert.equal(field('satp', satp, 'ASID').value, 0x1234n);
    assert.equal(field('satp', satp, 'PPN').value, 0x80123n);
    assert.equal(field('satp', satp, 'PPN').meaning, 'root page table at 0x80123000');
    assert.equal(field('satp', 0n, 'MODE').meaning, 'Bare');
    assert.equal(field('satp', 3n << 60n, 'MODE').meaning, 'reserved');
  });
});

describe('decodeCsrFields: interrupt bits', () => {
  it('names the pending and enable bits of mip/mie and their S-mode views', () => {
    const all = (1n << 1n) | (1n << 3n) | (1n << 5n) | (1n << 7n) | (1n << 9n) | (1n << 11n);
    const set = (csr: string) => decodeCsrFields(csr, all)!.fields.filter((f) => f.value).map((f) => f.name);
    assert.deepEqual(set('mip'), ['SSIP', 'MSIP', 'STIP', 'MTIP', 'SEIP', 'MEIP']);
    assert.deepEqual(set('mie'), ['SSIE', 'MSIE', 'STIE', 'MTIE', 'SEIE', 'MEIE']);
    assert.deepEqual(set('sip'), ['SSIP', 'STIP', 'SEIP']);
    assert.deepEqual(set('sie'), ['SSIE', 'STIE', 'SEIE']);
    assert.deepEqual(set('mideleg'), ['SSIP', 'MSIP', 'STIP', 'MTIP', 'SEIP', 'MEIP']);
    assert.equal(field('mip', 1n << 7n, 'MTIP').hi, 7);
  });
});

describe('decodeCsrFields: causes and delegation', () => {
  it('names mcause and scause values, interrupts and exceptions', () => {
    assert.equal(causeName(13n), 'Load page fault');
    assert.equal(causeName(15n), 'Store/AMO page fault');
    assert.equal(causeName(9n), 'Environment call from S-mode');
    assert.equal(causeName((1n << 63n) | 7n), 'Machine timer interrupt');
    assert.equal(causeName((1n << 63n) | 5n), 'Supervisor timer interrupt');
    assert.equal(causeName(10n), 'exception 10 (reserved or custom)');
    const d = decodeCsrFields('scause', (1n << 63n) | 9n)!;
    assert.deepEqual(d.fields.map((f) => [f.name, f.value, f.meaning]), [
      ['Interrupt', 1n, undefined],
      ['Exception Code', 9n, 'Supervisor external interrupt'],
    ]);
    assert.equal(formatCsrFields(decodeCsrFields('mcause', 2n)!), 'mcause = 0x2: Exception Code=Illegal instruction');
  });

  it('names medeleg bits by the exception they delegate', () => {
    // What OpenSBI delegates: misaligned fetch, breakpoint, U-mode ecall, page faults.
    const medeleg = (1n << 0n) | (1n << 3n) | (1n << 8n) | (1n << 12n) | (1n << 13n) | (1n << 15n);
    const set = decodeCsrFields('medeleg', medeleg)!.fields.filter((f) => f.value).map((f) => `${f.lo}:${f.name}`);
    assert.deepEqual(set, [
      '0:Instruction address misaligned', '3:Breakpoint', '8:Environment call from U-mode',
      '12:Instruction page fault', '13:Load page fault', '15:Store/AMO page fault',
    ]);
  });
});

describe('decodeCsrFields: other CSRs', () => {
  it('returns undefined for CSRs without a layout, by number or name', () => {
    assert.equal(decodeCsrFields('mscratch', 1n), undefined);
    assert.equal(decodeCsrFields(0x7c0, 1n), undefined);
    assert.equal(decodeCsrFields('nonsense', 1n), undefined);
  });

  it('decodes every CSR it lists', () => {
    for (const name of DECODED_CSRS) assert.ok(decodeCsrFields(name, -1n), name);
  });
});
