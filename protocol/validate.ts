import type { z } from "zod";
import type { ReportErrorCode, RejectedPosition } from "./events.ts";
import type { ErrorBody } from "./errors.ts";
import { fastPosition } from "./fast-position.ts";
import { MAX_BATCH, positionSchema, type Position } from "./position.ts";

export interface CheckedReport {
  /** Positions that passed, with their index in the original payload. */
  valid: { index: number; position: Position }[];
  rejected: RejectedPosition[];
}

/**
 * Parse a `position:report` payload: one position or an array of up to MAX_BATCH.
 * Returns a whole-message error only when nothing in it can be used; otherwise each bad position
 * is rejected on its own, so one bad fix never costs the good ones beside it.
 */
export function checkReport(
  payload: unknown,
): CheckedReport | { error: ErrorBody<ReportErrorCode> } {
  const items = Array.isArray(payload) ? payload : [payload];
  if (!Array.isArray(payload) && (typeof payload !== "object" || payload === null)) {
    return {
      error: {
        code: "invalid_payload",
        message: "payload must be a position object or an array of positions",
      },
    };
  }
  if (items.length === 0) {
    return { error: { code: "invalid_payload", message: "payload must not be an empty array" } };
  }
  if (items.length > MAX_BATCH) {
    return {
      error: {
        code: "batch_too_large",
        message: `a report holds at most ${MAX_BATCH} positions, got ${items.length}`,
      },
    };
  }
  const result: CheckedReport = { valid: [], rejected: [] };
  for (let index = 0; index < items.length; index++) {
    const fast = fastPosition(items[index]);
    if (fast) {
      result.valid.push({ index, position: fast });
      continue;
    }
    // reportInput: without it zod 4 leaves `input` off issues, and describeIssue would call a
    // wrongly typed field ("lon": "13.4") missing.
    const parsed = positionSchema.safeParse(items[index], { reportInput: true });
    if (parsed.success) result.valid.push({ index, position: parsed.data });
    else result.rejected.push({ index, ...describeIssue(parsed.error.issues[0]) });
  }
  return result;
}

/** Turn zod's first issue into the `{ field, message }` a device developer can act on. */
export function describeIssue(issue: z.core.$ZodIssue | undefined): {
  field: string;
  message: string;
} {
  if (!issue) return { field: "", message: "invalid" };
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys") {
    const field = [...path, issue.keys[0]].join(".");
    return { field, message: `is not a field of a position (unknown key)` };
  }
  const field = path.join(".");
  if (issue.code === "invalid_type" && issue.input === undefined) {
    return { field, message: "is required" };
  }
  return { field, message: issue.message };
}
