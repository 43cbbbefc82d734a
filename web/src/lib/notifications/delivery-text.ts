import type { Delivery, WebhookTestResult } from "../../../../protocol/notifications.ts";

/** How the dashboard words a webhook's answers: the list's status, the log, a test's outcome. */

/** "HTTP 200", or why there was no answer ("connection refused"). */
export function answerOf(d: Pick<Delivery, "lastStatus" | "lastError">): string {
  if (d.lastStatus !== null) return `HTTP ${d.lastStatus}`;
  return d.lastError ?? "—";
}

export const STATUS_LABEL: Readonly<Record<Delivery["status"], string>> = {
  pending: "Retrying",
  delivered: "Delivered",
  failed: "Failed",
};

/** The sentence shown after "Send test". */
export function testOutcome(r: WebhookTestResult): string {
  const answer = r.status === null ? "no answer" : `HTTP ${r.status}`;
  return r.ok
    ? `Test delivered: ${answer} in ${r.latencyMs} ms.`
    : `Test failed: ${answer}${r.error ? ` (${r.error})` : ""}.`;
}
