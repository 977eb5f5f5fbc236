/**
 * Share: the scenario link of what a VM runs — its appliance, memory, kernel arguments and
 * time mode (and its JIT setting as the page's ?jit=), and the console script when a scenario started it — copied to the clipboard
 * and shown with its length. A link carries no disk: whoever opens it boots the pristine
 * appliance, so the dialog says when this VM's disk differs or exists only here.
 */
import type { VmHandle } from '../../hypervisor/index.ts';
import { encodeScenarioUrl, SCENARIO_VERSION, type Scenario, type ScenarioGuest } from '../../scenario/index.ts';
import { formatBytes } from '../../format/formatBytes.ts';
import { h } from '../dom.ts';
import { scenarioGuestOf } from './scenarioOrigin.ts';

export interface SharedVm {
  url: string;
  scenario: Scenario;
  warnings: string[];
}

export async function vmScenarioLink(vm: VmHandle, pageUrl = location.href): Promise<SharedVm> {
  const warnings: string[] = [];
  let guest = scenarioGuestOf(vm);
  if (guest) {
    warnings.push('The link replays the scenario on a fresh copy of the appliance; what this run changed on its disk is not in it.');
  } else {
    const a = vm.appliance;
    if (!a) throw new Error(`VM ${vm.record.name}: its appliance "${vm.record.applianceId}" is no longer in the catalog`);
    guest = {
      appliance: a.origin === 'builtin' ? { builtin: a.name } : { local: a.imageId ?? a.id },
      memoryMiB: vm.record.memoryMiB,
      ...((vm.record.harts ?? 1) > 1 ? { harts: vm.record.harts } : {}),
      cmdline: vm.record.extraArgs ?? '',
      time: 'realtime',
    } satisfies ScenarioGuest;
    if (a.origin !== 'builtin') {
      warnings.push(`"${a.title}" is an image in this browser's store only: the link opens nowhere else. Share the VHD too, or host it and use a {url, sha256} appliance.`);
    }
    const disk = await vm.diskState().catch(() => undefined);
    if (disk?.modified) {
      warnings.push(`This VM's disk is modified (+${formatBytes(disk.changedBytes)}); the link does not carry it, whoever opens it gets the pristine appliance.`);
    }
  }
  const title = `${vm.appliance?.title ?? vm.record.applianceId} · ${vm.record.memoryMiB} MiB`;
  const scenario: Scenario = { version: SCENARIO_VERSION, title, guests: [guest] };
  return { url: encodeScenarioUrl(scenario, withJit(pageUrl, vm.record.jit)), scenario, warnings };
}

/**
 * The VM's own JIT setting rides as the page's `?jit=`, not in the scenario: the JIT is the
 * host's way of running the guest (the guest does the same either way), as it is the CLI's
 * `--jit` beside a scenario file. Without a setting of its own the page's address is kept.
 */
function withJit(pageUrl: string, jit: string | undefined): string {
  if (jit === undefined) return pageUrl;
  const url = new URL(pageUrl);
  url.searchParams.set('jit', jit);
  return url.href;
}

/** Copies the link and shows it, its length and the warnings in a dialog. */
export async function shareVm(vm: VmHandle): Promise<void> {
  const shared = await vmScenarioLink(vm);
  let copied = false;
  try {
    await navigator.clipboard.writeText(shared.url);
    copied = true;
  } catch {
    // No clipboard permission (or no focus): the dialog's field is selected for a manual copy.
  }
  const field = h('textarea', { class: 'share-url mono', readonly: true, rows: 4, 'aria-label': 'Scenario link', 'data-share-url': '' });
  field.value = shared.url;
  const copy = h('button', { class: 'btn', type: 'button', onclick: () => {
    field.select();
    void navigator.clipboard?.writeText(shared.url).then(() => (copy.textContent = 'Copied'), () => {});
  } }, 'Copy');
  const dialog = h(
    'dialog',
    { class: 'confirm share-dialog', 'data-share-dialog': '' },
    h(
      'form',
      { method: 'dialog' },
      h('h3', {}, `Share ${vm.record.name}`),
      h('p', {}, copied ? 'The link is on your clipboard. ' : 'Copy the link below. ', h('span', { 'data-share-length': '' }, `${shared.url.length} characters`), '.'),
      field,
      shared.warnings.length ? h('ul', { class: 'share-warnings' }, ...shared.warnings.map((w) => h('li', {}, w))) : undefined,
      h('div', { class: 'row end' }, copy, h('button', { class: 'btn primary', value: 'close' }, 'Close')),
    ),
  );
  dialog.addEventListener('close', () => dialog.remove());
  document.body.append(dialog);
  dialog.showModal();
  field.select();
}
