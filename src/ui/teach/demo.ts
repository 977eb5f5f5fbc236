/**
 * The teaching views' demo page (teach-demo.html): boots the built-in images in a worker of
 * its own and mounts the boot timeline, the trap panel and the inspector around a plain
 * console, so the views can be seen and tested before the main page integrates them. It
 * also shows how a page wires them: poll timeline()/traps() a few times a second, feed
 * update(), and implement InspectorControls over the worker's proxy.
 */
import * as Comlink from 'comlink';
import coreWasmUrl from '../../../build/wasm/core.wasm?url';
import './teach.css';
import { BootTimeline, InspectorPanel, TrapPanel, type InspectorControls } from './index.ts';
import type { TeachDemoApi, TeachDemoEvent } from './TeachDemoApi.ts';
import { hex } from './displayFormat.ts';

const POLL_MS = 250;
const RAM_BYTES = 128 << 20;

/** The body of `url`, gunzipped when it ends in .gz. */
async function fetchBytes(url: string): Promise<Uint8Array> {
  const r = await fetch(url);
  if (!r.ok || !r.body) throw new Error(`GET ${url}: HTTP ${r.status} ${r.statusText}`);
  const body = url.endsWith('.gz') ? r.body.pipeThrough(new DecompressionStream('gzip')) : r.body;
  return new Uint8Array(await new Response(body).arrayBuffer());
}

/** Console text as a <pre> can show it: no escape sequences, no carriage returns. */
function plain(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}

async function main(): Promise<void> {
  const $ = (id: string) => document.getElementById(id)!;
  const status = $('status');
  const consoleEl = $('console');
  const input = $('console-input') as HTMLInputElement;

  const worker = new Worker(new URL('./teachDemo.worker.ts', import.meta.url), { type: 'module' });
  const api = Comlink.wrap<TeachDemoApi>(worker);

  const timeline = new BootTimeline($('timeline'));
  const traps = new TrapPanel($('traps'));
  const controls: InspectorControls = {
    pause: () => api.pause(),
    resume: () => api.resume(),
    snapshot: () => api.snapshot(),
    step: () => api.step(),
    stepUntilTrap: () => api.stepUntilTrap(),
    runUntilPrivChange: () => api.runUntilPrivChange(),
    setBreakpoint: (pc) => api.setBreakpoint(pc),
    explain: (va, access, priv) => api.explain(va, access, priv),
  };
  const inspector = new InspectorPanel($('inspector'), controls);

  let text = '';
  const decoder = new TextDecoder();
  const debug = { consoleText: () => text, stages: [] as string[], paused: false };
  (globalThis as unknown as { __teach: typeof debug }).__teach = debug;

  const onEvent = (e: TeachDemoEvent): void => {
    switch (e.kind) {
      case 'console':
        text += plain(decoder.decode(e.bytes, { stream: true }));
        consoleEl.textContent = text.slice(-20_000);
        consoleEl.scrollTop = consoleEl.scrollHeight;
        break;
      case 'stage':
        debug.stages.push(e.stage);
        break;
      case 'breakpoint':
        break;
      case 'paused':
        debug.paused = true;
        if (e.reason === 'breakpoint') inspector.update({ paused: true, note: 'Stopped at the breakpoint: the instruction there has not run yet.' });
        else inspector.update({ paused: true });
        status.textContent = 'paused';
        break;
      case 'resumed':
        debug.paused = false;
        inspector.update({ paused: false });
        status.textContent = 'running';
        break;
      case 'stopped':
        status.textContent = e.message;
        break;
    }
  };

  status.textContent = 'loading firmware, kernel and initramfs…';
  const [module, firmware, kernel, initrd] = await Promise.all([
    WebAssembly.compileStreaming(fetch(coreWasmUrl)),
    fetchBytes('roms/opensbi/fw_dynamic.bin'),
    fetchBytes('appliances/boot/Image.gz'),
    fetchBytes('appliances/boot/initramfs.cpio.gz'),
  ]);
  await api.boot({ module, firmware, kernel, initrd, bootargs: 'console=ttyS0', ramBytes: RAM_BYTES }, Comlink.proxy(onEvent));
  status.textContent = 'running';
  inspector.update({ paused: false });

  input.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter') return;
    void api.input(new TextEncoder().encode(`${input.value}\n`));
    input.value = '';
  });

  // The views poll: a few updates a second are smooth to watch and cost the guest little.
  let polling = false;
  setInterval(async () => {
    if (polling) return;
    polling = true;
    try {
      const [t, s] = await Promise.all([api.timeline(), api.traps(64)]);
      timeline.update(t);
      traps.update(s);
      status.dataset.pc = hex(s.instructions);
    } finally {
      polling = false;
    }
  }, POLL_MS);
}

main().catch((e) => {
  document.getElementById('status')!.textContent = `✗ ${(e as Error).message}`;
  throw e;
});
