// Lazy remote appliances: the same appliance (the project's kernel, busybox on a 64 MiB ext4
// root, made by `romvisor appliance create`) booted to its prompt by `romvisor boot --repo`
// from a local HTTP server (Range) with an empty chunk store, again with the store filled,
// and from the local VHD file; QEMU boots the same VHD from the file and, with its curl
// block driver (Debian's qemu-block-extra), from the same server. Both sides are timed from
// spawn to the prompt; the server counts the bytes each one fetched.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { buildRepository } from '../../src/repo/node.ts';
import { makeRepoAppliance } from '../../tests/repo/repoFixture.ts';
import { startRepoServer, type RepoServer } from '../../tests/repo/repoServer.ts';
import { commandToPrompt, qemuToPrompt, type QemuBoot } from '../qemuToPrompt.ts';
import type { BenchGroup, BenchRow } from '../Types.ts';

const repo = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const PROMPT = '~ # ';
/** QEMU has no virtio console here: its serial port instead, the rest as appliance.json says. */
const QEMU_CMDLINE = 'console=ttyS0 root=/dev/vda2 rw rootwait init=/init';
const VHD = 'mini-1.vhd';

export const remoteBootGroup: BenchGroup = {
  name: 'remote-boot',
  description: 'appliance (64 MiB root) to its prompt: romvisor boot --repo over local HTTP Range (cold and warm chunk store) and from the local VHD; QEMU from the file and over HTTP (curl driver); bytes fetched',
  async run(log) {
    const work = mkdtempSync(join(tmpdir(), 'romvisor-bench-remote-'));
    let server: RepoServer | undefined;
    try {
      const repoDir = join(work, 'repo');
      mkdirSync(repoDir);
      const vhd = await makeRepoAppliance(repoDir, 'mini', '1');
      await buildRepository(repoDir, { name: 'bench' });
      const size = readFileSync(vhd).length;
      server = await startRepoServer(repoDir);
      const kernel = join(work, 'Image');
      writeFileSync(kernel, gunzipSync(readFileSync(repo('appliances/boot/Image.gz'))));
      const s = server;
      const fetched = () => s.sent.get(`/${VHD}`) ?? 0;
      const cli = (args: string[], dataHome: string) => commandToPrompt(process.execPath, [repo('bin/romvisor.mjs'), 'boot', ...args], PROMPT, 'romvisor', 120_000, { ...process.env, XDG_DATA_HOME: dataHome });
      const qemu = (drive: string) =>
        qemuToPrompt(['-M', 'virt', '-m', '64M', '-bios', repo('roms/opensbi/fw_dynamic.bin'), '-kernel', kernel, '-append', QEMU_CMDLINE, '-drive', `${drive},format=vpc,if=none,id=d0`, '-device', 'virtio-blk-device,drive=d0', '-snapshot'], PROMPT);

      /** Best of three, each run's bytes fetched counted by the server; `fresh` empties the chunk store first. */
      const measure = async (what: string, run: (i: number) => Promise<QemuBoot>) => {
        let best: (QemuBoot & { bytes: number; requests: number }) | undefined;
        for (let i = 0; i < 3; i++) {
          s.reset();
          const r = await run(i);
          const m = { ...r, bytes: fetched(), requests: s.requests.filter((q) => q.path === `/${VHD}`).length };
          log(`remote-boot: ${what}: ${r.ok ? `${r.seconds.toFixed(2)} s` : r.note}, fetched ${m.bytes} bytes in ${m.requests} requests`);
          if (!r.ok) return m;
          if (!best || m.seconds < best.seconds) best = m;
        }
        return best!;
      };
      const lazy = await measure('romvisor --repo, empty store', (i) => cli(['--repo', s.url, 'mini', '--snapshot'], join(work, `cold-${i}`)));
      const warmHome = join(work, 'warm');
      await cli(['--repo', s.url, 'mini', '--snapshot'], warmHome);
      const warm = await measure('romvisor --repo, filled store', () => cli(['--repo', s.url, 'mini', '--snapshot'], warmHome));
      const local = await measure('romvisor, local VHD', (i) => cli([vhd, '--snapshot'], join(work, `local-${i}`)));
      const qemuFile = await measure('qemu, local VHD', () => qemu(`file=${vhd}`));
      const qemuHttp = await measure('qemu, curl over HTTP', () => qemu(`file.driver=http,file.url=${s.url}${VHD}`));

      const row = (name: string, r: typeof lazy, q: typeof lazy, note: string): BenchRow => ({
        group: 'remote-boot',
        name,
        romvisorSeconds: r.ok ? r.seconds : undefined,
        qemuSeconds: q.ok ? q.seconds : undefined,
        ratio: r.ok && q.ok ? r.seconds / q.seconds : undefined,
        outputsMatch: r.ok && q.ok,
        note: !r.ok ? r.note : !q.ok ? q.note : note,
      });
      const pct = (n: number) => `${((n / size) * 100).toFixed(1)}%`;
      return [
        row('lazy-http-to-prompt (empty store) vs qemu curl', lazy, qemuHttp, `romvisor fetched ${lazy.bytes} bytes (${pct(lazy.bytes)} of the ${size}-byte VHD) in ${lazy.requests} requests; qemu curl fetched ${qemuHttp.bytes} (${pct(qemuHttp.bytes)}) in ${qemuHttp.requests}`),
        row('lazy-http-to-prompt (filled store) vs qemu file', warm, qemuFile, `romvisor fetched ${warm.bytes} bytes of the VHD`),
        row('local-vhd-to-prompt vs qemu file', local, qemuFile, `lazy (empty store) / local romvisor: ${lazy.ok && local.ok ? (lazy.seconds / local.seconds).toFixed(2) : '-'}x`),
      ];
    } finally {
      await server?.close();
      rmSync(work, { recursive: true, force: true });
    }
  },
};
