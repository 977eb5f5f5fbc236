/** Storage use of the image store: a meter of navigator.storage.estimate(), and persist(). */
import type { Disposable, Hypervisor } from '../hypervisor/index.ts';
import { formatBytes } from '../format/formatBytes.ts';
import { h } from './dom.ts';

export class StorageView implements Disposable {
  readonly el: HTMLElement;
  private readonly meter: HTMLElement;
  private readonly label: HTMLElement;
  private readonly persistButton: HTMLButtonElement;
  private readonly persistResult: HTMLElement;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly hv: Hypervisor,
    run: (what: string, action: () => Promise<unknown>) => Promise<void>,
  ) {
    this.meter = h('div', { class: 'meter-fill' });
    this.label = h('div', { class: 'muted small', 'data-storage': '' }, 'measuring…');
    this.persistButton = h('button', { class: 'btn small', 'data-action': 'persist', onclick: () => void run('persist', () => this.persist()) }, 'Keep my data');
    this.persistResult = h('div', { class: 'muted small', 'data-persist-result': '', role: 'status', hidden: true });
    this.el = h('div', { class: 'storage' }, h('div', { class: 'meter' }, this.meter), h('div', { class: 'row between' }, this.label, this.persistButton), this.persistResult);
    this.timer = setInterval(() => void this.refresh(), 10_000);
    void this.refresh();
  }

  /** Asks navigator.storage.persist() and says what came of it, and why when it is a no. */
  private async persist(): Promise<void> {
    const show = (result: 'granted' | 'denied' | 'unsupported', text: string) => {
      this.persistResult.hidden = false;
      this.persistResult.dataset.persistResult = result;
      this.persistResult.textContent = text;
    };
    if (!navigator.storage?.persist) {
      show('unsupported', 'This browser cannot be asked to keep site data (no navigator.storage.persist). Export a disk (.vhd) to keep a copy.');
      return;
    }
    const granted = await this.hv.requestPersistence();
    if (granted) show('granted', 'Granted: the browser keeps this data even when space runs low; only you can clear it.');
    else
      show(
        'denied',
        'Not granted: the browser decides by itself (Chrome by how you use the site: bookmarked, installed or often visited; Firefox asks you, and a dismissed prompt is a no; Safari by recent use). The data stays, but best-effort: it may be evicted when the disk is nearly full. Export a disk (.vhd) to keep a copy.',
      );
    await this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      const u = await this.hv.storageUse();
      const pct = u.quota ? (u.usage / u.quota) * 100 : 0;
      this.meter.style.width = `${Math.max(0.5, Math.min(100, pct))}%`;
      this.meter.classList.toggle('high', pct > 85);
      this.label.textContent = `${formatBytes(u.usage)} of ${formatBytes(u.quota)} (${pct.toFixed(pct < 1 ? 2 : 1)}%) · ${u.persisted ? 'persistent' : 'best-effort'}`;
      this.persistButton.hidden = u.persisted;
    } catch (e) {
      this.label.textContent = `storage estimate unavailable: ${(e as Error).message}`;
    }
  }

  dispose(): void {
    clearInterval(this.timer);
    this.el.remove();
  }
}
