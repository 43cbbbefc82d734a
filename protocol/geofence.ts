import { z } from "zod";
import { geofenceNameSchema } from "./admin.ts";
import { MAX_FENCE_EXTENT_M, shapeProblem } from "./fence-geometry.ts";

/**
 * The geofence contract (REST, the CLI, the dashboard's editor, GeoJSON files): three shapes, the
 * limits they must keep, and the events fences and devices give rise to. Vertices are
 * `{ lat, lon }` objects, never bare pairs, so no caller can swap the two.
 */

export { MAX_FENCE_EXTENT_M };
export const MAX_CIRCLE_RADIUS_M = 100_000;
export const MAX_CORRIDOR_WIDTH_M = 10_000;
export const MAX_FENCE_VERTICES = 1_000;
/** A radius or width below this is a typo or a unit mistake: GPS itself is not that precise. */
export const MIN_FENCE_SIZE_M = 5;

const vertex = z.strictObject({
  lat: z.number({ error: "must be a number" }).min(-90, { error: "must be ≥ -90" }).max(90, {
    error: "must be ≤ 90",
  }),
  lon: z
    .number({ error: "must be a number" })
    .min(-180, { error: "must be ≥ -180" })
    .max(180, { error: "must be ≤ 180" }),
});
export type LatLon = z.infer<typeof vertex>;

const metres = (min: number, max: number) =>
  z
    .number({ error: "must be a number of metres" })
    .refine(Number.isFinite, { error: "must be a finite number of metres" })
    .min(min, { error: `must be at least ${min} m` })
    .max(max, { error: `must be at most ${max} m` });

const circle = z.strictObject({
  type: z.literal("circle"),
  center: vertex,
  radius: metres(MIN_FENCE_SIZE_M, MAX_CIRCLE_RADIUS_M),
});
const polygon = z.strictObject({
  type: z.literal("polygon"),
  /** The ring without its closing vertex: 3 or more corners, in either winding. */
  ring: z
    .array(vertex)
    .min(3, { error: "must have at least 3 vertices" })
    .max(MAX_FENCE_VERTICES, { error: `must have at most ${MAX_FENCE_VERTICES} vertices` }),
});
const corridor = z.strictObject({
  type: z.literal("corridor"),
  line: z
    .array(vertex)
    .min(2, { error: "must have at least 2 points" })
    .max(MAX_FENCE_VERTICES, { error: `must have at most ${MAX_FENCE_VERTICES} points` }),
  /** Full width: a fix is inside when it is within width / 2 of the line. */
  width: metres(MIN_FENCE_SIZE_M, MAX_CORRIDOR_WIDTH_M),
});

export const fenceShapeSchema = z
  .discriminatedUnion("type", [circle, polygon, corridor], {
    error: 'must be a circle, polygon or corridor ({ "type": … })',
  })
  .superRefine((shape, ctx) => {
    const problem = shapeProblem(shape);
    if (problem) ctx.addIssue({ code: "custom", message: problem.rule, path: problem.path });
  });
export type FenceShape = z.infer<typeof fenceShapeSchema>;

/** A speed in m/s, as fixes carry it. */
const speedLimit = z
  .number({ error: "must be a number of m/s" })
  .gt(0, { error: "must be > 0 m/s" })
  .max(300, { error: "must be at most 300 m/s" })
  .nullable();

const color = z
  .string({ error: "must be a string" })
  .regex(/^#[0-9a-fA-F]{6}$/, { error: "must be a colour as #rrggbb" });

export const newGeofenceSchema = z.strictObject({
  name: geofenceNameSchema,
  color: color.default("#e4572e"),
  shape: fenceShapeSchema,
  /** Overspeed inside this fence above this speed; null: the global limit applies. */
  speedLimit: speedLimit.default(null),
});
export type NewGeofence = z.input<typeof newGeofenceSchema>;

export const geofenceChangeSchema = z
  .strictObject({
    name: geofenceNameSchema,
    color,
    shape: fenceShapeSchema,
    speedLimit,
  })
  .partial();
export type GeofenceChange = z.infer<typeof geofenceChangeSchema>;

export interface Geofence {
  id: number;
  name: string;
  color: string;
  shape: FenceShape;
  speedLimit: number | null;
  createdAt: number;
  updatedAt: number;
}

// ---- events ------------------------------------------------------------------------------

export const EVENT_TYPES = [
  "geofence_enter",
  "geofence_exit",
  "overspeed",
  "alarm",
  "battery_low",
  "offline",
  "online",
  "stopped",
  "moving",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Something that happened to a device, as stored, listed over REST and pushed live. */
export interface FleetEvent {
  id: number;
  deviceId: string;
  type: EventType;
  /**
   * When it happened (epoch ms): an interpolated crossing time, an episode's start, the start of
   * a stop (stopped) or its last fix (moving).
   */
  ts: number;
  lat: number;
  lon: number;
  /** The fence it concerns, or null. */
  geofenceId: number | null;
  /**
   * Type-specific facts: a fence's name at the time; an overspeed's `peak`, `limit` (m/s),
   * `durationS`, `endedAt`; an alarm's `alarm` ("sos", …); a low battery's `battery`, `threshold`;
   * offline's `lastFixAt` (its time is that fix's plus `--offline-minutes`); online's `offlineS`;
   * moving's `stoppedS` (how long the stop it ends lasted; stopped carries nothing).
   */
  details: Record<string, string | number | boolean | null>;
}

export interface EventPage {
  events: FleetEvent[];
  /** Pass as `before` for the next (older) page; null at the end. */
  next: number | null;
}
