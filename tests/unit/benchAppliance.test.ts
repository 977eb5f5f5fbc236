// The appliance-cpu bench group's logic, without booting anything: what a command printed
// (between its newline and the prompt after it), the clock that starts at the newline and
// stops at that prompt, the row's check that every run gave the same right answer, and the
// table's compile cost per translated page.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConsoleGuest } from '../../bench/ConsoleGuest.ts';
import { formatTable } from '../../bench/formatTable.ts';
import { applianceCpuRow, type Measured, type Workload } from '../../bench/groups/applianceCpu.ts';
import { commandOutput, hereDocument, timeCommand } from '../../bench/promptScript.ts';
import type { JitStats } from '../../src/jit/Jit.ts';

/** A shell that echoes what is typed and answers `command` `delayMs` after its newline. */
class FakeShell extends ConsoleGuest {
  private line = '';
  private readonly timers: NodeJS.Timeout[] = [];
  constructor(private readonly command: string, private readonly answer: string, private readonly delayMs: number) {
    super();
  }
  type(text: string): void {
    for (const ch of text) {
      if (ch !== '\n') {
        this.line += ch;
        this.later(1, ch);
        continue;
      }
      const ran = this.line === this.command;
      this.line = '';
      this.later(1, '\r\n');
      this.later(this.delayMs, ran ? `${this.answer}\r\n~ # ` : 'sh: not found\r\n~ # ');
    }
  }
  private later(ms: number, text: string): void {
    this.timers.push(setTimeout(() => this.received(text), ms));
  }
  stop(why: string): void {
    for (const t of this.timers) clearTimeout(t);
    this.end(why);
  }
  async close(): Promise<void> {}
}

describe('commandOutput', () => {
  it('is the lines between the newline and the prompt, carriage returns removed', () => {
    assert.equal(commandOutput('\r\nlua-bench\t196418\t3\r\n~ # '), 'lua-bench\t196418\t3');
    assert.equal(commandOutput('\r\nsqlite-bench|1\r\r\nsqlite-top|2\r\n~ # '), 'sqlite-bench|1\nsqlite-top|2');
    assert.equal(commandOutput('\r\n~ # '), '');
  });
  it('is undefined until the prompt ends the text', () => {
    assert.equal(commandOutput('\r\nhalf an ans'), undefined);
    assert.equal(commandOutput('\r\n~ # echo more\r\n'), undefined);
  });
});

describe('hereDocument', () => {
  it('writes the content verbatim behind a quoted delimiter', () => {
    assert.equal(hereDocument('/tmp/a.lua', 'print("$HOME \\\\")\n'), "cat > /tmp/a.lua <<'BENCH_EOF'\nprint(\"$HOME \\\\\")\nBENCH_EOF\n");
  });
  it('refuses content that would end the document early', () => {
    assert.throws(() => hereDocument('/tmp/a', 'x\nBENCH_EOF\ny'), /BENCH_EOF/);
  });
});

describe('timeCommand', () => {
  it('times from the newline to the prompt after the output and returns the output', async () => {
    const shell = new FakeShell('lua /tmp/b.lua', 'lua-bench\t42', 60);
    const r = await timeCommand(shell, 'lua /tmp/b.lua', 5_000);
    assert.ok(r.ok, JSON.stringify(r));
    assert.equal(r.output, 'lua-bench\t42');
    // The answer came 60 ms after the newline; the typing before it is not counted.
    assert.ok(r.seconds >= 0.05 && r.seconds < 2, String(r.seconds));
  });
  it('says when the guest ends before the prompt comes back', async () => {
    const shell = new FakeShell('run', 'done', 10_000);
    const pending = timeCommand(shell, 'run', 20_000);
    setTimeout(() => shell.stop('qemu ended (SIGKILL)'), 50);
    const r = await pending;
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error : '', /no prompt after "run": qemu ended \(SIGKILL\)/);
  });
});

const WORKLOAD: Workload = { appliance: 'lua', name: 'lua: w', path: '/tmp/w.lua', script: 'print(1)', command: 'lua /tmp/w.lua', answer: /^w \d+$/ };
const runs = (secs: number[], output = 'w 7') => secs.map((seconds) => ({ seconds, output, instructions: 1_000_000_000n, compiles: 2, compileMs: 5, entries: 40_000_000, jitInsns: 900_000_000 }));
const measured = (machine: Measured['machine'], secs: number[], output?: string): Measured => ({ machine, runs: runs(secs, output), bootSeconds: 1 });

describe('applianceCpuRow', () => {
  it('takes the best run of each machine and reads the speed as a fraction of QEMU\'s', () => {
    const row = applianceCpuRow(WORKLOAD, measured('qemu', [1.2, 1, 1.1]), measured('off', [5, 4, 4.5]), measured('auto', [3, 2, 2.5]), '1', '1');
    assert.equal(row.outputsMatch, true);
    assert.equal(row.qemuSeconds, 1);
    assert.equal(row.romvisorSeconds, 4);
    assert.equal(row.jitSeconds, 2);
    assert.equal(row.ratio, 4);
    assert.equal(row.jitRatio, 2);
    assert.match(row.note!, /guest speed vs QEMU: interpreter 0\.25, --jit auto 0\.50/);
    assert.match(row.note!, /translated 6 pages in 15\.0 ms during the runs/);
    assert.match(row.note!, /90% of instructions compiled, 22\.5 per entry/);
  });
  it('fails a row whose runs differ, or whose answer is not the workload\'s', () => {
    const odd = applianceCpuRow(WORKLOAD, measured('qemu', [1, 1, 1]), measured('off', [4, 4, 4], 'w 8'), measured('auto', [2, 2, 2]), '1', '1');
    assert.equal(odd.outputsMatch, false);
    assert.match(odd.note!, /answers differ or are wrong: "w 7" vs "w 8"/);
    const wrong = applianceCpuRow(WORKLOAD, measured('qemu', [1, 1, 1], 'lua: not found'), measured('off', [4, 4, 4], 'lua: not found'), measured('auto', [2, 2, 2], 'lua: not found'), '1', '1');
    assert.equal(wrong.outputsMatch, false);
  });
  it('fails a row with a machine that did not finish its runs, and says why', () => {
    const short: Measured = { machine: 'auto', runs: runs([2]), error: 'romvisor --jit auto: no prompt after "lua /tmp/w.lua"' };
    const row = applianceCpuRow(WORKLOAD, measured('qemu', [1, 1, 1]), measured('off', [4, 4, 4]), short, '1', '1');
    assert.equal(row.outputsMatch, false);
    assert.equal(row.jitSeconds, undefined);
    assert.match(row.note!, /no prompt after/);
  });
});

describe('formatTable', () => {
  it('shows the JIT\'s pages and its compile cost per page', () => {
    const jit = { mode: 'auto', compiles: 4, compileMs: 10, totalBytes: 8192 } as JitStats;
    const table = formatTable([{ group: 'g', name: 'p', outputsMatch: true, jit }]);
    const [header, , row] = table.split('\n');
    const cells = row!.trim().split(/\s{2,}/);
    const at = (name: string) => cells[header!.trim().split(/\s{2,}/).indexOf(name)];
    assert.equal(at('compiles'), '4');
    assert.equal(at('ms/page'), '2.50');
    assert.equal(at('KB/page'), '2.0');
  });
});
