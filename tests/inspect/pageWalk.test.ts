// The page-walk explainer on hand-built page tables, one case per outcome of the
// privileged spec's "Virtual Address Translation Process" (steps cited per case) and
// per page size.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explainTranslation, formatTranslation, TranslationError } from '../../src/inspect/index.ts';
import type { AccessType, Privilege, TranslationState } from '../../src/inspect/index.ts';

const RAM_BASE = 0x8000_0000n;
const RAM_SIZE = 64n << 20n;
const V = 1n, R = 2n, W = 4n, X = 8n, U = 16n, G = 32n, A = 64n, D = 128n;
const SV39 = 8n << 60n;
const SV48 = 9n << 60n;
const MPRV = 1n << 17n;
const SUM = 1n << 18n;
const MXR = 1n << 19n;
const MPP_S = 1n << 11n;

/** A RAM model: PTEs in a Map, everything else in RAM reads as zero, outside RAM fails. */
class Ram {
  readonly words = new Map<bigint, bigint>();
  readonly read = (pa: bigint): bigint | undefined => {
    if (pa < RAM_BASE || pa >= RAM_BASE + RAM_SIZE) return undefined;
    return this.words.get(pa) ?? 0n;
  };
  /** Writes the PTE for va's vpn[level] into the table at `table`. */
  set(table: bigint, va: bigint, level: number, pte: bigint): void {
    const vpn = (va >> (12n + 9n * BigInt(level))) & 0x1ffn;
    this.words.set(table + vpn * 8n, pte);
  }
}

const pte = (pa: bigint, flags: bigint): bigint => ((pa >> 12n) << 10n) | flags;

// Tables: root at +0x10000, level-1 at +0x11000, level-0 at +0x12000.
const ROOT = RAM_BASE + 0x10000n;
const L1 = RAM_BASE + 0x11000n;
const L0 = RAM_BASE + 0x12000n;
const satp = SV39 | (ROOT >> 12n);

/** A fresh RAM with a 4 KiB mapping of `va` to `pa` with `flags` (all three levels). */
function fourK(va: bigint, pa: bigint, flags: bigint): Ram {
  const ram = new Ram();
  ram.set(ROOT, va, 2, pte(L1, V));
  ram.set(L1, va, 1, pte(L0, V));
  ram.set(L0, va, 0, pte(pa, flags));
  return ram;
}

function walk(ram: Ram, va: bigint, access: AccessType, priv: Privilege = 'S', mstatus = 0n, s = satp) {
  const state: TranslationState = { satp: s, priv, mstatus };
  return explainTranslation(va, access, state, ram.read);
}

const VA = 0x0000_0040_1234_5678n & ((1n << 38n) - 1n); // a low, canonical Sv39 address
const PAGE = RAM_BASE + 0x20_0000n;

describe('explainTranslation: successful walks, each page size (steps 1-8)', () => {
  it('maps a 4 KiB page through three levels and reports every PTE', () => {
    const ram = fourK(VA, PAGE, V | R | W | A | D);
    const t = walk(ram, VA, 'load');
    assert.equal(t.fault, undefined);
    assert.equal(t.mode, 'Sv39');
    assert.equal(t.pa, PAGE | (VA & 0xfffn));
    assert.equal(t.pageSize, 4096n);
    assert.deepEqual(t.levels.map((l) => [l.level, l.kind]), [[2, 'pointer'], [1, 'pointer'], [0, 'leaf']]);
    assert.equal(t.levels[0].vpn, Number((VA >> 30n) & 0x1ffn));
    assert.equal(t.levels[0].pteAddress, ROOT + BigInt(t.levels[0].vpn) * 8n);
    assert.equal(t.levels[2].ppn, PAGE >> 12n);
    assert.deepEqual(t.levels[2].flags, { V: true, R: true, W: true, X: false, U: false, G: false, A: true, D: true });
    assert.equal(t.setsA, false);
    assert.equal(t.setsD, false);
  });

  it('maps a 2 MiB megapage with a leaf at level 1 (step 8: va supplies vpn[0])', () => {
    const ram = new Ram();
    ram.set(ROOT, VA, 2, pte(L1, V));
    ram.set(L1, VA, 1, pte(RAM_BASE + 0x40_0000n, V | R | X | A));
    const t = walk(ram, VA, 'fetch');
    assert.equal(t.pageSize, 2n << 20n);
    assert.equal(t.pa, RAM_BASE + 0x40_0000n + (VA & 0x1f_ffffn));
    assert.equal(t.levels.length, 2);
  });

  it('maps a 1 GiB gigapage with a leaf at level 2', () => {
    const ram = new Ram();
    ram.set(ROOT, VA, 2, pte(0x4000_0000n, V | R | W | X | G | A | D));
    const t = walk(ram, VA, 'store');
    assert.equal(t.pageSize, 1n << 30n);
    assert.equal(t.pa, 0x4000_0000n + (VA & 0x3fff_ffffn));
    assert.equal(t.levels.length, 1);
    assert.equal(t.levels[0].flags!.G, true);
  });

  it('walks four levels in Sv48', () => {
    const va = 0x0000_7f12_3456_7000n;
    const ram = new Ram();
    const top = RAM_BASE + 0x30000n;
    ram.set(top, va, 3, pte(ROOT, V));
    ram.set(ROOT, va, 2, pte(L1, V));
    ram.set(L1, va, 1, pte(L0, V));
    ram.set(L0, va, 0, pte(PAGE, V | R | A));
    const t = walk(ram, va, 'load', 'S', 0n, SV48 | (top >> 12n));
    assert.equal(t.mode, 'Sv48');
    assert.equal(t.levels.length, 4);
    assert.equal(t.pa, PAGE);
  });

  it('says when the hart would set A and D (step 7) and leaves memory alone', () => {
    const ram = fourK(VA, PAGE, V | R | W);
    const before = new Map(ram.words);
    const load = walk(ram, VA, 'load');
    assert.deepEqual([load.setsA, load.setsD], [true, false]);
    const store = walk(ram, VA, 'store');
    assert.deepEqual([store.setsA, store.setsD], [true, true]);
    assert.deepEqual(ram.words, before);
    assert.match(formatTranslation(store), /sets A and D/);
  });
});

describe('explainTranslation: no translation', () => {
  it('passes the address through when satp.MODE is Bare', () => {
    const t = walk(new Ram(), 0x1234n, 'load', 'S', 0n, 0n);
    assert.equal(t.mode, 'Bare');
    assert.equal(t.pa, 0x1234n);
    assert.match(t.bareReason!, /Bare/);
  });

  it('does not translate M-mode accesses, or M-mode fetches even with MPRV', () => {
    const ram = new Ram();
    assert.equal(walk(ram, VA, 'load', 'M').pa, VA);
    const fetch = walk(ram, VA, 'fetch', 'M', MPRV | MPP_S);
    assert.equal(fetch.pa, VA);
    assert.equal(fetch.effectivePriv, 'M');
  });

  it('translates M-mode loads and stores as MPP when MPRV = 1', () => {
    const ram = fourK(VA, PAGE, V | R | W | A | D);
    const t = walk(ram, VA, 'store', 'M', MPRV | MPP_S);
    assert.equal(t.effectivePriv, 'S');
    assert.equal(t.pa, PAGE | (VA & 0xfffn));
    // MPP = U: the same S-only page now faults for U.
    const asUser = walk(ram, VA, 'load', 'M', MPRV);
    assert.equal(asUser.effectivePriv, 'U');
    assert.equal(asUser.fault?.reason, 'permission');
    assert.match(asUser.fault!.detail, /MPRV/);
  });

  it('rejects a reserved satp.MODE', () => {
    assert.throws(() => walk(new Ram(), 0n, 'load', 'S', 0n, 3n << 60n), (e: unknown) =>
      e instanceof TranslationError && e.code === 'bad-satp-mode' && /MODE 3/.test(e.message));
  });
});

describe('explainTranslation: faults', () => {
  const causes: [AccessType, number, number][] = [['fetch', 12, 1], ['load', 13, 5], ['store', 15, 7]];

  it('faults on a non-canonical address before reading memory (Sv39: bits 63..39 = bit 38)', () => {
    for (const [access, cause] of causes) {
      const t = walk(new Ram(), 0x0000_0080_0000_0000n, access);
      assert.equal(t.fault?.cause, cause);
      assert.equal(t.fault?.reason, 'non-canonical');
      assert.equal(t.levels.length, 0);
    }
    // The sign-extended upper half is canonical.
    assert.notEqual(walk(new Ram(), 0xffff_ffc0_0000_0000n, 'load').fault?.reason, 'non-canonical');
  });

  it('raises an access fault when a PTE address is outside RAM (step 2)', () => {
    for (const [access, , cause] of causes) {
      const t = walk(new Ram(), VA, access, 'S', 0n, SV39 | 0x1n); // root table at 0x1000
      assert.equal(t.fault?.cause, cause);
      assert.equal(t.fault?.reason, 'pte-access-fault');
      assert.equal(t.fault?.step, 2);
      assert.equal(t.levels[0].pte, undefined);
    }
    // A pointer into non-RAM at level 1; a readPhys that throws counts the same.
    const ram = new Ram();
    ram.set(ROOT, VA, 2, pte(0x1000_0000n, V));
    const t = explainTranslation(VA, 'load', { satp, priv: 'S', mstatus: 0n }, (pa) => {
      const v = ram.read(pa);
      if (v === undefined) throw new RangeError('not RAM');
      return v;
    });
    assert.equal(t.fault?.level, 1);
    assert.equal(t.fault?.cause, 5);
  });

  it('faults with V = 0 at any level (step 3), with the cause of the access', () => {
    for (const [access, cause] of causes) {
      assert.equal(walk(new Ram(), VA, access).fault?.cause, cause);
    }
    const ram = new Ram();
    ram.set(ROOT, VA, 2, pte(L1, V));
    const t = walk(ram, VA, 'load');
    assert.deepEqual([t.fault?.reason, t.fault?.level, t.fault?.step], ['invalid', 1, 3]);
    const leaf = walk(fourK(VA, PAGE, R | W | A | D), VA, 'load');
    assert.deepEqual([leaf.fault?.reason, leaf.fault?.level], ['invalid', 0]);
  });

  it('faults on W = 1 with R = 0, a reserved encoding (step 3)', () => {
    const t = walk(fourK(VA, PAGE, V | W | A | D), VA, 'store');
    assert.deepEqual([t.fault?.reason, t.fault?.cause, t.fault?.level], ['reserved-w-without-r', 15, 0]);
    const wx = walk(fourK(VA, PAGE, V | W | X | A | D), VA, 'fetch');
    assert.equal(wx.fault?.reason, 'reserved-w-without-r');
  });

  it('faults on reserved PTE bits 63:54 (step 3; PBMT and N are not implemented)', () => {
    const t = walk(fourK(VA, PAGE, V | R | A | (1n << 61n)), VA, 'load');
    assert.deepEqual([t.fault?.reason, t.fault?.step], ['reserved-bits', 3]);
  });

  it('faults when level 0 holds a pointer (step 4: i < 0)', () => {
    const t = walk(fourK(VA, PAGE, V), VA, 'load');
    assert.deepEqual([t.fault?.reason, t.fault?.step, t.fault?.level, t.fault?.cause], ['no-leaf', 4, 0, 13]);
  });

  describe('permissions (step 5)', () => {
    const cases: { name: string; flags: bigint; access: AccessType; priv: Privilege; mstatus?: bigint; ok: boolean }[] = [
      { name: 'fetch needs X', flags: R | W, access: 'fetch', priv: 'S', ok: false },
      { name: 'fetch with X', flags: X, access: 'fetch', priv: 'S', ok: true },
      { name: 'load needs R', flags: X, access: 'load', priv: 'S', ok: false },
      { name: 'MXR lets a load read an execute-only page', flags: X, access: 'load', priv: 'S', mstatus: MXR, ok: true },
      { name: 'MXR does not help a store', flags: X, access: 'store', priv: 'S', mstatus: MXR, ok: false },
      { name: 'store needs W', flags: R | X, access: 'store', priv: 'S', ok: false },
      { name: 'U-mode needs U = 1', flags: R | W | X, access: 'load', priv: 'U', ok: false },
      { name: 'U-mode on a U page', flags: R | W | X | U, access: 'fetch', priv: 'U', ok: true },
      { name: 'S-mode load from a U page needs SUM', flags: R | U, access: 'load', priv: 'S', ok: false },
      { name: 'S-mode load from a U page with SUM', flags: R | U, access: 'load', priv: 'S', mstatus: SUM, ok: true },
      { name: 'S-mode store to a U page with SUM', flags: R | W | U, access: 'store', priv: 'S', mstatus: SUM, ok: true },
      { name: 'S-mode never fetches from a U page, SUM or not', flags: X | U, access: 'fetch', priv: 'S', mstatus: SUM, ok: false },
    ];
    for (const c of cases) {
      it(`${c.name}: ${c.ok ? 'allowed' : 'page fault'}`, () => {
        const t = walk(fourK(VA, PAGE, V | A | D | c.flags), VA, c.access, c.priv, c.mstatus ?? 0n);
        if (c.ok) {
          assert.equal(t.fault, undefined, formatTranslation(t));
        } else {
          assert.equal(t.fault?.reason, 'permission', formatTranslation(t));
          assert.equal(t.fault?.step, 5);
          assert.equal(t.fault?.cause, { fetch: 12, load: 13, store: 15 }[c.access]);
        }
      });
    }
  });

  it('faults on a misaligned superpage (step 6), 2 MiB and 1 GiB', () => {
    const mega = new Ram();
    mega.set(ROOT, VA, 2, pte(L1, V));
    mega.set(L1, VA, 1, pte(RAM_BASE + 0x1000n, V | R | A));
    const t = walk(mega, VA, 'load');
    assert.deepEqual([t.fault?.reason, t.fault?.step, t.fault?.level], ['misaligned-superpage', 6, 1]);
    const giga = new Ram();
    giga.set(ROOT, VA, 2, pte(RAM_BASE + 0x20_0000n, V | R | A));
    assert.deepEqual([walk(giga, VA, 'load').fault?.reason, walk(giga, VA, 'load').fault?.level], ['misaligned-superpage', 2]);
  });

  it('reports the faulting virtual address as tval', () => {
    assert.equal(walk(new Ram(), VA, 'load').fault?.tval, VA);
  });
});

describe('formatTranslation', () => {
  it('shows each level, the flags and the outcome', () => {
    const text = formatTranslation(walk(fourK(VA, PAGE, V | R | W | A | D), VA, 'load'));
    assert.match(text, /^load 0x[0-9a-f]+ at S-mode, Sv39/);
    assert.match(text, /level 2: vpn\[2\] = 0x[0-9a-f]+, PTE @ 0x8001[0-9a-f]+ = 0x[0-9a-f]+ \[-------V\] ppn 0x80011 \(pointer\)/);
    assert.match(text, /level 0: .*\[DA---WRV\].*\(leaf, 4 KiB page\)/);
    assert.match(text, /→ pa 0x8020[0-9a-f]{4} in a 4 KiB page/);
    const fault = formatTranslation(walk(new Ram(), VA, 'store'));
    assert.match(fault, /✗ store\/AMO page fault \(cause 15, tval 0x[0-9a-f]+\), step 3: the level-2 PTE at 0x8001[0-9a-f]+ has V = 0/);
  });
});
