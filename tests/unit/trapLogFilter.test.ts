import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkTrapLogFilter, DEFAULT_TRAP_LOG_FILTER, isDefaultFilter, keepsTrap, parseTrapLogFilter, returnMaskFor, ringMasksFor, type TrapLogFilter,
} from '../../src/inspect/index.ts';

const f = (over: Partial<TrapLogFilter>): TrapLogFilter => ({ ...DEFAULT_TRAP_LOG_FILTER, ...over });

describe('trap-log filter', () => {
  it('keeps everything by default and logs no returns', () => {
    assert.ok(keepsTrap(DEFAULT_TRAP_LOG_FILTER, 'timer', 'M'));
    assert.ok(keepsTrap(DEFAULT_TRAP_LOG_FILTER, 'syscall', 'S'));
    assert.equal(returnMaskFor(DEFAULT_TRAP_LOG_FILTER), 0);
    assert.ok(isDefaultFilter(f({})));
  });

  it('filters by kind, by the privilege a trap came from, and hides timers', () => {
    const user = f({ kinds: ['syscall', 'page-fault'], from: ['U'] });
    assert.ok(keepsTrap(user, 'syscall', 'U'));
    assert.ok(!keepsTrap(user, 'syscall', 'S'));
    assert.ok(!keepsTrap(user, 'timer', 'U'));
    assert.ok(!keepsTrap(f({ hideTimer: true }), 'timer', 'S'));
    assert.ok(keepsTrap(f({ hideTimer: true }), 'external', 'S'));
    assert.ok(!isDefaultFilter(user));
  });

  it('follows the returns of kept ecalls and page faults only', () => {
    assert.equal(returnMaskFor(f({ from: ['U'], returns: true })), (1 << 8) | (1 << 12) | (1 << 13) | (1 << 15));
    assert.equal(returnMaskFor(f({ kinds: ['syscall'], returns: true })), (1 << 8) | (1 << 9) | (1 << 11));
    assert.equal(returnMaskFor(f({ kinds: ['timer'], returns: true })), 0);
  });

  it('reads JSON with defaults, canonical order, and every problem named', () => {
    const problems: string[] = [];
    const add = (p: string, m: string) => void problems.push(`${p}: ${m}`) as undefined;
    assert.deepEqual(checkTrapLogFilter({ from: ['U', 'M', 'U'] }, 'x', add), { ...DEFAULT_TRAP_LOG_FILTER, from: ['U', 'M'] });
    assert.deepEqual(problems, []);
    assert.equal(checkTrapLogFilter({ kinds: ['syscal'], hideTimer: 1, colour: 'red' }, 'view.trapLog', add), undefined);
    assert.deepEqual(problems, [
      'view.trapLog.colour: is not a field of a trap-log filter (fields: kinds, from, hideTimer, returns)',
      'view.trapLog.kinds[0]: "syscal" is not one of syscall, page-fault, access-fault, illegal, misaligned, breakpoint, timer, external, software, other',
      'view.trapLog.hideTimer: must be true or false, got number 1',
    ]);
    assert.equal(checkTrapLogFilter([], 'x', add), undefined);
  });

  it('reads back what the page saved, and nothing else', () => {
    const user = f({ from: ['U'], returns: true });
    assert.deepEqual(parseTrapLogFilter(JSON.stringify(user)), user);
    assert.equal(parseTrapLogFilter('{"from":"U"}'), undefined);
    assert.equal(parseTrapLogFilter('not json'), undefined);
    assert.equal(parseTrapLogFilter(null), undefined);
  });
});

describe('the core ring masks', () => {
  it('keep, per privilege trapped from, the counter indexes the filter keeps', () => {
    const [u, s, m] = ringMasksFor({ ...DEFAULT_TRAP_LOG_FILTER, kinds: ['syscall'], from: ['U'] });
    assert.equal(u, (1 << 8) | (1 << 9) | (1 << 11), 'ecall codes from U (only 8 happens there)');
    assert.equal(s, 0);
    assert.equal(m, 0);
    const [, sTimers] = ringMasksFor({ ...DEFAULT_TRAP_LOG_FILTER, hideTimer: true });
    assert.equal(sTimers & (1 << (16 + 5)), 0, 'S timer dropped');
    assert.notEqual(sTimers & (1 << (16 + 9)), 0, 'S external kept');
  });
});
