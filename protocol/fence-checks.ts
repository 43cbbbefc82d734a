import { doubleArea, extentOf, project, type Shape } from "./fence-plane.ts";

/**
 * The rules a fence's shape must keep that zod cannot state (protocol/geofence.ts calls them):
 * no repeated or closing vertex, a bounded extent, a polygon that neither crosses itself nor
 * encloses nothing. Errors carry a path relative to the shape.
 */

/** Larger fences would leave the local flat approximation (protocol/geo.ts). */
export const MAX_FENCE_EXTENT_M = 500_000;

/** Two vertices closer than this (metres) are the same vertex. */
const SAME_VERTEX_M = 0.01;
/** A polygon must enclose at least this many square metres. */
const MIN_AREA_M2 = 1;

/** The first vertex (index ≥ 1) closer than SAME_VERTEX_M to the one before, or -1. */
function repeatedVertex(xs: Float64Array, ys: Float64Array): number {
  for (let i = 1; i < xs.length; i++) {
    if (Math.hypot(xs[i]! - xs[i - 1]!, ys[i]! - ys[i - 1]!) < SAME_VERTEX_M) return i;
  }
  return -1;
}

/** Sign of the turn a → b → c: > 0 left, < 0 right, 0 collinear. */
function orient(ax: number, ay: number, bx: number, by: number, cx: number, cy: number): number {
  return (bx - ax) * (cy - ay) - (by - ay) * (cx - ax);
}

/** Whether c, collinear with a–b, lies within the segment's box. */
function onSegment(
  ax: number,
  ay: number,
  bx: number,
  by: number,
  cx: number,
  cy: number,
): boolean {
  return (
    Math.min(ax, bx) <= cx &&
    cx <= Math.max(ax, bx) &&
    Math.min(ay, by) <= cy &&
    cy <= Math.max(ay, by)
  );
}

/**
 * Where the ring's edges meet other than at the corners they share: two edges (numbered by their
 * first vertex, from 0) that cross or touch, or two consecutive edges that fold back onto each
 * other. Edges are swept in order of their west end, so only pairs whose boxes overlap are tested.
 */
function selfIntersection(
  xs: Float64Array,
  ys: Float64Array,
): { first: number; second: number; how: string } | null {
  const n = xs.length;
  // Consecutive edges meet at their shared corner; they must not also run along each other.
  for (let v = 0; v < n; v++) {
    const prev = (v + n - 1) % n;
    const next = (v + 1) % n;
    const ux = xs[prev]! - xs[v]!;
    const uy = ys[prev]! - ys[v]!;
    const wx = xs[next]! - xs[v]!;
    const wy = ys[next]! - ys[v]!;
    const longer = Math.max(Math.hypot(ux, uy), Math.hypot(wx, wy));
    // The shorter arm's tip lies on the longer arm: the ring goes back the way it came.
    if (ux * wx + uy * wy > 0 && Math.abs(ux * wy - uy * wx) / longer < SAME_VERTEX_M) {
      return { first: Math.min(prev, v), second: Math.max(prev, v), how: "overlap" };
    }
  }
  if (n < 4) return null;
  const x1 = new Float64Array(n);
  const y1 = new Float64Array(n);
  const x2 = new Float64Array(n);
  const y2 = new Float64Array(n);
  const west = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const j = (i + 1) % n;
    x1[i] = xs[i]!;
    y1[i] = ys[i]!;
    x2[i] = xs[j]!;
    y2[i] = ys[j]!;
    west[i] = Math.min(xs[i]!, xs[j]!);
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => west[a]! - west[b]!);
  let found: { first: number; second: number; how: string } | null = null;
  for (let p = 0; p < n; p++) {
    const i = order[p]!;
    const ax = x1[i]!;
    const ay = y1[i]!;
    const bx = x2[i]!;
    const by = y2[i]!;
    const east = Math.max(ax, bx);
    const south = Math.min(ay, by);
    const north = Math.max(ay, by);
    for (let q = p + 1; q < n; q++) {
      const j = order[q]!;
      if (west[j]! > east) break;
      const diff = Math.abs(i - j);
      if (diff === 1 || diff === n - 1) continue; // consecutive: checked above
      const cx = x1[j]!;
      const cy = y1[j]!;
      const dx = x2[j]!;
      const dy = y2[j]!;
      if (Math.max(cy, dy) < south || Math.min(cy, dy) > north) continue;
      const o1 = orient(ax, ay, bx, by, cx, cy);
      const o2 = orient(ax, ay, bx, by, dx, dy);
      const o3 = orient(cx, cy, dx, dy, ax, ay);
      const o4 = orient(cx, cy, dx, dy, bx, by);
      let how: string | null = null;
      if (
        ((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) &&
        ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0))
      ) {
        how = "cross";
      } else if (
        (o1 === 0 && onSegment(ax, ay, bx, by, cx, cy)) ||
        (o2 === 0 && onSegment(ax, ay, bx, by, dx, dy)) ||
        (o3 === 0 && onSegment(cx, cy, dx, dy, ax, ay)) ||
        (o4 === 0 && onSegment(cx, cy, dx, dy, bx, by))
      ) {
        how = "touch";
      }
      if (how === null) continue;
      const first = Math.min(i, j);
      const second = Math.max(i, j);
      // Report the pair that comes first along the ring, whichever the sweep met first.
      if (!found || first < found.first || (first === found.first && second < found.second)) {
        found = { first, second, how };
      }
    }
  }
  return found;
}

/** Where a shape breaks a rule zod cannot state, relative to the shape; null when it is fine. */
export function shapeProblem(shape: Shape): { path: (string | number)[]; rule: string } | null {
  const points =
    shape.type === "circle" ? [shape.center] : shape.type === "polygon" ? shape.ring : shape.line;
  if (shape.type === "polygon" && points.length < 3) return null; // zod says so
  if (shape.type === "corridor" && points.length < 2) return null;
  const plane = project(shape);
  const key = shape.type === "polygon" ? "ring" : "line";
  if (shape.type !== "circle") {
    const repeated = repeatedVertex(plane.xs, plane.ys);
    if (repeated >= 0)
      return { path: [key, repeated], rule: "must not repeat the previous vertex" };
  }
  if (shape.type === "polygon") {
    const last = points.length - 1;
    if (
      Math.hypot(plane.xs[last]! - plane.xs[0]!, plane.ys[last]! - plane.ys[0]!) < SAME_VERTEX_M
    ) {
      return {
        path: ["ring", last],
        rule: "must not repeat the first vertex as the last (the ring closes itself)",
      };
    }
  }
  const extent = extentOf(plane);
  if (!(extent <= MAX_FENCE_EXTENT_M)) {
    return {
      path: [],
      rule: `must span at most ${MAX_FENCE_EXTENT_M / 1000} km (this one spans ${Math.round(extent / 1000)} km)`,
    };
  }
  if (shape.type === "polygon") {
    const crossing = selfIntersection(plane.xs, plane.ys);
    if (crossing) {
      return {
        path: ["ring"],
        rule: `must not intersect itself (edges ${crossing.first} and ${crossing.second} ${crossing.how})`,
      };
    }
    if (!(Math.abs(doubleArea(plane.xs, plane.ys)) / 2 >= MIN_AREA_M2)) {
      return { path: ["ring"], rule: "must enclose an area" };
    }
  }
  return null;
}
