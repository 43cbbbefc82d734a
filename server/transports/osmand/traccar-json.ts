import { z } from "zod";
import { MAX_BATCH, type Position } from "../../../protocol/index.ts";
import { badRequest } from "../../services/errors.ts";
import { describeIssue } from "../../../protocol/validate.ts";
import { newAttributes, normaliseCourse, parseIsoTime } from "../device-http/fields.ts";
import type { FieldNames } from "../device-http/reply.ts";

/**
 * The JSON body newer Traccar Client versions POST to the OsmAnd port (the background-geolocation
 * location format; Traccar's OsmAnd decoder reads it as `device_id` plus `location`):
 *
 *   { "device_id": "phone", "location": { "timestamp": "2026-…Z", "coords": { "latitude", "longitude",
 *     "accuracy", "speed" (m/s, -1 unknown), "heading" (-1 unknown), "altitude" }, "is_moving",
 *     "odometer", "event", "battery": { "level" (0–1), "is_charging" }, "activity": { "type" },
 *     "extras": {…} } }
 *
 * Fields the format has but Locus does not use (uuid, age, *_accuracy…) are ignored, not refused:
 * the app adds fields between versions.
 */
const optionalNumber = z.number({ error: "must be a number" }).nullish();

const coordsSchema = z.object(
  {
    latitude: z.number({ error: "must be a number" }),
    longitude: z.number({ error: "must be a number" }),
    accuracy: optionalNumber,
    speed: optionalNumber,
    heading: optionalNumber,
    altitude: optionalNumber,
  },
  { error: "must be an object" },
);

const locationSchema = z.object(
  {
    timestamp: z.string({ error: "must be an ISO-8601 date-time string" }),
    coords: coordsSchema,
    is_moving: z.boolean({ error: "must be true or false" }).nullish(),
    odometer: optionalNumber,
    event: z.string({ error: "must be a string" }).nullish(),
    // Traccar Client 9.x sends an SOS (and other alarms) here; 10.x sends it as a form field.
    alarm: z.string({ error: "must be a string" }).nullish(),
    mock: z.boolean({ error: "must be true or false" }).nullish(),
    battery: z
      .object(
        {
          level: optionalNumber,
          is_charging: z.boolean({ error: "must be true or false" }).nullish(),
        },
        { error: "must be an object" },
      )
      .nullish(),
    activity: z
      .object(
        { type: z.string({ error: "must be a string" }).nullish() },
        { error: "must be an object" },
      )
      .nullish(),
    // Checked key by key below: a record schema would drop a `__proto__` key without a word.
    extras: z.unknown().optional(),
  },
  { error: "must be an object" },
);

const bodySchema = z.object(
  {
    device_id: z.string({ error: "must be a string" }),
    // One location or a batch: told apart before parsing, so errors name the field inside.
    location: z.unknown().refine((v) => v !== undefined, { error: "is required" }),
  },
  { error: "must be a JSON object" },
);

type TraccarLocation = z.infer<typeof locationSchema>;

/** Contract fields as this format names them (per location). */
export const TRACCAR_JSON_FIELDS: FieldNames = {
  ts: "location.timestamp",
  lat: "location.coords.latitude",
  lon: "location.coords.longitude",
  speed: "location.coords.speed",
  course: "location.coords.heading",
  alt: "location.coords.altitude",
  accuracy: "location.coords.accuracy",
  battery: "location.battery.level",
  "attributes.*": "location.extras.*",
};

const present = (v: number | null | undefined): v is number => v !== undefined && v !== null;

function toPosition(location: TraccarLocation, field: string): Position {
  const { coords } = location;
  const position: Position = {
    ts: parseIsoTime(`${field}.timestamp`, location.timestamp),
    lat: coords.latitude,
    lon: coords.longitude,
  };
  // The format says "unknown" with a negative speed or heading.
  if (present(coords.speed) && coords.speed >= 0) position.speed = coords.speed;
  if (present(coords.heading) && coords.heading >= 0) {
    position.course = normaliseCourse(coords.heading);
  }
  if (present(coords.altitude)) position.alt = coords.altitude;
  if (present(coords.accuracy) && coords.accuracy >= 0) position.accuracy = coords.accuracy;
  const level = location.battery?.level;
  if (present(level) && level >= 0) position.battery = Math.round(level * 1000) / 10;

  const attributes = newAttributes();
  const { extras } = location;
  if (extras !== undefined && extras !== null) {
    if (typeof extras !== "object" || Array.isArray(extras)) {
      throw badRequest(`${field}.extras`, "must be an object");
    }
    // Extras first, so the app's own fields win over a same-named extra. Values are checked by
    // the position schema like any attribute (flat strings, numbers, booleans).
    for (const [key, value] of Object.entries(extras)) attributes[key] = value as string;
  }
  if (typeof location.battery?.is_charging === "boolean") {
    attributes.charge = location.battery.is_charging;
  }
  if (typeof location.is_moving === "boolean") attributes.is_moving = location.is_moving;
  if (present(location.odometer)) attributes.odometer = location.odometer;
  if (location.event) attributes.event = location.event;
  if (location.alarm) attributes.alarm = location.alarm;
  if (location.activity?.type) attributes.activity = location.activity.type;
  if (typeof location.mock === "boolean") attributes.mock = location.mock;
  if (Object.keys(attributes).length > 0) position.attributes = attributes;
  return position;
}

function parse<T>(schema: z.ZodType<T>, value: unknown, prefix: string): T {
  const parsed = schema.safeParse(value, { reportInput: true });
  if (parsed.success) return parsed.data;
  const { field, message } = describeIssue(parsed.error.issues[0]);
  throw badRequest([prefix, field].filter(Boolean).join(".") || "body", message);
}

export function traccarFromJson(body: unknown): { deviceId: string; positions: Position[] } {
  const { device_id: deviceId, location } = parse(bodySchema, body, "");
  if (!Array.isArray(location)) {
    return {
      deviceId,
      positions: [toPosition(parse(locationSchema, location, "location"), "location")],
    };
  }
  if (location.length === 0 || location.length > MAX_BATCH) {
    throw badRequest("location", `must hold 1 to ${MAX_BATCH} locations`);
  }
  const positions = location.map((l, i) =>
    toPosition(parse(locationSchema, l, `location.${i}`), `location.${i}`),
  );
  return { deviceId, positions };
}
