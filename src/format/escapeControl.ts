/**
 * Text from outside (file names and bytes, VM and appliance names, scenario titles, link
 * text, error messages quoting any of those) made safe to write to a terminal: every
 * control character (C0 0x00–0x1f, DEL 0x7f, C1 0x80–0x9f) is shown as `\xNN`, so ESC,
 * CSI (0x9b), OSC (0x9d) and the rest print as text instead of moving the cursor,
 * clearing the screen, changing the title or starting a hyperlink. Everything else,
 * including non-ASCII letters, passes as it is.
 *
 * The guest's own console stream is NOT passed through this: it goes to xterm.js as it
 * is (TerminalView turns off the terminal's clipboard and link effects instead). Only the
 * text the page or the CLI composes around untrusted values is escaped, at the place it
 * is composed, so the colours the page adds itself stay colours. `keepNewlines` leaves
 * `\n` alone for multi-line text whose writer turns it into its own line ending.
 */
const CONTROL = /[\x00-\x1f\x7f-\x9f]/g;

export function escapeControl(text: string, opts: { keepNewlines?: boolean } = {}): string {
  return text.replace(CONTROL, (c) => (opts.keepNewlines && c === '\n' ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
