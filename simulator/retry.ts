import type { ReportAck } from "../protocol/index.ts";

/** How the device client judges an answer and paces its retries. */

/** Server error codes worth trying again: the batch itself was fine. */
export const RETRYABLE = new Set(["rate_limited", "internal", "shutting_down"]);
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

/** A structurally valid ack; anything else (a foreign or broken server) keeps the batch. */
export function isReportAck(value: unknown): value is ReportAck {
  if (typeof value !== "object" || value === null || !("ok" in value)) return false;
  if (value.ok === true) {
    const { accepted, duplicates, rejected } = value as Partial<Record<string, unknown>>;
    return (
      typeof accepted === "number" && typeof duplicates === "number" && Array.isArray(rejected)
    );
  }
  const { error } = value as { error?: { code?: unknown } };
  return value.ok === false && typeof error?.code === "string";
}

/** Exponential backoff with jitter, so a fleet that lost its server does not return in lockstep. */
export function backoff(failures: number): number {
  const ceiling = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures - 1, 16));
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}
