import {
  newGeofenceSchema,
  type FenceShape,
  type NewGeofence,
} from "../../../protocol/geofence.ts";
import { KMH_PER_MS, kmhToMs } from "./fence-units.ts";
import { crossingEdges } from "./geo/fence-math.ts";

/**
 * The fence editor's checks: the protocol's own schema (protocol/geofence.ts, with the
 * self-intersection and size rules of fence-geometry.ts), run in the browser while the admin
 * draws, so the form names a problem before the server has to. Speeds are km/h on screen and m/s
 * on the wire. Loaded on demand (it brings zod): see fence-draft.svelte.ts.
 */

/** protocol/geofence.ts caps a speed limit at 300 m/s. */
const MAX_SPEED_KMH = 300 * KMH_PER_MS;

export interface FenceForm {
  name: string;
  color: string;
  /** Null or empty: no limit of its own (the global overspeed limit applies). */
  speedKmh: number | null | undefined;
  shape: FenceShape | null;
}

export interface FenceProblem {
  /** The request field, dotted as the server names it: `name`, `shape.ring`, `speedLimit`. */
  field: string;
  /** A sentence for the admin: "Radius must be at least 5 m." */
  text: string;
  /** For a ring that crosses itself: the two edges (edge i runs from corner i to the next). */
  edges?: [number, number];
}

/** What to call a field in a sentence, from its path in the request. */
function fieldLabel(path: readonly PropertyKey[], shape: FenceShape | null): string {
  const [top, key, index] = path;
  if (top === "name") return "Name";
  if (top === "color") return "Colour";
  if (top === "speedLimit") return "Speed limit";
  if (key === "radius") return "Radius";
  if (key === "width") return "Width";
  if (key === "center") return "Centre";
  if (key === "ring") return typeof index === "number" ? `Corner ${index + 1}` : "Outline";
  if (key === "line") return typeof index === "number" ? `Point ${index + 1}` : "Route";
  return shape?.type === "circle" ? "Circle" : shape?.type === "corridor" ? "Corridor" : "Shape";
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The request for this form, or the first rule it breaks, in the order the form reads: the shape
 * (drawn first), then name, speed limit and colour.
 */
export function checkFence(form: FenceForm): { body: NewGeofence } | { problem: FenceProblem } {
  if (!form.shape) {
    return { problem: { field: "shape", text: "Draw the fence on the map first." } };
  }
  const speed = form.speedKmh;
  if (speed !== null && speed !== undefined) {
    if (!Number.isFinite(speed) || speed <= 0) {
      return { problem: { field: "speedLimit", text: "Speed limit must be more than 0 km/h." } };
    }
    if (speed > MAX_SPEED_KMH) {
      return {
        problem: {
          field: "speedLimit",
          text: `Speed limit must be at most ${Math.floor(MAX_SPEED_KMH)} km/h.`,
        },
      };
    }
  }
  const body: NewGeofence = {
    name: form.name,
    color: form.color,
    shape: form.shape,
    speedLimit: speed === null || speed === undefined ? null : kmhToMs(speed),
  };
  const parsed = newGeofenceSchema.safeParse(body);
  if (parsed.success) return { body };
  const rank = (path: readonly PropertyKey[]) =>
    ["shape", "name", "speedLimit", "color"].indexOf(String(path[0]));
  const issue = parsed.error.issues.slice().sort((a, b) => rank(a.path) - rank(b.path))[0]!;
  const field = issue.path.map(String).join(".");
  const edges = field === "shape.ring" ? crossingEdges(issue.message) : null;
  if (edges) {
    const how = /touch\)/.test(issue.message) ? "touch" : "cross";
    return {
      problem: {
        field,
        text: `The outline must not intersect itself: the edges marked in red ${how}. Drag a corner to untangle it.`,
        edges,
      },
    };
  }
  return {
    problem: {
      field,
      text: `${capitalise(fieldLabel(issue.path, form.shape))} ${issue.message}.`,
    },
  };
}
