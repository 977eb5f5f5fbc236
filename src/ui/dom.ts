/** A tiny element builder: `h('button', { class: 'x', onclick }, 'label')`. */

type Attrs = Record<string, string | number | boolean | undefined | ((e: Event) => void)>;
type Child = Node | string | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.replace(/^on/, ''), v as EventListener);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) if (c !== undefined && c !== false) el.append(c);
  return el;
}

/** Saves a blob under `fileName` through the browser's download. */
export function download(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: fileName });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * Makes `target` take files dragged from the desktop: `overClass` while files hover over it,
 * `onFiles` with what was dropped. Drags of anything but files (text, links) are left to the
 * browser.
 */
export function onFileDrop(target: HTMLElement, overClass: string, onFiles: (files: File[]) => void): void {
  const carriesFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;
  for (const type of ['dragenter', 'dragover'] as const) {
    target.addEventListener(type, (e) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      target.classList.add(overClass);
    });
  }
  target.addEventListener('dragleave', () => target.classList.remove(overClass));
  target.addEventListener('drop', (e) => {
    target.classList.remove(overClass);
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length === 0) return;
    e.preventDefault();
    onFiles(files);
  });
}
