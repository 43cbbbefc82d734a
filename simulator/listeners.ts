/** Listeners by event name, for objects that tell their owner how they are doing. */
export class Listeners<Events extends { [E in keyof Events]: (...args: never[]) => void }> {
  readonly #byEvent = new Map<keyof Events, Set<(...args: never[]) => void>>();

  /** Subscribe; returns the function that unsubscribes. */
  on<E extends keyof Events>(event: E, listener: Events[E]): () => void {
    let set = this.#byEvent.get(event);
    if (!set) this.#byEvent.set(event, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  emit<E extends keyof Events>(event: E, ...args: Parameters<Events[E]>): void {
    for (const listener of this.#byEvent.get(event) ?? []) {
      try {
        (listener as (...a: Parameters<Events[E]>) => void)(...args);
      } catch (err) {
        // A throwing listener must not leave the emitter half-updated; report it like Node would.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
