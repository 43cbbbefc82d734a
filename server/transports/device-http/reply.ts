import type { RequestHandler, Response } from "express";
import type { Position, ReportAck } from "../../../protocol/index.ts";
import type { DeviceService } from "../../services/devices.ts";
import { LocusError } from "../../services/errors.ts";
import type { PositionService } from "../../services/positions.ts";
import { HTTP_STATUS } from "../errors.ts";
import { sendError } from "../http/errors.ts";

/** What a phone app's gateway needs: the device rules and the one ingest path. */
export interface GatewayDeps {
  positions: PositionService;
  devices: DeviceService;
}

/** Contract field → the name the app used, so a 400 names what the app actually sent. */
export type FieldNames = Readonly<Record<string, string>>;

/** The field as the app named it. */
export function renamer(names: FieldNames): (field: string) => string {
  return (field) => {
    if (names[field]) return names[field];
    const attribute = /^attributes\.(.+)$/.exec(field)?.[1];
    if (attribute !== undefined) return names["attributes.*"]?.replace("*", attribute) ?? attribute;
    return field;
  };
}

/** 405 for any other method, so a stray GET never falls through to the dashboard page. */
export function allowMethods(...methods: string[]): RequestHandler {
  return (req, res, next) => {
    if (methods.includes(req.method)) return next();
    res.setHeader("Allow", methods.join(", "));
    throw new LocusError("method_not_allowed", `use ${methods.join(" or ")}`);
  };
}

/**
 * Check the device against the same rules as socket.io devices (token, id-only, open
 * registration); a refusal is thrown with the app's own name for the id field, and asks for
 * HTTP Basic credentials where a token is what is missing.
 */
export async function authenticateApp(
  res: Response,
  devices: DeviceService,
  credentials: { deviceId: string; token: string | undefined },
  idField: string,
): Promise<string> {
  try {
    return await devices.authenticate(credentials);
  } catch (err) {
    if (!(err instanceof LocusError)) throw err;
    if (HTTP_STATUS[err.code] === 401) res.setHeader("WWW-Authenticate", 'Basic realm="locus"');
    const field = err.field === "deviceId" ? idField : err.field;
    throw new LocusError(err.code, err.rule, { ...err.details, field });
  }
}

/**
 * Hand positions to the positions service and answer as phone apps expect: 200 once anything is
 * stored (or was already: a resend after a lost reply must succeed), 400 naming the field when
 * nothing could be, 429 with Retry-After when over the rate limit, 503 while shutting down.
 */
export async function reportAndReply(
  res: Response,
  positions: PositionService,
  via: "osmand" | "owntracks",
  deviceId: string,
  fixes: Position[],
  names: FieldNames,
  onStored: (ack: ReportAck & { ok: true }) => void,
): Promise<void> {
  const ack = await positions.report(deviceId, fixes.length === 1 ? fixes[0] : fixes, via);
  if (!ack.ok) return sendError(res, ack.error);
  if (ack.accepted + ack.duplicates === 0 && ack.rejected.length > 0) {
    const first = ack.rejected[0]!;
    const where = fixes.length > 1 ? ` (location ${first.index})` : "";
    const field = renamer(names)(first.field);
    throw new LocusError("bad_request", `${first.message}${where}`, { field });
  }
  onStored(ack);
}
