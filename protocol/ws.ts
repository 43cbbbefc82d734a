import type { ErrorCode } from "./errors.ts";
import type { LiveBatch, LiveSnapshot, ReportAck } from "./events.ts";
import type { Position } from "./position.ts";

/**
 * The plain WebSocket API (RFC 6455 text frames of JSON, no socket.io framing) at `WS_PATH`, for
 * browsers' `new WebSocket(...)` and command-line clients. Every frame is an object with `type`.
 *
 * A device identifies itself with `?deviceId=…&token=…` or a first frame
 * `{ type: "auth", deviceId, token }`, then sends `position:report` frames and gets an `ack`
 * (the socket.io ack, plus `type` and the report's `id`) for each.
 *
 * A viewer identifies itself with an API token (`?token=lca_…`, `Authorization: Bearer`, a first
 * frame `{ type: "auth", token }`) or the dashboard's session cookie, then receives a `snapshot`
 * and a `batch` per tick, holding only the devices its user may see.
 */
export const WS_PATH = "/ws";

/** Close codes (4000–4999 are the application's). */
export const WS_CLOSE = {
  /** Authentication failed or never came. */
  unauthorized: 4401,
  /** The user's role or device grants changed: reconnect for a snapshot under the new ones. */
  accessChanged: 4403,
  /** A viewer read too slowly and fell too far behind. */
  tooSlow: 4408,
  /** The server is shutting down: reconnect later. */
  goingAway: 1001,
} as const;

export type WsReportId = number | string;

export type WsClientFrame =
  | { type: "auth"; deviceId?: string; token: string }
  | { type: "position:report"; id?: WsReportId; positions: Position | Position[] };

/** The codes an `error` frame may carry. */
export type WsErrorCode = Extract<
  ErrorCode,
  | "invalid_json"
  | "invalid_frame"
  | "unknown_type"
  | "not_authenticated"
  | "already_authenticated"
  | "unauthorized"
  | "invalid_device_id"
  | "unknown_device"
  | "token_required"
  | "invalid_token"
  | "not_a_device"
>;

export type WsServerFrame =
  | { type: "ready"; role: "device"; deviceId: string }
  | { type: "ready"; role: "viewer"; user: string }
  | ({ type: "ack"; id?: WsReportId } & ReportAck)
  | ({ type: "snapshot" } & LiveSnapshot)
  | ({ type: "batch" } & LiveBatch)
  | { type: "error"; code: WsErrorCode; message: string; field?: string; id?: WsReportId };
