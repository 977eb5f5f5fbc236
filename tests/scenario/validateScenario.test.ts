import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GUEST_DEFAULTS, SCENARIO_LIMITS, guestName, ScenarioError, validateScenario, type Scenario } from '../../src/scenario/index.ts';

const SHA = 'ab'.repeat(32);
const guest = (extra: Record<string, unknown> = {}) => ({ appliance: { builtin: 'base' }, ...extra });
const scenario = (extra: Record<string, unknown> = {}, guests: unknown[] = [guest()]) => ({ version: 1, guests, ...extra });

/** The ScenarioError validation throws for `json`. */
function refusal(json: unknown): ScenarioError {
  try {
    validateScenario(json);
  } catch (e) {
    assert.ok(e instanceof ScenarioError, `expected a ScenarioError, got ${String(e)}`);
    return e;
  }
  assert.fail(`expected ${JSON.stringify(json)} to be refused`);
}

/** Asserts `json` is refused as invalid with exactly these problems. */
function problems(json: unknown, expected: (string | RegExp)[]): void {
  const e = refusal(json);
  assert.equal(e.code, 'invalid', e.message);
  assert.equal(e.problems.length, expected.length, e.problems.join('\n'));
  expected.forEach((want, i) => {
    if (typeof want === 'string') assert.equal(e.problems[i], want);
    else assert.match(e.problems[i]!, want);
  });
}

const guestProblem = (extra: Record<string, unknown>, ...expected: (string | RegExp)[]) => problems(scenario({}, [guest(extra)]), expected);

describe('a valid scenario', () => {
  it('comes back with guest defaults filled in and nothing else added', () => {
    const s = validateScenario({ version: 1, guests: [{ appliance: { builtin: 'base' } }] });
    assert.deepEqual(s, { version: 1, guests: [{ appliance: { builtin: 'base' }, ...GUEST_DEFAULTS }] });
  });

  it('keeps every field it was given, in schema order', () => {
    const full: Scenario = {
      version: 1,
      title: 'Two guests 🙂',
      notes: 'Line one\n\tLine two\r\n',
      view: ['traps', 'console'],
      guests: [
        { appliance: { url: 'https://example.org/a.vhd', sha256: SHA }, memoryMiB: 64, cmdline: 'loglevel=8 quiet', time: 'deterministic', script: [{ expect: '# ' }, { send: 'ls\n' }] },
        { appliance: { local: 'My_image-2' }, memoryMiB: 2048, cmdline: '', time: 'deterministic' },
      ],
    };
    const shuffled = { guests: full.guests, view: full.view, notes: full.notes, title: full.title, version: 1 };
    const s = validateScenario(shuffled);
    assert.deepEqual(s, full);
    assert.deepEqual(Object.keys(s), ['version', 'title', 'notes', 'view', 'guests']);
  });

  it('is a fresh object, not the input', () => {
    const input = scenario();
    const s = validateScenario(input);
    assert.notEqual(s, input);
    assert.notEqual(s.guests[0], input.guests[0]);
  });

  it('accepts appliance URLs over https, and plain http only to this machine', () => {
    for (const url of ['https://a.example/x.vhd', 'http://localhost:5173/x.vhd', 'http://127.0.0.1/x.vhd']) {
      assert.deepEqual(validateScenario(scenario({}, [guest({ appliance: { url, sha256: SHA } })])).guests[0]!.appliance, { url, sha256: SHA });
    }
  });
});

describe('the whole scenario', () => {
  it('must be a JSON object', () => {
    problems([], ['scenario: must be a JSON object, got an array of 0']);
    problems('{"version":1}', [/^scenario: must be a JSON object, got "\{/]);
    problems(null, ['scenario: must be a JSON object, got null']);
    problems(new Map(), ['scenario: must be a JSON object, got an object that is not plain JSON data']);
  });

  it('needs a version, which must be the number 1', () => {
    problems({ guests: [guest()] }, ['version: is missing; this romvisor reads scenario version 1']);
    problems(scenario({ version: '1' }), ['version: must be the number 1, got "1"']);
  });

  it('is refused as a whole, by version number, when the version is unknown', () => {
    const e = refusal({ version: 2, anything: 'new', guests: 'different' });
    assert.equal(e.code, 'unsupported-version');
    assert.equal(e.message, 'scenario version 2 is not supported; this romvisor reads version 1');
    assert.deepEqual(e.problems, [e.message]);
  });

  it('refuses unknown fields, quoting odd keys so they stay one short line', () => {
    problems(scenario({ titel: 'x' }), ['titel: is not a field of a scenario (fields: version, title, notes, view, guests)']);
    const e = refusal(JSON.parse(`{"version":1,"guests":[{"appliance":{"builtin":"base"}}],"a\\nb":1,"${'k'.repeat(100)}":2}`));
    assert.deepEqual(e.problems.map((p) => p.split(':')[0]), ['["a\\nb"]', `["${'k'.repeat(40)}…"]`]);
  });

  it('lists every problem, not just the first, and says so in one line', () => {
    const e = refusal({ version: 1, title: 5, view: ['console', 'tty'], guests: [guest({ memoryMiB: 3 }), guest({ time: 'fast', cmdline: 'a\nb' })] });
    assert.deepEqual(e.problems, [
      'title: must be a string, got 5',
      'view[1]: "tty" is not a panel; panels are console, timeline, traps, inspector, packets',
      'guests[0].memoryMiB: 3 MiB is below the minimum of 64 MiB',
      'guests[1].cmdline: character 1 is U+000A; only printable ASCII (space to ~) is allowed',
      'guests[1].time: must be "realtime" or "deterministic", got "fast"',
    ]);
    assert.equal(e.message, `invalid scenario, 5 problems: ${e.problems.join('; ')}`);
    assert.ok(!e.message.includes('\n'));
  });

  it('lists at most 50 problems and counts the rest', () => {
    const script = Array.from({ length: 200 }, () => ({ send: 1 }));
    const e = refusal(scenario({}, [guest({ script }), guest({ script })]));
    assert.equal(e.problems.length, SCENARIO_LIMITS.problems + 1);
    assert.equal(e.problems.at(-1), '(350 more problems not listed)');
  });
});

describe('title and notes', () => {
  it('must be strings within their length limits', () => {
    problems(scenario({ title: ['x'] }), ['title: must be a string, got an array of 1']);
    problems(scenario({ title: 'x'.repeat(121) }), ['title: is 121 characters long, the limit is 120']);
    problems(scenario({ notes: 'x'.repeat(4001) }), ['notes: is 4001 characters long, the limit is 4000']);
    problems(scenario({ notes: null }), ['notes: must be a string, got null']);
  });

  it('are plain text: no control characters, bidirectional overrides or unpaired surrogates', () => {
    problems(scenario({ title: 'one\ntwo' }), [/^title: character 3 is U\+000A; plain text may not contain control characters or line breaks/]);
    problems(scenario({ title: 'invoice\u202Efdp.exe' }), [/^title: character 7 is U\+202E;/]);
    problems(scenario({ notes: 'bell\u0007' }), [/^notes: character 4 is U\+0007; plain text may not contain control characters other than tab and line breaks/]);
    problems(scenario({ notes: 'half \ud83d pair' }), [/^notes: character 5 is U\+D83D;/]);
    problems(scenario({ notes: 'c1 \u0085' }), [/^notes: character 3 is U\+0085;/]);
    assert.equal(validateScenario(scenario({ notes: 'tabs\tand\nlines\r\n🙂' })).notes, 'tabs\tand\nlines\r\n🙂');
  });
});

describe('view', () => {
  it('is a list of distinct panels from the closed set', () => {
    problems(scenario({ view: 'console' }), ['view: must be an array of panel names (console, timeline, traps, inspector, packets), got "console"']);
    problems(scenario({ view: ['console', 'console'] }), ['view[1]: "console" is listed twice']);
    problems(scenario({ view: [{}] }), ['view[0]: an object is not a panel; panels are console, timeline, traps, inspector, packets']);
    problems(scenario({ view: new Array(6).fill('console') }), ['view: has 6 entries, but there are only 5 panels (console, timeline, traps, inspector, packets)']);
    assert.deepEqual(validateScenario(scenario({ view: [] })).view, []);
  });
});

describe('guests', () => {
  it('number one to four', () => {
    problems({ version: 1 }, ['guests: is missing; a scenario needs at least one guest']);
    problems(scenario({}, []), ['guests: is empty; a scenario needs at least one guest']);
    problems(scenario({ guests: {} }), ['guests: must be an array of guests, got an object']);
    problems(scenario({}, new Array(5).fill(guest())), ['guests: has 5 guests, the limit is 4']);
    // A huge array is refused by its length, without a message per entry.
    problems(scenario({}, new Array(1_000_000).fill(0)), ['guests: has 1000000 guests, the limit is 4']);
  });

  it('are objects with known fields', () => {
    problems(scenario({}, [guest(), 'base']), ['guests[1]: must be an object, got "base"']);
    guestProblem({ memory: 128 }, 'guests[0].memory: is not a field of a guest (fields: name, appliance, kernel, state, bios, drives, memoryMiB, harts, cmdline, time, consoleSize, script)');
  });

  it('may fix the console size: whole columns 20..1000 and rows 5..1000', () => {
    const s = validateScenario(scenario({}, [guest({ consoleSize: { rows: 30, cols: 100 } })]));
    assert.deepEqual(s.guests[0]!.consoleSize, { cols: 100, rows: 30 });
    guestProblem({ consoleSize: '80x24' }, 'guests[0].consoleSize: must be { "cols": number, "rows": number }, got "80x24"');
    guestProblem({ consoleSize: { cols: 10, rows: 24 } }, 'guests[0].consoleSize.cols: 10 is outside 20..1000');
    guestProblem({ consoleSize: { cols: 80, rows: 2.5 } }, 'guests[0].consoleSize.rows: must be a whole number, got 2.5');
    guestProblem({ consoleSize: { cols: 80 } }, 'guests[0].consoleSize.rows: is missing');
    guestProblem({ consoleSize: { cols: 80, rows: 24, x: 1 } }, /^guests\[0\]\.consoleSize\.x: is not a field of a console size/);
  });

  it('may have 1 to 8 harts (absent: one)', () => {
    assert.equal(validateScenario(scenario({}, [guest({ harts: 4 })])).guests[0]!.harts, 4);
    assert.equal(validateScenario(scenario({}, [guest()])).guests[0]!.harts, undefined);
    guestProblem({ harts: 0 }, 'guests[0].harts: must be a whole number of harts from 1 to 8, got 0');
    guestProblem({ harts: 9 }, 'guests[0].harts: must be a whole number of harts from 1 to 8, got 9');
    guestProblem({ harts: 1.5 }, 'guests[0].harts: must be a whole number of harts from 1 to 8, got 1.5');
  });

  it('have memory in whole MiB between 64 and 2048', () => {
    guestProblem({ memoryMiB: 3 }, 'guests[0].memoryMiB: 3 MiB is below the minimum of 64 MiB');
    guestProblem({ memoryMiB: 4096 }, 'guests[0].memoryMiB: 4096 MiB is above the maximum of 2048 MiB');
    guestProblem({ memoryMiB: 127.5 }, 'guests[0].memoryMiB: must be a whole number of MiB, got 127.5');
    guestProblem({ memoryMiB: '128' }, 'guests[0].memoryMiB: must be a whole number of MiB, got "128"');
  });

  it('have a command line of at most 1024 printable ASCII characters', () => {
    guestProblem({ cmdline: 'x'.repeat(1025) }, 'guests[0].cmdline: is 1025 characters long, the limit is 1024');
    guestProblem({ cmdline: 'quiet é' }, 'guests[0].cmdline: character 6 is U+00E9; only printable ASCII (space to ~) is allowed');
    guestProblem({ cmdline: false }, 'guests[0].cmdline: must be a string, got false');
  });

  it('have a time mode of realtime or deterministic', () => {
    guestProblem({ time: 1 }, 'guests[0].time: must be "realtime" or "deterministic", got 1');
  });

  it('may have a name that is a host name, unique among the guests with the defaults counted', () => {
    const s = validateScenario(scenario({}, [guest({ name: 'web' }), guest({}), guest({ name: 'client' })]));
    assert.deepEqual([0, 1, 2].map((i) => guestName(s.guests, i)), ['web', 'base-2', 'client']);
    assert.equal(s.guests[0]!.name, 'web');
    assert.equal('name' in s.guests[1]!, false, 'a default name is not written into the scenario');
    guestProblem({ name: 'no_underscore' }, 'guests[0].name: must be a host name: 1 to 63 letters, digits and inner hyphens, got "no_underscore"');
    guestProblem({ name: '' }, 'guests[0].name: must be a host name: 1 to 63 letters, digits and inner hyphens, got ""');
    guestProblem({ name: 7 }, 'guests[0].name: must be a host name: 1 to 63 letters, digits and inner hyphens, got 7');
    problems(scenario({}, [guest({ name: 'Web' }), guest({ name: 'web' })]), ['guests[1].name: "web" is also the name of guests[0]; every guest needs its own name']);
    problems(scenario({}, [guest({ name: 'base-2' }), guest({})]), ['guests[1].name: "base-2" is also the name of guests[0]; every guest needs its own name']);
  });

  it('share one time mode', () => {
    problems(scenario({}, [guest({ time: 'deterministic' }), guest({ time: 'realtime' })]), [
      'guests[1].time: is "realtime" but guests[0] runs "deterministic"; all guests of a scenario share one time mode',
    ]);
  });

  it('carry console scripts whose problems are all listed under the guest', () => {
    guestProblem(
      { script: [{ expect: '' }, { send: 'ok' }, { wait: -1 }, { expect: { regex: 'a', flag: 'i' } }] },
      'guests[0].script[0].expect: must not be empty',
      'guests[0].script[2].wait: must be a number of seconds ≥ 0, got -1',
      'guests[0].script[3].expect.flag: is not a field of a regex (only "regex" and "flags" are)',
    );
    guestProblem({ script: { send: 'x' } }, 'guests[0].script: must be an array of steps, got an object');
    guestProblem({ script: new Array(201).fill({ send: 'x' }) }, 'guests[0].script: has 201 steps, the limit is 200');
    guestProblem({ script: [{ expect: { regex: '(' } }] }, /^guests\[0\]\.script\[0\]\.expect\.regex: is not a valid regular expression/);
  });
});

describe('appliances', () => {
  const appliance = (a: unknown, ...expected: (string | RegExp)[]) => guestProblem({ appliance: a }, ...expected);

  it('are required and take exactly one form', () => {
    problems(scenario({}, [{}]), ['guests[0].appliance: is missing; it must be { "builtin": name }, { "url": "https://...", "sha256": hex }, { "local": id } or { "repo": "https://...", "name": name, "version": v } (or the guest has a "kernel" or a "state" instead)']);
    appliance('base', /^guests\[0\]\.appliance: must be \{ "builtin": name \}.*, got "base"$/);
    appliance({}, /^guests\[0\]\.appliance: must be exactly one of .* \(it is empty\)$/);
    appliance({ builtin: 'base', local: 'x' }, /\(it has "builtin", "local"\)$/);
    appliance({ name: 'base' }, /\(it has "name"\)$/);
    appliance({ builtin: 'base', sha256: SHA }, 'guests[0].appliance.sha256: is not a field of a "builtin" appliance (fields: builtin)');
  });

  it('name built-ins in lowercase letters, digits and dashes, up to 32', () => {
    const rule = 'must be a built-in appliance name (1 to 32 of a-z, 0-9, -)';
    appliance({ builtin: 'Base' }, `guests[0].appliance.builtin: ${rule}, got "Base"`);
    appliance({ builtin: '' }, `guests[0].appliance.builtin: ${rule}, got ""`);
    appliance({ builtin: 'a'.repeat(33) }, `guests[0].appliance.builtin: ${rule}, got "${'a'.repeat(33)}"`);
    appliance({ builtin: '../base' }, `guests[0].appliance.builtin: ${rule}, got "../base"`);
  });

  it('fetch URLs over https only, without credentials, with a lowercase SHA-256', () => {
    appliance({ url: 'http://example.org/a.vhd', sha256: SHA }, 'guests[0].appliance.url: "http://example.org/a.vhd" must use https (plain http only to this machine (localhost, 127.x.x.x, [::1]))');
    appliance({ url: 'javascript:alert(1)', sha256: SHA }, /^guests\[0\]\.appliance\.url: "javascript:alert\(1\)" must use https/);
    appliance({ url: 'data:text/html,x', sha256: SHA }, /must use https/);
    appliance({ url: '/relative.vhd', sha256: SHA }, 'guests[0].appliance.url: "/relative.vhd" is not an absolute URL');
    appliance({ url: 'https://me:secret@example.org/a.vhd', sha256: SHA }, /must not carry a user name or password$/);
    appliance({ url: `https://example.org/${'a'.repeat(2048)}`, sha256: SHA }, 'guests[0].appliance.url: is 2068 characters long, the limit is 2048');
    appliance({ url: 'https://example.org/a.vhd' }, 'guests[0].appliance.sha256: is missing; an appliance fetched by URL needs its SHA-256 (64 lowercase hex digits)');
    appliance({ url: 'https://example.org/a.vhd', sha256: SHA.toUpperCase() }, /^guests\[0\]\.appliance\.sha256: must be 64 lowercase hex digits, got "ABAB/);
    appliance({ url: 5, sha256: 'x' }, 'guests[0].appliance.url: must be a string, got 5', 'guests[0].appliance.sha256: must be 64 lowercase hex digits, got "x"');
  });

  it('name a repository appliance by the repository URL, its name and optionally a version', () => {
    const ok = (a: object) => assert.deepEqual(validateScenario(scenario({}, [{ appliance: a }])).guests[0]!.appliance, a);
    ok({ repo: 'https://repo.example/appliances/', name: 'Mini_db.2', version: '1.0+b1' });
    ok({ repo: 'http://127.0.0.1:8080/repository.json', name: 'mini' });
    appliance({ repo: 'http://repo.example/', name: 'mini' }, 'guests[0].appliance.repo: "http://repo.example/" must use https (plain http only to this machine (localhost, 127.x.x.x, [::1]))');
    appliance({ repo: 'https://repo.example/', name: '../x' }, /^guests\[0\]\.appliance\.name: must be the appliance's name in the repository .*, got "\.\.\/x"$/);
    appliance({ repo: 'https://repo.example/' }, /^guests\[0\]\.appliance\.name: .*, got undefined$/);
    appliance({ repo: 'https://repo.example/', name: 'mini', version: 'a b' }, /^guests\[0\]\.appliance\.version: must be one of the appliance's versions/);
    appliance({ repo: 'https://repo.example/', name: 'mini', sha256: SHA }, 'guests[0].appliance.sha256: is not a field of a "repo" appliance (fields: repo, name, version)');
  });

  it('name local images by an id of up to 64 letters, digits, _ and -', () => {
    appliance({ local: 'a b' }, 'guests[0].appliance.local: must be a local image id (1 to 64 of A-Z, a-z, 0-9, _, -), got "a b"');
    appliance({ local: 7 }, /^guests\[0\]\.appliance\.local: must be a local image id .*, got 7$/);
  });
});

describe('hostile JSON', () => {
  it('reports "__proto__" and friends as unknown fields and never touches prototypes', () => {
    const text = '{"version":1,"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},"guests":[{"appliance":{"builtin":"base","__proto__":{"x":1}},"__proto__":{"memoryMiB":1}}]}';
    const e = refusal(JSON.parse(text));
    assert.deepEqual(e.problems, [
      '__proto__: is not a field of a scenario (fields: version, title, notes, view, guests)',
      'constructor: is not a field of a scenario (fields: version, title, notes, view, guests)',
      'guests[0].__proto__: is not a field of a guest (fields: name, appliance, kernel, state, bios, drives, memoryMiB, harts, cmdline, time, consoleSize, script)',
      'guests[0].appliance.__proto__: is not a field of a "builtin" appliance (fields: builtin)',
    ]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  it('reads only own fields, so an inherited "version" or "guests" does not count', () => {
    const inherited = Object.create({ version: 1, guests: [guest()] }) as object;
    problems(inherited, ['scenario: must be a JSON object, got an object that is not plain JSON data']);
    const nullProto = Object.assign(Object.create(null) as object, { version: 1, guests: [guest()] });
    assert.equal(Object.getPrototypeOf(validateScenario(nullProto)), Object.prototype);
  });
});

describe('a kernel guest (bios none)', () => {
  const kernel = { url: 'https://example.org/kernel', sha256: SHA };
  const kernelGuest = (extra: Record<string, unknown> = {}) => ({ kernel, ...extra });
  const kernelProblem = (extra: Record<string, unknown>, ...expected: (string | RegExp)[]) => problems(scenario({}, [kernelGuest(extra)]), expected);

  it('comes back with bios "none", its drives (format raw, writable by default) and the guest defaults', () => {
    const s = validateScenario(scenario({}, [kernelGuest({ drives: [{ url: 'http://127.0.0.1:8000/fs.img', sha256: SHA }, { url: 'https://example.org/d.vhd', sha256: SHA, format: 'vhd', readonly: true }] })]));
    assert.deepEqual(s.guests[0], {
      kernel,
      bios: 'none',
      drives: [
        { url: 'http://127.0.0.1:8000/fs.img', sha256: SHA, format: 'raw', readonly: false },
        { url: 'https://example.org/d.vhd', sha256: SHA, format: 'vhd', readonly: true },
      ],
      ...GUEST_DEFAULTS,
    });
  });

  it('names every problem: both appliance and kernel, firmware, drives, a console size, bad files', () => {
    problems(scenario({}, [{ kernel, appliance: { builtin: 'base' } }]), [/guests\[0\]\.kernel: and appliance exclude each other/]);
    kernelProblem({ bios: 'opensbi' }, /guests\[0\]\.bios: must be "none"/);
    kernelProblem({ consoleSize: { cols: 80, rows: 24 } }, /consoleSize: is for appliance guests/);
    kernelProblem({ drives: [{ url: 'ftp://x/y', sha256: SHA, format: 'qcow2' }] }, /drives\[0\]\.url: .*must use https/, /drives\[0\]\.format: must be "raw" or "vhd"/);
    kernelProblem({ drives: Array.from({ length: 9 }, () => ({ url: 'https://e.org/d', sha256: SHA })) }, /drives: has 9 drives, the limit is 8/);
    kernelProblem({ drives: [{ url: 'https://e.org/d', sha256: 'AB', readonly: 'yes', extra: 1 }] }, /drives\[0\]\.extra: is not a field of a drive/, /sha256: must be 64 lowercase hex digits/, /readonly: must be true or false/);
    problems(scenario({}, [{ kernel: { url: 'https://e.org/k' } }]), [/guests\[0\]\.kernel\.sha256: is missing/]);
    guestProblem({ bios: 'none' }, /guests\[0\]\.bios: is for a kernel guest/);
    guestProblem({ drives: [] }, /guests\[0\]\.drives: is for a kernel guest/);
  });
});

describe('a state guest (a saved machine resumed)', () => {
  const state = { url: 'https://example.org/prompt.state', sha256: SHA };

  it('comes back with its state, name and script; the rest is the state\'s', () => {
    const s = validateScenario(scenario({}, [{ name: 'demo', state, script: [{ send: 'ls\n' }] }]));
    assert.deepEqual(s.guests[0], { name: 'demo', state, ...GUEST_DEFAULTS, script: [{ send: 'ls\n' }] });
    assert.equal(guestName(validateScenario(scenario({}, [guest(), { state }])).guests, 1), 'state-2');
  });

  it('is exactly one of appliance, kernel or state, and leaves the machine to the state', () => {
    problems(scenario({}, [{ state, appliance: { builtin: 'base' } }]), [/guests\[0\]\.state: and appliance exclude each other: a guest has exactly one of appliance, kernel or state/]);
    problems(scenario({}, [{ state, kernel: state }]), [/guests\[0\]\.state: and kernel exclude each other/]);
    problems(scenario({}, [{ state, memoryMiB: 256, time: 'deterministic', consoleSize: { cols: 80, rows: 24 } }]), [
      'guests[0].memoryMiB: comes from the state of a "state" guest; remove it',
      'guests[0].time: comes from the state of a "state" guest; remove it',
      'guests[0].consoleSize: comes from the state of a "state" guest; remove it',
    ]);
    problems(scenario({}, [{ state: { url: 'ftp://e.org/s', sha256: 'AB', size: 1 } }]), [
      /guests\[0\]\.state\.size: is not a field of a state/,
      /guests\[0\]\.state\.url: .*must use https/,
      /guests\[0\]\.state\.sha256: must be 64 lowercase hex digits/,
    ]);
    problems(scenario({}, [{ state: { url: 'https://e.org/s' } }]), [/guests\[0\]\.state\.sha256: is missing/]);
    problems(scenario({}, [{ state, script: [{ bogus: 1 }] }]), [/guests\[0\]\.script\[0\]/]);
  });
});

describe('a state guest written out', () => {
  it('round-trips through a link and a file without the placeholders its state decides', async () => {
    const { encodeScenarioUrl, decodeScenarioUrl, scenarioToJson, parseScenarioJson } = await import('../../src/scenario/index.ts');
    const s = validateScenario(scenario({}, [{ state: { url: 'https://example.org/s.state', sha256: SHA }, script: [{ send: 'ls\n' }] }]));
    assert.deepEqual(decodeScenarioUrl(encodeScenarioUrl(s)), s);
    const json = scenarioToJson(s);
    assert.doesNotMatch(json, /memoryMiB|cmdline|"time"/);
    assert.deepEqual(parseScenarioJson(json), s);
  });
});
