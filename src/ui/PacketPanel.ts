/**
 * The packet panel (teaching): every frame the server's switch carries, one line each
 * (src/inspect/packetLine.ts: ARP, DHCP, DNS, ICMP, TCP flags with sequence and
 * acknowledgement numbers, HTTP request and status lines), newest at the bottom.
 * Filterable by VM (frames from or to its MAC; the switch's own services as "switch") and
 * by protocol; Freeze stops the list moving so a handshake can be read while frames go on
 * being recorded, shown when it thaws. It keeps the last MAX_LINES frames.
 */
import type { Disposable, Hypervisor } from '../hypervisor/index.ts';
import { PacketDescriber, type PacketLine, type PacketProtocol } from '../inspect/packetLine.ts';
import { formatMac } from '../format/formatMac.ts';
import { macFromName, NET } from '../net/index.ts';
import { h } from './dom.ts';

const MAX_LINES = 2000;
const PROTOCOLS: readonly PacketProtocol[] = ['ARP', 'DHCP', 'DNS', 'ICMP', 'TCP', 'HTTP', 'UDP'];
const SWITCH = 'switch';

interface Row {
  n: number;
  seconds: number;
  line: PacketLine;
}

export class PacketPanel implements Disposable {
  readonly el: HTMLElement;
  private readonly list: HTMLOListElement;
  private readonly vmSelect: HTMLSelectElement;
  private readonly protoSelect: HTMLSelectElement;
  private readonly freezeButton: HTMLButtonElement;
  private readonly count: HTMLElement;
  private readonly rows: Row[] = [];
  private readonly describer = new PacketDescriber();
  private readonly watch: Disposable;
  private frozen = false;
  /** Frames recorded so far, and how many there were when the view froze. */
  private seen = 0;
  private frozenAt = 0;
  private firstUs: number | undefined;

  constructor(private readonly hv: Hypervisor) {
    this.vmSelect = h('select', { class: 'packet-vm', title: 'frames from or to this VM', onchange: () => this.render(), onfocus: () => this.fillVms() }) as HTMLSelectElement;
    this.protoSelect = h('select', { class: 'packet-proto', title: 'frames of this protocol', onchange: () => this.render() }, h('option', { value: '' }, 'all protocols'), ...PROTOCOLS.map((p) => h('option', { value: p }, p))) as HTMLSelectElement;
    this.freezeButton = h('button', { class: 'btn small', 'data-action': 'packets-freeze', onclick: () => this.setFrozen(!this.frozen) }, 'Freeze') as HTMLButtonElement;
    this.count = h('span', { class: 'muted small packet-count' });
    this.list = h('ol', { class: 'packet-list' }) as HTMLOListElement;
    this.el = h(
      'section',
      { class: 'packet-panel' },
      h('div', { class: 'packet-bar' }, h('strong', {}, 'Packets'), this.vmSelect, this.protoSelect, this.freezeButton, h('button', { class: 'btn small', 'data-action': 'packets-clear', onclick: () => this.clear() }, 'Clear'), this.count),
      this.list,
    );
    this.fillVms();
    this.watch = hv.watchPackets((frame, timeUs) => this.add(frame, timeUs));
  }

  private fillVms(): void {
    const keep = this.vmSelect.value;
    const names = this.hv.vms().map((v) => v.record.name);
    this.vmSelect.replaceChildren(h('option', { value: '' }, 'all VMs'), h('option', { value: SWITCH }, 'switch (10.0.2.2, .3)'), ...names.map((n) => h('option', { value: n }, n)));
    this.vmSelect.value = [SWITCH, ...names].includes(keep) ? keep : '';
  }

  private add(frame: Uint8Array, timeUs: number): void {
    this.firstUs ??= timeUs;
    const row = { n: ++this.seen, seconds: (timeUs - this.firstUs) / 1e6, line: this.describer.describe(frame) };
    this.rows.push(row);
    if (this.rows.length > MAX_LINES) this.rows.shift();
    if (this.frozen) {
      this.count.textContent = `${this.seen} frames, frozen (${this.rows.filter((r) => r.n > this.frozenAt).length} new)`;
      return;
    }
    if (this.matches(row.line)) {
      this.list.append(this.item(row));
      while (this.list.childElementCount > MAX_LINES) this.list.firstElementChild!.remove();
      this.list.scrollTop = this.list.scrollHeight;
    }
    this.count.textContent = `${this.seen} frames`;
  }

  private setFrozen(frozen: boolean): void {
    this.frozen = frozen;
    this.frozenAt = this.seen;
    this.freezeButton.textContent = frozen ? 'Thaw' : 'Freeze';
    this.freezeButton.setAttribute('aria-pressed', String(frozen));
    this.el.dataset.frozen = String(frozen);
    if (!frozen) this.render();
  }

  private clear(): void {
    this.rows.length = 0;
    this.list.replaceChildren();
  }

  private matches(line: PacketLine): boolean {
    const proto = this.protoSelect.value as PacketProtocol | '';
    if (proto && !line.protocols.includes(proto)) return false;
    const vm = this.vmSelect.value;
    if (!vm) return true;
    const mac = formatMac(vm === SWITCH ? NET.servicesMac : macFromName(vm));
    return line.srcMac === mac || line.dstMac === mac;
  }

  private item(row: Row): HTMLElement {
    return h('li', { class: `packet proto-${row.line.protocols[row.line.protocols.length - 1]!.toLowerCase()}` }, h('span', { class: 'packet-time' }, row.seconds.toFixed(3)), ' ', row.line.text);
  }

  private render(): void {
    this.list.replaceChildren(...this.rows.filter((r) => this.matches(r.line)).map((r) => this.item(r)));
    this.list.scrollTop = this.list.scrollHeight;
    this.count.textContent = `${this.seen} frames`;
  }

  dispose(): void {
    this.watch.dispose();
    this.el.remove();
  }
}
