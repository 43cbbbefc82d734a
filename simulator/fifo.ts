/**
 * A double-ended queue on a growable ring buffer. The device client needs O(1) append, O(1) removal
 * at the front (acks, overflow) and putting an unacknowledged batch back at the front; a plain
 * array's shift() and unshift() are O(n) on a 10,000-position buffer.
 */
export class Fifo<T> {
  #items: (T | undefined)[] = new Array<T | undefined>(16);
  #head = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(item: T): void {
    if (this.#length === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#length) % this.#items.length] = item;
    this.#length++;
  }

  shift(): T | undefined {
    if (this.#length === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined; // let the garbage collector have it
    this.#head = (this.#head + 1) % this.#items.length;
    this.#length--;
    return item;
  }

  /** Remove and return up to `count` items from the front, oldest first. */
  take(count: number): T[] {
    const taken: T[] = [];
    while (taken.length < count && this.#length > 0) taken.push(this.shift() as T);
    return taken;
  }

  /** Put `items` back at the front, keeping their order. */
  unshiftAll(items: readonly T[]): void {
    while (this.#length + items.length > this.#items.length) this.#grow();
    for (let k = items.length - 1; k >= 0; k--) {
      this.#head = (this.#head - 1 + this.#items.length) % this.#items.length;
      this.#items[this.#head] = items[k];
      this.#length++;
    }
  }

  clear(): void {
    this.#items = new Array<T | undefined>(16);
    this.#head = 0;
    this.#length = 0;
  }

  #grow(): void {
    const bigger = new Array<T | undefined>(this.#items.length * 2);
    for (let k = 0; k < this.#length; k++) {
      bigger[k] = this.#items[(this.#head + k) % this.#items.length];
    }
    this.#items = bigger;
    this.#head = 0;
  }
}
