/**
 * A modal yes/no question in a <dialog>; resolves true only on the confirming button.
 * `extra` goes between the text and the buttons (choices the caller reads once it is true).
 */
import { h } from './dom.ts';

export function confirmDialog(title: string, body: string, confirmLabel: string, danger = true, extra?: Node): Promise<boolean> {
  return new Promise((resolve) => {
    const yes = h('button', { class: danger ? 'btn danger' : 'btn primary', value: 'yes', 'data-confirm': 'yes' }, confirmLabel);
    const no = h('button', { class: 'btn', value: 'no', 'data-confirm': 'no' }, 'Cancel');
    const dialog = h('dialog', { class: 'confirm' }, h('form', { method: 'dialog' }, h('h3', {}, title), h('p', {}, body), extra, h('div', { class: 'row end' }, no, yes)));
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'yes');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    no.focus();
  });
}
