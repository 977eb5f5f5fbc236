// `romvisor boot sqlite --hostfwd ...` as a user runs it: the appliance's init starts busybox
// httpd, and curl on the host fetches its CGI page (a query on the sample database) through
// the switch's host endpoint; a 4 MiB random file the guest serves arrives with the md5 the
// guest computed; a guest port nothing listens on is refused; poweroff ends the run with 0.
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROMVISOR, runCli } from './runCli.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = promisify(execFile);

/** A running `romvisor boot` with its console on a pipe. */
function boot(args: string[]) {
  const child = spawn(process.execPath, [ROMVISOR, 'boot', ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, XDG_DATA_HOME: mkdtempSync(join(tmpdir(), 'romvisor-data-')) },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('latin1').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  const waitFor = async (what: () => RegExpMatchArray | null | boolean, ms: number, label: string) => {
    const end = Date.now() + ms;
    for (;;) {
      const m = what();
      if (m) return m;
      if (Date.now() > end || child.exitCode !== null) throw new Error(`no ${label} in ${ms} ms\n--- stdout tail:\n${stdout.slice(-3000)}\n--- stderr:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return {
    child,
    exited,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    send: (text: string) => child.stdin.write(text),
    waitFor,
  };
}

describe('--hostfwd', () => {
  it('curl on the host fetches the sqlite appliance\'s CGI page and a 4 MiB file; a closed port is refused', { timeout: 600_000 }, async () => {
    const vm = boot(['appliances/sqlite.vhd.gz', '--snapshot', '--hostfwd', 'tcp:127.0.0.1:0-:80', '--hostfwd', 'tcp::0-:8000', '--hostfwd', 'tcp::0-:81']);
    try {
      const ports = (await vm.waitFor(() => vm.stderr.match(/forwarding tcp:127\.0\.0\.1:(\d+) to the guest port 80\n[^]*forwarding tcp:127\.0\.0\.1:(\d+) to the guest port 8000\n/), 60_000, 'forwarding lines')) as RegExpMatchArray;
      await vm.waitFor(() => /httpd: serving \/www on port 80[^]*~ # /.test(vm.stdout), 300_000, 'httpd line and prompt');
      const page = await run('curl', ['-sS', '--max-time', '60', `http://127.0.0.1:${ports[1]}/cgi-bin/planets?moons=10`]);
      assert.match(page.stdout, /query result: 4 planets \(sqlite3 3\.40\.1 on sqlite\)/);
      assert.match(page.stdout, /<TD>Saturn<\/TD>\n<TD>58232\.0<\/TD>\n<TD>146<\/TD>/);
      const index = await fetch(`http://127.0.0.1:${ports[1]}/`);
      assert.equal(index.status, 200);
      assert.match(await index.text(), /<form action="\/cgi-bin\/planets"/);

      // A bigger file, random bytes the guest hashes itself: every byte crossed intact.
      vm.send('dd if=/dev/urandom of=/tmp/r bs=64k count=64 2>/dev/null; md5sum /tmp/r; httpd -p 8000 -h /tmp; echo ready-$((40+2))\n');
      const md5 = (await vm.waitFor(() => vm.stdout.match(/([0-9a-f]{32})  \/tmp\/r[^]*ready-42/), 300_000, 'md5 of /tmp/r')) as RegExpMatchArray;
      const big = await fetch(`http://127.0.0.1:${ports[2]}/r`);
      const body = new Uint8Array(await big.arrayBuffer());
      assert.equal(body.length, 4 * 1024 * 1024);
      assert.equal(createHash('md5').update(body).digest('hex'), md5[1]);

      // Nothing listens on the guest's port 81: its reset reaches curl, and romvisor says why.
      const refusedPort = /forwarding tcp:127\.0\.0\.1:(\d+) to the guest port 81/.exec(vm.stderr)![1];
      await assert.rejects(run('curl', ['-sS', '--max-time', '30', `http://127.0.0.1:${refusedPort}/`]));
      await vm.waitFor(() => /the guest refused a TCP connection to port 81/.test(vm.stderr), 10_000, 'the refusal on stderr');
      vm.send('poweroff\n');
      assert.equal(await vm.exited, 0, vm.stderr);
    } finally {
      vm.child.kill('SIGKILL');
    }
  });

  it('refuses a rule it cannot carry with exit 2, naming the rule', async () => {
    for (const [rule, why] of [
      ['udp::5353-:53', 'only tcp is forwarded'],
      ['tcp::8080', 'not PROTOCOL:HOSTADDR:HOSTPORT-GUESTADDR:GUESTPORT'],
      ['tcp::8080-:0', 'guest port 0 is not 1-65535'],
      ['tcp::99999-:80', 'host port 99999 is not 0-65535'],
      ['tcp::8080-192.168.1.1:80', 'guest "192.168.1.1" is neither an address on 10.0.2.0/24 nor a VM name'],
    ]) {
      const r = await runCli(['boot', 'base', '--hostfwd', rule!]);
      assert.equal(r.code, 2, rule);
      assert.ok(r.stderr.includes(`--hostfwd "${rule}": ${why}`), r.stderr);
    }
  });
});
