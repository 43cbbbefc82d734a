import type { ErrorBody, ErrorCode } from "../../protocol/index.ts";
import type { Logger } from "../logger.ts";
import { INTERNAL_ERROR, LocusError } from "../services/errors.ts";

/** The HTTP status of every error code, for the REST API and the phone apps' gateways. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  invalid_payload: 400,
  batch_too_large: 413,
  bad_request: 400,
  invalid_file: 400,
  too_large: 413,
  unauthorized: 401,
  forbidden: 403,
  invalid_credentials: 401,
  invalid_device_id: 400,
  unknown_device: 404,
  token_required: 401,
  invalid_token: 401,
  not_a_device: 403,
  not_found: 404,
  conflict: 409,
  not_ready: 503,
  rate_limited: 429,
  shutting_down: 503,
  unavailable: 503,
  internal: 500,
  unknown_event: 400,
  upgrade_required: 426,
  method_not_allowed: 405,
  invalid_json: 400,
  invalid_frame: 400,
  unknown_type: 400,
  not_authenticated: 401,
  already_authenticated: 409,
};

export interface RenderOptions {
  /** The field as this channel's clients name it. */
  rename?: (field: string) => string;
  /** Between field and rule: ": " in REST replies, " " in socket handshakes and frames. */
  joiner?: string;
}

/**
 * The one error wrapper every transport uses: a rule's refusal (LocusError) becomes its code and
 * message, as the channel names fields; anything else is a bug or an outage, logged with its
 * context here and answered with a bare "internal" so internals never reach a client.
 */
export function errorBody(
  err: unknown,
  logger: Logger,
  context: Record<string, unknown>,
  options: RenderOptions = {},
): ErrorBody {
  if (err instanceof LocusError) return err.body(options);
  logger.error({ err, ...context }, "request failed");
  return INTERNAL_ERROR;
}
