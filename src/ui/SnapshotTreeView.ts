/**
 * A VM's snapshots in a dialog from its card: take one (with the running machine or not),
 * the tree of them with where the VM stands now, revert to any, delete any. The tree is
 * the store's (ImageStore.snapshotTree: it follows the disk chain).
 */
import type { SnapshotNode, SnapshotTree } from '../store/index.ts';
import { snapshotParts } from '../store/imageDb.ts';
import type { VmHandle } from '../hypervisor/index.ts';
import { confirmDialog } from './confirmDialog.ts';
import { h } from './dom.ts';

const when = (t: number) => new Date(t).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'medium' });

export class SnapshotTreeView {
  readonly el: HTMLDialogElement;
  private readonly tree: HTMLElement;
  private readonly nameInput: HTMLInputElement;
  private readonly withState: HTMLInputElement;
  private readonly stateRow: HTMLElement;
  private readonly status: HTMLElement;
  /** What went wrong, in the dialog: a toast on the page would sit under its backdrop. */
  private readonly error: HTMLElement;

  constructor(private readonly vm: VmHandle) {
    this.nameInput = h('input', { type: 'text', class: 'snap-name', maxlength: 80, 'aria-label': 'snapshot name', 'data-field': 'snapshot-name' });
    this.withState = h('input', { type: 'checkbox', checked: true, 'data-field': 'snapshot-with-state' });
    this.stateRow = h('label', { class: 'small muted snap-state-opt', title: 'Save the running machine too: reverting to this snapshot resumes it where it was instead of booting' }, this.withState, ' with the running machine');
    this.status = h('p', { class: 'small muted snap-status' });
    this.error = h('p', { class: 'import-error', 'data-snapshot-error': '', hidden: true });
    this.tree = h('div', { class: 'snap-tree', 'data-snapshot-tree': '' });
    const take = h('button', { class: 'btn small primary', type: 'button', 'data-action': 'take-snapshot', onclick: () => void this.take() }, 'Take snapshot');
    this.nameInput.addEventListener('keydown', (e) => {
      if ((e as KeyboardEvent).key === 'Enter') {
        e.preventDefault();
        void this.take();
      }
    });
    this.el = h(
      'dialog',
      { class: 'confirm snapshots', 'data-snapshots-of': vm.record.name },
      h('h3', {}, `Snapshots of ${vm.record.name}`),
      h('div', { class: 'row snap-take' }, this.nameInput, take),
      this.stateRow,
      this.tree,
      this.error,
      this.status,
      h('div', { class: 'row end' }, h('button', { class: 'btn', type: 'button', 'data-action': 'close-snapshots', onclick: () => this.el.close() }, 'Close')),
    );
    this.el.addEventListener('close', () => this.el.remove());
  }

  async open(): Promise<void> {
    document.body.append(this.el);
    this.el.showModal();
    await this.refresh();
    this.nameInput.focus();
  }

  async refresh(): Promise<void> {
    const t = await this.vm.snapshots();
    const live = this.vm.state === 'running' || this.vm.state === 'paused';
    this.stateRow.hidden = !live;
    if (!this.nameInput.value) this.nameInput.value = `Snapshot ${t.nodes.length + 1}`;
    this.tree.replaceChildren(this.render(t));
    this.status.textContent = t.nodes.length
      ? 'Revert stops the VM and throws away its disk since the snapshot it stands on; delete keeps what later snapshots and the current disk need.'
      : 'No snapshots yet. A snapshot freezes the disk as it is now; the VM goes on writing beside it.';
  }

  /** The tree as nested lists: the base at the root, each snapshot under the one it grew from. */
  private render(t: SnapshotTree): HTMLElement {
    const children = new Map<string | undefined, SnapshotNode[]>();
    for (const n of t.nodes) {
      const list = children.get(n.parentSnapshotId) ?? [];
      list.push(n);
      children.set(n.parentSnapshotId, list);
    }
    const here = () => h('li', { class: 'snap-here', 'data-current': '' }, h('span', { class: 'snap-dot' }), h('strong', {}, 'You are here'), h('span', { class: 'muted small' }, ` · ${this.vm.state === 'stopped' && this.vm.suspended ? 'suspended' : this.vm.state}`));
    const level = (parent: string | undefined): HTMLElement | undefined => {
      const items: HTMLElement[] = (children.get(parent) ?? []).map((n) => this.node(n, level(n.id)));
      if (t.current === parent) items.push(here());
      return items.length ? h('ul', {}, ...items) : undefined;
    };
    const appliance = this.vm.appliance?.title ?? this.vm.record.applianceId;
    return h('ul', { class: 'snap-root' }, h('li', { class: 'snap-base' }, h('span', { class: 'snap-dot base' }), h('span', {}, `${appliance} (base image)`), level(undefined)));
  }

  private node(n: SnapshotNode, below: HTMLElement | undefined): HTMLElement {
    return h(
      'li',
      { class: 'snap-node', 'data-snapshot-id': n.id, 'data-snapshot-name': n.name },
      h(
        'div',
        { class: 'snap-row' },
        h('span', { class: `snap-dot${n.withState ? ' state' : ''}` }),
        h('strong', { class: 'snap-label' }, n.name),
        h('span', { class: 'muted small' }, when(n.takenAt)),
        h('span', { class: `badge${n.withState ? ' with-state' : ''}`, title: n.withState ? 'a revert resumes the machine where it was' : 'a revert boots from this disk' }, snapshotParts(n).join(' + ')),
        h('span', { class: 'snap-actions' },
          h('button', { class: 'btn small', type: 'button', 'data-action': 'revert-snapshot', onclick: () => void this.revert(n) }, 'Revert'),
          h('button', { class: 'btn small', type: 'button', 'data-action': 'delete-snapshot', onclick: () => void this.remove(n) }, 'Delete')),
      ),
      below,
    );
  }

  private async run(what: string, action: () => Promise<unknown>): Promise<void> {
    this.error.hidden = true;
    try {
      await action();
    } catch (e) {
      this.error.textContent = `${what}: ${(e as Error).message}`;
      this.error.hidden = false;
    }
  }

  private async take(): Promise<void> {
    const name = this.nameInput.value.trim();
    const withState = !this.stateRow.hidden && this.withState.checked;
    await this.run(`snapshot ${this.vm.record.name}`, async () => {
      await this.vm.takeSnapshot(name, { withState });
      this.nameInput.value = '';
    });
    await this.refresh();
  }

  private async revert(n: SnapshotNode): Promise<void> {
    const live = this.vm.state !== 'stopped' && this.vm.state !== 'crashed';
    const body = `${live ? `${this.vm.record.name} is stopped first. ` : ''}Its disk${n.dataImageId !== undefined ? ' and its data disk (/data) go' : ' goes'} back to the snapshot; what it wrote since the snapshot it stands on is thrown away.${n.withState ? ' Start then resumes the machine as it was.' : ''}`;
    if (!(await confirmDialog(`Revert to "${n.name}"?`, body, 'Revert'))) return;
    await this.run(`revert ${this.vm.record.name}`, () => this.vm.revertToSnapshot(n.id));
    await this.refresh();
  }

  private async remove(n: SnapshotNode): Promise<void> {
    if (!(await confirmDialog(`Delete the snapshot "${n.name}"?`, 'The snapshots after it and the current disk keep what they read from it.', 'Delete'))) return;
    await this.run(`delete snapshot ${n.name}`, () => this.vm.deleteSnapshot(n.id));
    await this.refresh();
  }
}
