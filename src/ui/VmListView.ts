/** The VM table: every stored VM at a glance; a row's name jumps to its console. */
import { formatUptime, type Disposable, type Hypervisor, type VmHandle } from '../hypervisor/index.ts';
import { h } from './dom.ts';

export class VmListView implements Disposable {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;

  constructor(
    private readonly hv: Hypervisor,
    private readonly focusVm: (vm: VmHandle) => void,
    private readonly run: (what: string, action: () => Promise<unknown>) => Promise<void>,
  ) {
    this.body = h('tbody');
    this.el = h(
      'div',
      { class: 'vm-list-wrap' },
      h('table', { class: 'vm-list' }, h('thead', {}, h('tr', {}, h('th', {}, 'VM'), h('th', {}, 'Appliance'), h('th', {}, 'State'), h('th', { class: 'num' }, 'MIPS'), h('th', { class: 'num' }, 'Uptime'))), this.body),
    );
    this.render();
  }

  render(): void {
    const vms = this.hv.vms();
    if (vms.length === 0) {
      // Quick start: one click makes a VM of an appliance and powers it on.
      const quick = this.hv.appliances().slice(0, 4).map((a) =>
        h('button', { class: 'btn small', 'data-quick-start': a.name, onclick: () => void this.run(`quick start ${a.name}`, async () => {
          const vm = await this.hv.createVm(a.id);
          await vm.start();
          this.focusVm(vm);
        }) }, `▶ ${a.title}`),
      );
      this.body.replaceChildren(
        h('tr', {}, h('td', { colspan: 5, class: 'muted empty' },
          h('div', {}, 'No VMs yet. Press “New VM” on an appliance, type ', h('code', {}, 'new base'), ' in the console, or start one now:'),
          h('div', { class: 'quick-start' }, ...quick),
        )),
      );
      return;
    }
    this.body.replaceChildren(...vms.map((vm) => this.row(vm)));
  }

  private row(vm: VmHandle): HTMLElement {
    const st = vm.stats;
    const running = vm.state === 'running';
    return h(
      'tr',
      { 'data-vm-row': vm.record.name, class: `state-${vm.state}` },
      h('td', {}, h('button', { class: 'link', onclick: () => this.focusVm(vm) }, vm.record.name)),
      h('td', { class: 'muted' }, vm.appliance?.name ?? '?'),
      h('td', {}, h('span', { class: `badge state-${vm.state}` }, vm.state === 'stopped' && vm.suspended ? 'suspended' : vm.state)),
      h('td', { class: 'num' }, st && running ? st.mips.toFixed(1) : '—'),
      h('td', { class: 'num' }, st && vm.state !== 'stopped' ? formatUptime(st.uptimeMs) : '—'),
    );
  }

  dispose(): void {
    this.el.remove();
  }
}
