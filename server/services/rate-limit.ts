/**
 * Per-device token bucket: `rate` reports per second on average, bursts up to `burst`. Counting
 * reports rather than positions keeps a reconnecting device's backlog (batches of hundreds) cheap
 * to deliver, while a device spamming tiny messages is slowed down before it costs any parsing.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private takes = 0;

  constructor(private readonly options: { rate: number; burst: number }) {}

  /** Take one token; false when the device is over its rate. */
  take(key: string, now: number): boolean {
    if (++this.takes % 10_000 === 0) this.prune(now);
    const { rate, burst } = this.options;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: burst, at: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** Milliseconds until `key` has a token again (for the error message). */
  retryAfterMs(key: string): number {
    const bucket = this.buckets.get(key);
    if (!bucket || bucket.tokens >= 1) return 0;
    return Math.ceil(((1 - bucket.tokens) / this.options.rate) * 1000);
  }

  /** Forget buckets that have refilled completely: they behave exactly like new ones. */
  private prune(now: number): void {
    const full = (this.options.burst / this.options.rate) * 1000;
    for (const [key, bucket] of this.buckets) if (now - bucket.at > full) this.buckets.delete(key);
  }
}
