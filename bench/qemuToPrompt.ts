// The peer side of every boot benchmark: start qemu-system-riscv64 with the given arguments
// and time it from spawn to the first console output that matches the prompt.
import { spawn } from 'node:child_process';

export type QemuBoot = { ok: true; seconds: number } | { ok: false; seconds: number; note: string };

export function qemuToPrompt(args: string[], prompt: RegExp | string, timeoutMs = 120_000): Promise<QemuBoot> {
  return commandToPrompt('qemu-system-riscv64', ['-nographic', ...args], prompt, 'QEMU', timeoutMs);
}

/**
 * Any command (QEMU, or romvisor's CLI when the figure is the whole command's), timed
 * from spawn to the first console output that matches the prompt; killed there.
 */
export function commandToPrompt(command: string, args: string[], prompt: RegExp | string, who: string, timeoutMs = 120_000, env?: NodeJS.ProcessEnv): Promise<QemuBoot> {
  const seen = (text: string) => (typeof prompt === 'string' ? text.includes(prompt) : prompt.test(text));
  return new Promise((resolve) => {
    const start = performance.now();
    const q = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: env ?? process.env });
    let text = '';
    const timer = setTimeout(() => {
      q.kill('SIGKILL');
      resolve({ ok: false, seconds: timeoutMs / 1000, note: `${who}: no prompt` });
    }, timeoutMs);
    q.stdout.setEncoding('latin1').on('data', (d: string) => {
      text += d;
      if (!seen(text)) return;
      const seconds = (performance.now() - start) / 1000;
      clearTimeout(timer);
      q.kill('SIGKILL');
      resolve({ ok: true, seconds });
    });
    q.on('error', (e) => {
      clearTimeout(timer);
      resolve({ ok: false, seconds: 0, note: `${who}: ${e.message}` });
    });
  });
}
