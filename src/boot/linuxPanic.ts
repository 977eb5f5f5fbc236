/**
 * Spotting a Linux kernel panic on the guest console, written once for the page (WorkerVm)
 * and `romvisor boot`: both end a panicked guest's run and name its panic line.
 *
 * Linux prints "Kernel panic - not syncing: <why>" and, last, the closing marker
 * "---[ end Kernel panic - not syncing: <why> ]---"; then the hart spins forever (or
 * reboots after `panic=N` seconds), printing nothing more a user could act on.
 */

export const PANIC_MARKER = 'Kernel panic - not syncing';

/**
 * The panic line in `text` ("Kernel panic - not syncing: Attempted to kill init! ..."),
 * without the "]---" of the closing marker line; undefined if `text` holds no panic. The
 * line ends at the first line break after the marker, or at the end of `text`.
 */
export function findPanicLine(text: string): string | undefined {
  const at = text.indexOf(PANIC_MARKER);
  if (at < 0) return undefined;
  return text
    .slice(at)
    .split(/\r?\n/)[0]!
    .replace(/\s*\]---\s*$/, '')
    .trim();
}

/**
 * Follows a console stream for a panic, across chunk boundaries: `feed` each chunk; `seen`
 * turns true once the marker has arrived, and `line` is the panic line as far as it has
 * arrived (give the kernel a moment to finish it before reading it).
 */
export class PanicWatch {
  /** The stream's last bytes before the marker (a marker may be split across chunks), then the text from the marker on. */
  private text = '';
  private found = false;

  feed(chunk: string): void {
    if (this.found) {
      // The panic line is all that is wanted: keep a bounded amount after the marker.
      if (this.text.length < MAX_AFTER_MARKER) this.text += chunk.slice(0, MAX_AFTER_MARKER - this.text.length);
      return;
    }
    this.text = (this.text + chunk).slice(-(KEEP_BEFORE_MARKER + chunk.length));
    const at = this.text.indexOf(PANIC_MARKER);
    if (at < 0) {
      this.text = this.text.slice(-KEEP_BEFORE_MARKER);
      return;
    }
    this.found = true;
    this.text = this.text.slice(at, at + MAX_AFTER_MARKER);
  }

  get seen(): boolean {
    return this.found;
  }

  get line(): string | undefined {
    return this.found ? findPanicLine(this.text) : undefined;
  }
}

/** Enough of the stream to hold a marker split across two chunks. */
const KEEP_BEFORE_MARKER = PANIC_MARKER.length;
/** A panic line is short; a stream that never breaks the line is cut here. */
const MAX_AFTER_MARKER = 1024;
