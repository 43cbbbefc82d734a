/** What one health check answers: ok, or why not. */
export interface CheckResult {
  ok: boolean;
  reason?: string;
}

export type HealthCheck = () => CheckResult;

interface Registered {
  check: HealthCheck;
  /** Failing means this node cannot do its job (take and commit reports): /api/health says 503. */
  critical: boolean;
}

/**
 * The named health checks of one running server, read by `/api/health` and `/metrics` alike, so
 * the two never disagree. The store registers "store" (critical); an optional part such as a
 * Redis adapter registers its own when it is configured:
 * `health.register("redis", () => ({ ok: redis.status === "ready", reason: redis.status }))`.
 */
export class HealthChecks {
  private readonly checks = new Map<string, Registered>();

  /** Add (or replace) the check `name`. */
  register(name: string, check: HealthCheck, options: { critical?: boolean } = {}): void {
    this.checks.set(name, { check, critical: options.critical ?? false });
  }

  unregister(name: string): void {
    this.checks.delete(name);
  }

  /**
   * Every check's answer now. A check that throws is failing, with its message as the reason:
   * a health probe must answer, not crash the request that asked.
   */
  run(): { ok: boolean; checks: Record<string, CheckResult> } {
    const checks: Record<string, CheckResult> = {};
    let ok = true;
    for (const [name, { check, critical }] of this.checks) {
      let result: CheckResult;
      try {
        const { ok, reason } = check();
        result = ok ? { ok } : { ok, reason: reason ?? "failing" };
      } catch (err) {
        result = { ok: false, reason: err instanceof Error ? err.message : String(err) };
      }
      checks[name] = result;
      if (critical && !result.ok) ok = false;
    }
    return { ok, checks };
  }
}
