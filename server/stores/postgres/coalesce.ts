/**
 * Requests for single keys made in the same turn of the event loop, answered by one query for all
 * of them: a fleet connecting at once (thousands of first reports) would otherwise queue
 * thousands of round trips on the pool, and their acks behind them.
 */
export class Coalescer<V> {
  private waiting = new Map<string, ((value: V | undefined) => void)[]>();
  private failing: ((err: Error) => void)[] = [];
  private scheduled = false;

  constructor(private readonly queryAll: (keys: string[]) => Promise<Map<string, V>>) {}

  load(key: string): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      const list = this.waiting.get(key);
      if (list) list.push(resolve);
      else this.waiting.set(key, [resolve]);
      this.failing.push(reject);
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.run());
      }
    });
  }

  private async run(): Promise<void> {
    const waiting = this.waiting;
    const failing = this.failing;
    this.waiting = new Map();
    this.failing = [];
    this.scheduled = false;
    try {
      const found = await this.queryAll([...waiting.keys()]);
      for (const [key, resolvers] of waiting) for (const r of resolvers) r(found.get(key));
    } catch (err) {
      for (const reject of failing) reject(err as Error);
    }
  }
}
