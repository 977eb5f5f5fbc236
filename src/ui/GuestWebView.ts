/**
 * "Open port…" on a VM card: the guest's web server (busybox httpd serving /www) shown in
 * the page, fetched through the server switch's host endpoint (Hypervisor.guestHttp).
 *
 * A guest's page must never run with the playground's origin: it could open every disk in
 * IndexedDB and script the page. So it is shown in an iframe sandboxed WITHOUT
 * allow-same-origin (its origin is opaque: no storage, no access to this document): the
 * frame loads public/guest-frame.html, which asks for the page by message and puts it
 * in place of its own (srcdoc would inherit the playground's policy, which forbids the inline
 * scripts guest pages have). Its Content-Security-Policy lets it load nothing from
 * anywhere (`default-src 'none'`): images, style sheets and scripts the page names
 * are fetched here from the guest and put in as data: URLs and inline text, parsed first
 * by DOMParser (inert: nothing runs or loads while it is rewritten). The frame turns
 * clicks on links and form submissions into messages; this view
 * answers them by fetching the next page from the guest, and only from the guest: a link
 * to anywhere else is not followed.
 */
import type { Disposable, Hypervisor, VmHandle } from '../hypervisor/index.ts';
import type { HttpResponse } from '../net/host/httpRequest.ts';
import { h } from './dom.ts';

/** Subresources (images, style sheets, scripts) one page may pull in. */
const MAX_SUBRESOURCES = 32;
const MAX_REDIRECTS = 5;
const CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline' data:; script-src 'unsafe-inline'; form-action 'none'";

export class GuestWebView implements Disposable {
  readonly el: HTMLElement;
  private readonly frame: HTMLIFrameElement;
  private readonly address: HTMLInputElement;
  private readonly portInput: HTMLInputElement;
  private readonly status: HTMLElement;
  private path = '/';
  private loading = 0;
  /** The document the frame asks for once it has loaded. */
  private pending: string | undefined;
  private reloads = 0;
  private readonly onMessage = (e: MessageEvent) => this.message(e);

  constructor(
    private readonly vm: VmHandle,
    private readonly hv: Hypervisor,
    private port: number,
    onClose: () => void,
  ) {
    this.frame = h('iframe', { class: 'guest-web-frame', title: `${vm.record.name} port ${port}` }) as HTMLIFrameElement;
    // No allow-same-origin: the guest's page gets an opaque origin.
    this.frame.setAttribute('sandbox', 'allow-scripts allow-forms');
    this.frame.setAttribute('referrerpolicy', 'no-referrer');
    this.portInput = h('input', { class: 'guest-web-port', type: 'number', min: '1', max: '65535', value: String(port), title: 'guest TCP port' }) as HTMLInputElement;
    this.address = h('input', { class: 'guest-web-path', value: '/', title: 'path on the guest', spellcheck: 'false' }) as HTMLInputElement;
    this.status = h('span', { class: 'guest-web-status muted small', 'data-guest-web-status': '' });
    const go = () => {
      const p = Number(this.portInput.value);
      if (Number.isInteger(p) && p >= 1 && p <= 65535) this.port = p;
      this.el.dataset.port = String(this.port);
      void this.open(this.address.value || '/');
    };
    this.address.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') go();
    });
    this.el = h(
      'section',
      { class: 'guest-web', 'data-port': String(port) },
      h(
        'div',
        { class: 'guest-web-bar' },
        h('span', { class: 'small' }, `http://${vm.record.name}:`),
        this.portInput,
        this.address,
        h('button', { class: 'btn small', 'data-action': 'guest-web-go', onclick: go }, 'Go'),
        h('button', { class: 'btn small', 'data-action': 'guest-web-reload', onclick: () => void this.open(this.path) }, 'Reload'),
        h('button', { class: 'btn small', 'data-action': 'guest-web-close', title: 'Close the view', onclick: onClose }, '×'),
        this.status,
      ),
      this.frame,
    );
    window.addEventListener('message', this.onMessage);
    void this.open('/');
  }

  /** Fetches `path` (GET, or POST with a form body) from the guest and shows it. */
  async open(path: string, post?: string): Promise<void> {
    const ticket = ++this.loading;
    this.status.textContent = 'loading…';
    try {
      let res: HttpResponse | undefined;
      let method: 'GET' | 'POST' = post !== undefined ? 'POST' : 'GET';
      let body = post !== undefined ? new TextEncoder().encode(post) : undefined;
      for (let hops = 0; ; hops++) {
        res = await this.hv.guestHttp(this.vm.record.name, this.port, { method, path, body });
        const location = res.headers.find(([n]) => n === 'location')?.[1];
        if (res.status < 300 || res.status > 399 || !location || hops >= MAX_REDIRECTS) break;
        const next = this.onGuest(location);
        if (next === undefined) break;
        path = next;
        method = 'GET';
        body = undefined;
      }
      if (ticket !== this.loading) return;
      this.path = path;
      this.address.value = path;
      this.show(await this.render(res!));
      this.status.textContent = `${res!.status} ${res!.statusText}`;
    } catch (e) {
      if (ticket !== this.loading) return;
      this.status.textContent = `error: ${(e as Error).message}`;
      this.show('');
    }
  }

  /** Loads the frame anew (a fresh document each page); it asks for `html` when ready. */
  private show(html: string): void {
    this.pending = html;
    this.frame.src = new URL(`guest-frame.html?${++this.reloads}`, document.baseURI).href;
  }

  /** The path of `href` when it points at this guest's server (relative, or to its own name and port). */
  private onGuest(href: string): string | undefined {
    let url: URL;
    try {
      url = new URL(href, `http://${this.vm.record.name}:${this.port}${this.path}`);
    } catch {
      return undefined;
    }
    if (url.protocol !== 'http:' || url.hostname.toLowerCase() !== this.vm.record.name.toLowerCase() || Number(url.port || 80) !== this.port) return undefined;
    return url.pathname + url.search;
  }

  private message(e: MessageEvent): void {
    // Only the frame this view made; its origin is opaque ("null"), so the source is the check.
    if (e.source !== this.frame.contentWindow) return;
    const m = e.data as { romvisorGuestWeb?: unknown; kind?: unknown; href?: unknown; action?: unknown; method?: unknown; data?: unknown };
    if (typeof m !== 'object' || m === null || m.romvisorGuestWeb !== true) return;
    if (m.kind === 'ready' && this.pending !== undefined) {
      this.frame.contentWindow!.postMessage({ romvisorGuestPage: this.pending }, '*');
      this.pending = undefined;
    } else if (m.kind === 'shown') {
      // What tests wait for: the page is in the frame, not only fetched.
      this.el.dataset.loaded = this.path;
    } else if (m.kind === 'navigate' && typeof m.href === 'string') {
      const path = this.onGuest(m.href);
      if (path !== undefined) void this.open(path);
      else this.status.textContent = `not followed (not on ${this.vm.record.name}): ${m.href.slice(0, 200)}`;
    } else if (m.kind === 'submit' && typeof m.action === 'string' && typeof m.data === 'string') {
      const path = this.onGuest(m.action || this.path);
      if (path === undefined) return;
      if (m.method === 'post') void this.open(path, m.data);
      else void this.open(`${path.split('?')[0]}?${m.data}`);
    }
  }

  /** The document the frame shows for a response. */
  private async render(res: HttpResponse): Promise<string> {
    const type = (res.headers.find(([n]) => n === 'content-type')?.[1] ?? 'text/html').toLowerCase();
    const doc = new DOMParser().parseFromString('<!doctype html><html><head></head><body></body></html>', 'text/html');
    if (type.startsWith('image/')) {
      const img = doc.createElement('img');
      img.src = dataUrl(type, res.body);
      doc.body.append(img);
    } else if (!type.startsWith('text/html')) {
      const pre = doc.createElement('pre');
      pre.textContent = new TextDecoder().decode(res.body);
      doc.body.append(pre);
    } else {
      const page = new DOMParser().parseFromString(new TextDecoder().decode(res.body), 'text/html');
      await this.inline(page);
      doc.replaceChild(doc.adoptNode(page.documentElement), doc.documentElement);
    }
    const meta = doc.createElement('meta');
    meta.httpEquiv = 'Content-Security-Policy';
    meta.content = CSP;
    doc.head.prepend(meta);
    return `<!doctype html>\n${doc.documentElement.outerHTML}`;
  }

  /** Images, style sheets and scripts the page names, fetched from the guest and put in. */
  private async inline(page: Document): Promise<void> {
    const wanted = [...page.querySelectorAll('img[src], link[rel~="stylesheet"][href], script[src]')].slice(0, MAX_SUBRESOURCES);
    for (const el of wanted) {
      const attr = el.tagName === 'LINK' ? 'href' : 'src';
      const path = this.onGuest(el.getAttribute(attr) ?? '');
      el.removeAttribute(attr);
      if (path === undefined) continue;
      try {
        const r = await this.hv.guestHttp(this.vm.record.name, this.port, { path });
        if (r.status !== 200) continue;
        const type = r.headers.find(([n]) => n === 'content-type')?.[1] ?? 'application/octet-stream';
        if (el.tagName === 'IMG') el.setAttribute('src', dataUrl(type, r.body));
        else if (el.tagName === 'SCRIPT') el.textContent = new TextDecoder().decode(r.body);
        else {
          const style = page.createElement('style');
          style.textContent = new TextDecoder().decode(r.body);
          el.replaceWith(style);
        }
      } catch {
        // a missing image is shown as missing
      }
    }
  }

  dispose(): void {
    window.removeEventListener('message', this.onMessage);
    this.loading++;
    this.el.remove();
  }
}

function dataUrl(type: string, bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return `data:${type.replace(/[^\w/+.;=-]/g, '')};base64,${btoa(bin)}`;
}
