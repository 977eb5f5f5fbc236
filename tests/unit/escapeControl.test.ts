import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeControl } from '../../src/format/escapeControl.ts';
import { quoteField } from '../../src/disk/VhdFooter.ts';

describe('escapeControl', () => {
  it('shows every C0 control, DEL and every C1 control as \\xNN', () => {
    for (let c = 0; c < 0x100; c++) {
      const ch = String.fromCharCode(c);
      const control = c < 0x20 || (c >= 0x7f && c <= 0x9f);
      assert.equal(escapeControl(ch), control ? `\\x${c.toString(16).padStart(2, '0')}` : ch, `char 0x${c.toString(16)}`);
    }
  });

  it('defuses the sequences a hostile file would carry', () => {
    const hostile = '\x1b[2J\x1b[H\x1b]0;pwned\x07\x9d52;c;aGk=\x9c\x9b31mred\x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\';
    const out = escapeControl(hostile);
    assert.ok(!/[\x00-\x1f\x7f-\x9f]/.test(out), out);
    assert.equal(out, '\\x1b[2J\\x1b[H\\x1b]0;pwned\\x07\\x9d52;c;aGk=\\x9c\\x9b31mred\\x1b]8;;https://evil.example/\\x1b\\click\\x1b]8;;\\x1b\\');
  });

  it('leaves printable text, non-ASCII letters and emoji alone; keeps newlines only when asked', () => {
    assert.equal(escapeControl('base-1 «Ünïcode» 日本 🙂 ~/a b.vhd'), 'base-1 «Ünïcode» 日本 🙂 ~/a b.vhd');
    assert.equal(escapeControl('a\nb\tc'), 'a\\x0ab\\x09c');
    assert.equal(escapeControl('a\nb\rc', { keepNewlines: true }), 'a\nb\\x0dc');
  });

  it("a VHD field quoted in an error message carries no raw control byte (a 0x9d once cut the import's message)", () => {
    const cookie = 'ab\x9dc\x1b[2J"';
    const q = quoteField(cookie);
    assert.ok(!/[\x00-\x1f\x7f-\x9f]/.test(q), q);
    assert.equal(q, '"ab\\x9dc\\x1b[2J\\""');
  });
});
