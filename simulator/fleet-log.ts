/**
 * The fleet's logging. When a server goes away, thousands of devices fail the same way at once:
 * the first of each kind is logged, the rest are counted and summarised every ten seconds.
 */

/** Structural, so a pino logger or `console` fits. */
export interface FleetLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

const LOG_WINDOW_MS = 10_000;

/** The default: warnings and errors on stderr, nothing else. */
export const stderrLogger: FleetLogger = {
  info: () => {},
  warn: (message) => console.warn(`[fleet] ${message}`),
  error: (message) => console.error(`[fleet] ${message}`),
};

export class ThrottledLog {
  readonly #logger: FleetLogger;
  readonly #suppressed = new Map<string, { level: "warn" | "error"; count: number }>();
  readonly #lastLogged = new Map<string, number>();
  #windowStart = performance.now();

  constructor(logger: FleetLogger) {
    this.#logger = logger;
  }

  write(level: "warn" | "error", kind: string, message: string): void {
    const last = this.#lastLogged.get(kind);
    const now = performance.now();
    if (last === undefined || now - last >= LOG_WINDOW_MS) {
      this.#lastLogged.set(kind, now);
      this.#logger[level](message);
      return;
    }
    const entry = this.#suppressed.get(kind);
    if (entry) entry.count++;
    else this.#suppressed.set(kind, { level, count: 1 });
  }

  /** Summarise what was held back, at most once per window unless `force`. */
  flushSuppressed(force = false): void {
    const now = performance.now();
    if (!force && now - this.#windowStart < LOG_WINDOW_MS) return;
    this.#windowStart = now;
    for (const [kind, { level, count }] of this.#suppressed) {
      this.#logger[level](`${count} more "${kind}" reports in the last ${LOG_WINDOW_MS / 1000} s`);
    }
    this.#suppressed.clear();
  }
}
