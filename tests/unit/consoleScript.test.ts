import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backtrackingRisk, parseConsoleScript, ScriptError } from '../../src/scenario/consoleScript.ts';

describe('console scripts from shared links cannot stall the player', () => {
  it('refuses regexes with a quantifier nested in a quantified group, and backreferences', () => {
    for (const r of ['(a+)+$', '((ab)*)*', '([a-z]+\\s)*x', '(a{2})+']) assert.match(backtrackingRisk(r) ?? '', /nests a quantifier/, r);
    for (const r of ['(a)\\1', '(?<x>a)\\k<x>']) assert.match(backtrackingRisk(r) ?? '', /backreference/, r);
  });

  it('accepts the patterns scripts actually use', () => {
    for (const r of ['riscv64', 'isa\\s+: rv64imafdc', '(a|b)*c', '~ # $', 'sqlite> ?', '[0-9]+ rows?', '(?:ok|done)+']) {
      assert.equal(backtrackingRisk(r), undefined, r);
    }
  });

  it('names the step of a risky regex', () => {
    assert.throws(
      () => parseConsoleScript([{ send: 'x\n' }, { expect: { regex: '(a+)+$' } }], 'link'),
      (e: unknown) => e instanceof ScriptError && /^link\[1\]\.expect\.regex: nests a quantifier/.test(e.message),
    );
  });
});
