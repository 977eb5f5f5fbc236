/** The server's front panel: brand plate, status LEDs, a small readout, the power button. */
import type { Disposable } from '../hypervisor/index.ts';
import { h } from './dom.ts';

type PowerState = 'off' | 'post' | 'on' | 'halted';

export class ChassisView implements Disposable {
  readonly el: HTMLElement;
  readonly powerButton: HTMLButtonElement;
  private readonly leds: Record<'power' | 'disk' | 'vms', HTMLElement>;
  private readonly readout: HTMLElement;
  private diskTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(onPower: () => void) {
    const led = (name: string, label: string) => h('span', { class: 'led-wrap' }, h('span', { class: 'led', 'data-led': name }), h('span', { class: 'led-label' }, label));
    const power = led('power', 'PWR');
    const disk = led('disk', 'HDD');
    const vms = led('vms', 'VM');
    this.leds = { power: power.firstElementChild as HTMLElement, disk: disk.firstElementChild as HTMLElement, vms: vms.firstElementChild as HTMLElement };
    this.readout = h('div', { class: 'lcd', 'aria-live': 'polite' }, 'STANDBY');
    this.powerButton = h('button', { class: 'power-button', id: 'power', 'aria-label': 'Power', title: 'Power', onclick: onPower }, h('span', { class: 'power-glyph', 'aria-hidden': 'true' }));
    this.el = h(
      'section',
      { class: 'chassis', 'aria-label': 'Virtual server' },
      h('div', { class: 'ear' }),
      h(
        'div',
        { class: 'face' },
        h('div', { class: 'plate' }, h('div', { class: 'plate-brand' }, 'ROMVISOR'), h('div', { class: 'plate-model' }, 'RV-1 · hypervisor in ROM · RISC-V RV64GC guests')),
        h('div', { class: 'bays' }, ...Array.from({ length: 4 }, (_, i) => h('div', { class: 'bay' }, h('span', { class: 'bay-led', 'data-bay': String(i) })))),
        h('div', { class: 'status' }, h('div', { class: 'leds' }, power, disk, vms), this.readout),
        this.powerButton,
      ),
      h('div', { class: 'ear' }),
    );
  }

  setPower(state: PowerState): void {
    this.el.dataset.power = state;
    this.leds.power.dataset.on = state === 'off' ? '' : state === 'halted' ? 'red' : state === 'post' ? 'amber' : 'green';
    if (state === 'off') this.setReadout('STANDBY');
  }

  setReadout(text: string): void {
    this.readout.textContent = text;
  }

  /** Lights the VM LED and the first bays for the running VMs. */
  setRunning(count: number): void {
    this.leds.vms.dataset.on = count ? 'green' : '';
    this.el.querySelectorAll<HTMLElement>('.bay-led').forEach((b, i) => (b.dataset.on = i < count ? 'green' : ''));
  }

  /** A short blink of the disk LED. */
  diskActivity(): void {
    this.leds.disk.dataset.on = 'amber';
    clearTimeout(this.diskTimer);
    this.diskTimer = setTimeout(() => (this.leds.disk.dataset.on = ''), 150);
  }

  dispose(): void {
    clearTimeout(this.diskTimer);
    this.el.remove();
  }
}
