/** Typed events with disposable listeners (after xterm.js's IEvent / EventEmitter). */

export interface Disposable {
  dispose(): void;
}

/** Subscribe with `event(listener)`; dispose the result to unsubscribe. */
export type Event<T> = (listener: (value: T) => void) => Disposable;

export class Emitter<T> implements Disposable {
  private listeners: ((value: T) => void)[] = [];

  readonly event: Event<T> = (listener) => {
    this.listeners.push(listener);
    return {
      dispose: () => {
        this.listeners = this.listeners.filter((l) => l !== listener);
      },
    };
  };

  fire(value: T): void {
    for (const l of [...this.listeners]) {
      try {
        l(value);
      } catch (e) {
        // One broken listener must not starve the others (or the VM that fired).
        console.error(e);
      }
    }
  }

  dispose(): void {
    this.listeners = [];
  }
}

/** Disposes a set of things together. */
export class DisposableStore implements Disposable {
  private items: Disposable[] = [];

  add<T extends Disposable>(d: T): T {
    this.items.push(d);
    return d;
  }

  dispose(): void {
    for (const d of this.items.splice(0).reverse()) d.dispose();
  }
}
