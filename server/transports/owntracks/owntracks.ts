import express, { type Request, type RequestHandler } from "express";
import type { Position } from "../../../protocol/index.ts";
import { badRequest } from "../../services/errors.ts";
import type { EventService } from "../../services/events.ts";
import {
  basicCredentials,
  KMH_MS,
  newAttributes,
  normaliseCourse,
  numberField,
  type Attributes,
} from "../device-http/fields.ts";
import {
  allowMethods,
  authenticateApp,
  reportAndReply,
  type FieldNames,
  type GatewayDeps,
} from "../device-http/reply.ts";

/**
 * OwnTracks in HTTP mode (https://owntracks.org/booklet/tech/http/): the app POSTs each message,
 * in its JSON format (https://owntracks.org/booklet/tech/json/), with HTTP Basic auth and its
 * user and device names in `X-Limit-U` / `X-Limit-D`. The reply is a JSON array of messages for
 * the app (`[]`: nothing to tell).
 *
 * Locus device id: `user.device` (`jane.phone` for user jane, device phone), or just the one name
 * that is known. The Basic password is the device's token.
 */
export const OWNTRACKS_FIELDS: FieldNames = {
  ts: "tst",
  speed: "vel",
  course: "cog",
  accuracy: "acc",
  battery: "batt",
};

/** Mapped to the contract's fields; every other field becomes an attribute. */
const MAPPED = new Set(["lat", "lon", "tst", "acc", "alt", "vel", "cog", "batt"]);

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

function queryParam(req: Request, name: string): string | undefined {
  const value = req.query[name];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Who is reporting: user from X-Limit-U, else the Basic user, else `?u=`; device likewise. */
export function owntracksDeviceId(req: Request, basicUser: string | undefined): string {
  const user = header(req, "x-limit-u") ?? (basicUser || undefined) ?? queryParam(req, "u");
  const device = header(req, "x-limit-d") ?? queryParam(req, "d");
  if (user && device) return `${user}.${device}`;
  const single = user ?? device;
  if (!single) {
    throw badRequest("X-Limit-U", "is required (or the HTTP Basic user, or ?u=)");
  }
  return single;
}

/** `{"_type":"transition","event":"enter"|"leave","desc":"Home","tst":…,"lat":…,"lon":…}` */
function transitionOf(message: Record<string, unknown>) {
  const { event, desc } = message;
  if (event !== "enter" && event !== "leave")
    throw badRequest("event", 'must be "enter" or "leave"');
  const lat = numberField("lat", message.lat);
  const lon = numberField("lon", message.lon);
  const tst = numberField("tst", message.tst);
  if (lat === undefined) throw badRequest("lat", "is required");
  if (lon === undefined) throw badRequest("lon", "is required");
  if (tst === undefined) throw badRequest("tst", "is required");
  if (desc !== undefined && typeof desc !== "string") throw badRequest("desc", "must be a string");
  return { entered: event === "enter", ts: Math.round(tst * 1000), lat, lon, region: desc ?? "" };
}

function locationToPosition(message: Record<string, unknown>): Position {
  const lat = numberField("lat", message.lat);
  const lon = numberField("lon", message.lon);
  const tst = numberField("tst", message.tst);
  if (lat === undefined) throw badRequest("lat", "is required");
  if (lon === undefined) throw badRequest("lon", "is required");
  if (tst === undefined) throw badRequest("tst", "is required");
  const position: Position = { ts: Math.round(tst * 1000), lat, lon };
  // iOS leaves out what it does not know; older versions sent -1 for it.
  const acc = numberField("acc", message.acc);
  if (acc !== undefined && acc >= 0) position.accuracy = acc;
  const alt = numberField("alt", message.alt);
  if (alt !== undefined) position.alt = alt;
  const vel = numberField("vel", message.vel);
  if (vel !== undefined && vel >= 0) position.speed = vel * KMH_MS;
  const cog = numberField("cog", message.cog);
  if (cog !== undefined && cog >= 0) position.course = normaliseCourse(cog);
  const batt = numberField("batt", message.batt);
  if (batt !== undefined && batt >= 0) position.battery = batt;

  const attributes: Attributes = newAttributes();
  for (const [key, value] of Object.entries(message)) {
    // `_type`, `_id`, `_http`: message bookkeeping, not facts about the fix.
    if (MAPPED.has(key) || key.startsWith("_") || value === null) continue;
    // `inregions` / `inrids` are lists of names: kept as comma-separated text.
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
      attributes[key] = value.join(",");
    } else {
      attributes[key] = value as string; // checked by the position schema like any attribute
    }
  }
  if (Object.keys(attributes).length > 0) position.attributes = attributes;
  return position;
}

export function owntracksHandlers(
  deps: GatewayDeps & { events: Pick<EventService, "phoneTransition"> },
): RequestHandler[] {
  const { positions, devices, events } = deps;
  const readBody = express.text({ type: () => true, limit: "256kb" });

  const handle: RequestHandler = async (req, res) => {
    const basic = basicCredentials(req.headers.authorization);
    const deviceId = owntracksDeviceId(req, basic?.user);
    const credentials = { deviceId, token: basic?.password || undefined };
    const id = await authenticateApp(res, devices, credentials, "X-Limit-U/X-Limit-D");

    const body = typeof req.body === "string" ? req.body.trim() : "";
    // A zero-length body is what the app sends when a friend is deleted: nothing to store.
    if (body === "") return void res.json([]);
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch {
      throw badRequest("body", "must be valid JSON");
    }
    if (typeof message !== "object" || message === null || Array.isArray(message)) {
      throw badRequest("body", "must be a JSON object");
    }
    const fields = message as Record<string, unknown>;
    if (typeof fields._type !== "string") throw badRequest("_type", "is required");
    if (fields._type === "transition") {
      await events.phoneTransition(id, transitionOf(fields));
      return void res.json([]);
    }
    // Waypoints, cards, lwt…: accepted so the app does not queue them, not stored.
    if (fields._type !== "location") return void res.json([]);

    const position = locationToPosition(fields);
    await reportAndReply(res, positions, "owntracks", id, [position], OWNTRACKS_FIELDS, () => {
      res.json([]);
    });
  };
  return [allowMethods("POST"), readBody, handle];
}
