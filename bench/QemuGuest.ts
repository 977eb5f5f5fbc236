// A base appliance under qemu-system-riscv64 with its console on pipes, for the network
// benchmarks (several guests joined by a QEMU netdev): typing once the prompt is up,
// setting a fixed address, waiting for output; and running romvisor's side to its end.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repo = (p: string) => fileURLToPath(new URL(`../${p}`, import.meta.url));
export const PROMPT = '~ # ';
export const TIMEOUT_MS = 600_000;

export class QemuGuest {
  output = '';
  private readonly child;
  private prompted: () => void = () => {};
  readonly atPrompt: Promise<void>;

  /** `base`: qemuBaseApplianceArgs; its card on `netdev` (QEMU's -netdev value, id n0). */
  constructor(base: readonly string[], netdev: string, mac: string) {
    const args = [...base, '-netdev', netdev, '-device', `virtio-net-device,netdev=n0,mac=${mac}`];
    this.atPrompt = new Promise((r) => (this.prompted = r));
    this.child = spawn('qemu-system-riscv64', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('latin1').on('data', (d: string) => {
      this.output += d;
      if (this.output.includes(PROMPT)) this.prompted();
    });
    this.child.stderr.setEncoding('utf8').on('data', (d: string) => (this.output += d));
  }

  type(text: string): void {
    this.child.stdin.write(text);
  }

  /** Sets a fixed address (QEMU's links have no DHCP); resolves once it is set. */
  async setAddress(ip: string): Promise<void> {
    // The init's udhcpc keeps asking in the background; it must not undo the fixed address.
    this.type(`killall udhcpc 2>/dev/null; ip link set eth0 up; ip addr flush dev eth0; ip addr add ${ip}/24 dev eth0; echo up-$((3+4))\n`);
    await this.until('up-7');
  }

  until(text: string): Promise<boolean> {
    return new Promise((resolve) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (this.output.includes(text) || Date.now() - started > TIMEOUT_MS) {
          clearInterval(poll);
          resolve(this.output.includes(text));
        }
      }, 100);
    });
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

/** Runs a command to its end (killed after TIMEOUT_MS); resolves with stdout and stderr together. */
export function runToEnd(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.stdout.setEncoding('latin1').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve(`${out}\ncannot start ${cmd}: ${e.message}`);
    });
  });
}

/** A guest's own lines of a `romvisor boot SCENARIO.json` run (behind `[name] `), prefix removed. */
export function linesOf(out: string, name: string): string {
  return out.split('\n').filter((l) => l.startsWith(`[${name}] `)).map((l) => l.slice(name.length + 3)).join('\n');
}
