/**
 * The flag a page going away (pagehide) waits on while a VM's worker suspends itself
 * (VmWorkerApi.suspendToStore). The page cannot await anything then: a tab closed or
 * reloaded ends its tasks as soon as the handler returns, and the VM's worker with them.
 * So the handler spins on this shared word until every worker has stored its state (or a
 * deadline): in Chromium the worker runs on and its IndexedDB commit lands meanwhile.
 */
/** Int32 0 holds the outcome, the bytes after it the reason for a failure. */
export const PAGEHIDE_PENDING = 0;
export const PAGEHIDE_SAVED = 1;
export const PAGEHIDE_FAILED = 2;
const PAGEHIDE_REASON_BYTES = 1020;

export function pageHideFlag(): SharedArrayBuffer {
  return new SharedArrayBuffer(4 + PAGEHIDE_REASON_BYTES);
}

/** The worker's side: the outcome and, for a failure, why (for a save, how long it took). */
export function settlePageHide(flag: SharedArrayBuffer, outcome: typeof PAGEHIDE_SAVED | typeof PAGEHIDE_FAILED, reason = ''): void {
  const bytes = new TextEncoder().encode(reason).subarray(0, PAGEHIDE_REASON_BYTES);
  new Uint8Array(flag, 4).set(bytes);
  const word = new Int32Array(flag, 0, 1);
  Atomics.store(word, 0, outcome);
  Atomics.notify(word, 0);
}

/** The page's side: the outcome so far and what the worker said with it. */
export function readPageHide(flag: SharedArrayBuffer): { outcome: number; reason: string } {
  const outcome = Atomics.load(new Int32Array(flag, 0, 1), 0);
  const raw = new Uint8Array(flag, 4);
  const end = raw.indexOf(0);
  // A SharedArrayBuffer view cannot be decoded directly: copied out first.
  const reason = outcome === PAGEHIDE_PENDING ? '' : new TextDecoder().decode(raw.slice(0, end < 0 ? raw.length : end));
  return { outcome, reason };
}
