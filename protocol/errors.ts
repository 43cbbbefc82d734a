/**
 * Every error code Locus answers with, on every channel (socket.io acks, HTTP replies, plain
 * WebSocket frames): one list, so a client handles a code the same way wherever it met it.
 */
export type ErrorCode =
  // The message breaks a rule; `field` names what, the message says which rule.
  | "invalid_payload"
  | "batch_too_large"
  | "bad_request"
  | "invalid_file"
  | "too_large"
  // Who is asking.
  | "unauthorized"
  | "forbidden"
  | "invalid_credentials"
  | "invalid_device_id"
  | "unknown_device"
  | "token_required"
  | "invalid_token"
  | "not_a_device"
  // What is asked for.
  | "not_found"
  | "conflict"
  | "not_ready"
  // Come back later.
  | "rate_limited"
  | "shutting_down"
  | "unavailable"
  | "internal"
  // One channel's own framing.
  | "unknown_event"
  | "upgrade_required"
  | "method_not_allowed"
  | "invalid_json"
  | "invalid_frame"
  | "unknown_type"
  | "not_authenticated"
  | "already_authenticated";

/** An error as every channel carries it. */
export interface ErrorBody<C extends ErrorCode = ErrorCode> {
  code: C;
  message: string;
  /** The field the message is about, as the client named it (`lat`, `location.coords.speed`). */
  field?: string;
  /** With `rate_limited`: how long until the client may try again. */
  retryAfterMs?: number;
}

/** The body of every failed REST reply. */
export interface ErrorReply {
  error: ErrorBody;
}
