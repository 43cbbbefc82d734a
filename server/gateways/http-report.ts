import type { RequestHandler, Response } from "express";
import type { ErrorReply, Position, ReportAck } from "../../protocol/index.ts";
import type { DeviceAuthenticator } from "../ingest/device-auth.ts";
import type { Ingest } from "../ingest/ingest.ts";

/** What an HTTP gateway needs: the device rules and the one ingest path. */
export interface GatewayDeps {
  ingest: Ingest;
  authenticate: DeviceAuthenticator;
}

/** Contract field → the name the app used, so a 400 names what the app actually sent. */
export type FieldNames = Readonly<Record<string, string>>;

function sendError(res: Response, status: number, code: string, message: string): void {
  const reply: ErrorReply = { error: { code, message } };
  res.status(status).json(reply);
}

/** 405 for any other method, so a stray GET never falls through to the dashboard page. */
export function allowMethods(...methods: string[]): RequestHandler {
  return (req, res, next) => {
    if (methods.includes(req.method)) return next();
    res.setHeader("Allow", methods.join(", "));
    sendError(res, 405, "method_not_allowed", `use ${methods.join(" or ")}`);
  };
}

const AUTH_STATUS: Record<string, number> = {
  invalid_device_id: 400,
  invalid_token: 401,
  token_required: 401,
  unknown_device: 404,
};

/**
 * Check the device against the same rules as socket.io devices (token, id-only, open
 * registration). Answers the request and returns null when the device may not report.
 */
export function authenticateOrReply(
  res: Response,
  authenticate: DeviceAuthenticator,
  deviceId: string,
  token: string | undefined,
  idField: string,
): string | null {
  const result = authenticate({ deviceId, token });
  if (result.ok) return result.deviceId;
  // The authenticator speaks of the socket.io handshake's `auth.deviceId`; name the app's field.
  const message = result.message.replace(/^auth\.deviceId/, idField);
  if (AUTH_STATUS[result.code] === 401) res.setHeader("WWW-Authenticate", 'Basic realm="locus"');
  sendError(res, AUTH_STATUS[result.code] ?? 401, result.code, message);
  return null;
}

function rename(field: string, names: FieldNames): string {
  if (names[field]) return names[field];
  const attribute = /^attributes\.(.+)$/.exec(field)?.[1];
  if (attribute !== undefined) return names["attributes.*"]?.replace("*", attribute) ?? attribute;
  return field;
}

const FAILURE_STATUS: Record<string, number> = {
  invalid_payload: 400,
  batch_too_large: 413,
  rate_limited: 429,
  shutting_down: 503,
  internal: 500,
};

/**
 * Hand positions to ingest and answer as phone apps expect: 200 once anything is stored (or was
 * already: a resend after a lost reply must succeed), 400 naming the field when nothing could be,
 * 429 with Retry-After when over the rate limit, 503 while shutting down.
 */
export async function reportAndReply(
  res: Response,
  ingest: Ingest,
  deviceId: string,
  positions: Position[],
  names: FieldNames,
  onStored: (ack: ReportAck & { ok: true }) => void,
): Promise<void> {
  const ack = await ingest.report(deviceId, positions.length === 1 ? positions[0] : positions);
  if (!ack.ok) {
    const status = FAILURE_STATUS[ack.error.code] ?? 500;
    if (status === 429) {
      const seconds = Math.ceil((ack.error.retryAfterMs ?? 1000) / 1000);
      res.setHeader("Retry-After", String(Math.max(1, seconds)));
    }
    if (status === 503) res.setHeader("Retry-After", "5");
    return sendError(res, status, ack.error.code, ack.error.message);
  }
  if (ack.accepted + ack.duplicates === 0 && ack.rejected.length > 0) {
    const first = ack.rejected[0]!;
    const where = positions.length > 1 ? ` (location ${first.index})` : "";
    return sendError(
      res,
      400,
      "bad_request",
      `${rename(first.field, names)}: ${first.message}${where}`,
    );
  }
  onStored(ack);
}
