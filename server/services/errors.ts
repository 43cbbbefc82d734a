import type { z } from "zod";
import { describeIssue, type ErrorBody, type ErrorCode } from "../../protocol/index.ts";

/**
 * A rule said no. Services throw these; every transport turns one into its channel's error (an
 * HTTP status and JSON body, an ack, a WebSocket frame) through one function each, so a rule's
 * code and wording are the same wherever the request came from.
 *
 * `field` is the field as the contract names it; a transport whose clients name it otherwise
 * (OsmAnd's `id` for `deviceId`) renames it when it renders the error, instead of rewriting text.
 */
export class LocusError extends Error {
  constructor(
    readonly code: ErrorCode,
    /** The rule, without the field: "must be ≤ 90". */
    readonly rule: string,
    readonly details: { field?: string; retryAfterMs?: number } = {},
  ) {
    super(details.field ? `${details.field}: ${rule}` : rule);
  }

  get field(): string | undefined {
    return this.details.field;
  }

  /**
   * As a channel carries it. `joiner` sits between the field and the rule: REST replies say
   * "from: must not be after to", socket handshakes "auth.deviceId must be …".
   */
  body(options: { rename?: (field: string) => string; joiner?: string } = {}): ErrorBody {
    const { rename = (f: string) => f, joiner = ": " } = options;
    const field = this.details.field === undefined ? undefined : rename(this.details.field);
    const body: ErrorBody = {
      code: this.code,
      message: field === undefined ? this.rule : `${field}${joiner}${this.rule}`,
    };
    if (field !== undefined) body.field = field;
    if (this.details.retryAfterMs !== undefined) body.retryAfterMs = this.details.retryAfterMs;
    return body;
  }
}

export const badRequest = (field: string, rule: string) =>
  new LocusError("bad_request", rule, { field });
export const notFound = (message: string) => new LocusError("not_found", message);
export const conflict = (message: string) => new LocusError("conflict", message);
export const forbidden = (message: string) => new LocusError("forbidden", message);

/** The body for an error no rule explains: logged by the transport, never shown in detail. */
export const INTERNAL_ERROR: ErrorBody = { code: "internal", message: "internal error, retry" };

/** Parse a request with its schema, or throw a 400 naming the first bad field and its rule. */
export function parseRequest<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const { field, message } = describeIssue(issue);
  const rule = issue?.code === "unrecognized_keys" ? "is not a field of this request" : message;
  throw badRequest(field || "body", rule);
}
