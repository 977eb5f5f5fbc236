/**
 * An xterm.js terminal fitted to its box: copy and paste that do not steal Ctrl-C from
 * the guest, and the input events phone keyboards send instead of key events.
 */
import { FitAddon } from '@xterm/addon-fit';
import { Terminal, type ITheme } from '@xterm/xterm';
import type { Disposable } from '../hypervisor/index.ts';

const THEME: ITheme = {
  background: '#0b0f14',
  foreground: '#d7dde4',
  cursor: '#7fd1ff',
  cursorAccent: '#0b0f14',
  selectionBackground: '#2b4a66',
  black: '#0b0f14',
  brightBlack: '#5c6773',
  red: '#ff6b6b',
  green: '#7ee787',
  yellow: '#f2cc60',
  blue: '#79b8ff',
  magenta: '#d2a8ff',
  cyan: '#7fd1ff',
  white: '#d7dde4',
};

interface TerminalViewOptions {
  /** Keystrokes and pastes, as the guest should receive them. */
  onData(data: string): void;
  /** The terminal has a new size (fitted to its box): columns and rows, for the guest's console. */
  onResize?(size: { cols: number; rows: number }): void;
  rows?: number;
  fontSize?: number;
  /**
   * A line feed also returns the carriage, as a host terminal does with QEMU's -nographic
   * (its output processing maps NL to CR-NL): bare kernels print "\n" alone. Off for Linux
   * guests, whose tty sends CR-NL itself and whose full-screen programs mean LF as LF.
   */
  convertEol?: boolean;
}

export class TerminalView implements Disposable {
  readonly term: Terminal;
  private readonly fit = new FitAddon();
  private readonly resizeObserver: ResizeObserver;
  private readonly disposables: Disposable[] = [];
  private fitQueued = false;

  constructor(
    readonly host: HTMLElement,
    opts: TerminalViewOptions,
  ) {
    this.term = new Terminal({
      theme: THEME,
      fontFamily: '"JetBrains Mono", "Cascadia Mono", "DejaVu Sans Mono", Menlo, Consolas, monospace',
      fontSize: opts.fontSize ?? 13,
      rows: opts.rows ?? 24,
      cursorBlink: true,
      convertEol: opts.convertEol ?? false,
      scrollback: 5000,
      macOptionIsMeta: true,
      // The guest's bytes reach this terminal as they are, so what a sequence may do beyond
      // the screen is off: no proposed APIs; OSC 8 hyperlinks are shown but a click opens
      // nothing (without a handler xterm.js would offer to navigate); no window reports or
      // manipulation (CSI t). OSC 52 (write the clipboard) does nothing, as no
      // ClipboardAddon is loaded: keep it that way. Title changes (OSC 0/2) are not listened to.
      allowProposedApi: false,
      linkHandler: { activate: () => {}, allowNonHttpProtocols: false },
      windowOptions: {},
    });
    this.term.loadAddon(this.fit);
    this.term.open(host);
    this.disposables.push(this.term.onData((d) => opts.onData(d)));
    const onResize = opts.onResize;
    if (onResize) this.disposables.push(this.term.onResize(({ cols, rows }) => onResize({ cols, rows })));
    this.term.attachCustomKeyEventHandler((e) => this.clipboardKey(e));
    const ta = this.term.textarea;
    if (ta) {
      // Phone keyboards report keydown 229 and say what they did only in input events;
      // xterm.js handles inserted text, these two it leaves to us.
      const onBeforeInput = (e: InputEvent) => {
        if (e.inputType === 'deleteContentBackward') opts.onData('\x7f');
        else if (e.inputType === 'insertLineBreak' || e.inputType === 'insertParagraph') opts.onData('\r');
        else return;
        e.preventDefault();
      };
      ta.addEventListener('beforeinput', onBeforeInput);
      this.disposables.push({ dispose: () => ta.removeEventListener('beforeinput', onBeforeInput) });
      ta.setAttribute('autocapitalize', 'off');
      ta.setAttribute('autocorrect', 'off');
      ta.setAttribute('spellcheck', 'false');
    }
    this.resizeObserver = new ResizeObserver(() => this.queueFit());
    this.resizeObserver.observe(host);
    this.queueFit();
  }

  /** Ctrl-Shift-C / Ctrl-Shift-V (and Ctrl-C with a selection) copy and paste. */
  private clipboardKey(e: KeyboardEvent): boolean {
    if (e.type !== 'keydown') return true;
    const key = e.key.toLowerCase();
    const mod = e.ctrlKey || e.metaKey;
    if (mod && key === 'c' && (e.shiftKey || e.metaKey || this.term.hasSelection())) {
      const text = this.term.getSelection();
      if (text) void navigator.clipboard?.writeText(text).catch(() => {});
      if (!e.shiftKey && !e.metaKey) this.term.clearSelection();
      e.preventDefault();
      return false;
    }
    if (mod && key === 'v' && (e.shiftKey || e.metaKey)) {
      // Let the browser's paste event reach xterm.js, which turns it into onData.
      return false;
    }
    return true;
  }

  write(data: string | Uint8Array): void {
    this.term.write(data);
  }

  focus(): void {
    this.term.focus();
  }

  /** Columns and rows now. */
  get size(): { cols: number; rows: number } {
    return { cols: this.term.cols, rows: this.term.rows };
  }

  /** The visible text, for tests and for "copy all". */
  text(): string {
    const b = this.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? '');
    return lines.join('\n');
  }

  private queueFit(): void {
    if (this.fitQueued) return;
    this.fitQueued = true;
    requestAnimationFrame(() => {
      this.fitQueued = false;
      if (!this.host.isConnected || this.host.clientWidth === 0) return;
      try {
        this.fit.fit();
        // A narrower or shorter terminal rewraps: keep the newest line (the prompt) in view.
        this.term.scrollToBottom();
      } catch {
        // Not laid out yet; the observer calls again.
      }
    });
  }

  dispose(): void {
    this.resizeObserver.disconnect();
    for (const d of this.disposables) d.dispose();
    this.term.dispose();
  }
}
