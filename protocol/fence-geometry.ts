import { type Bbox, metresPerDegree } from "./geo.ts";

/**
 * Fence geometry shared by the server (event detection) and the dashboard (the editor's checks):
 * signed distances in metres on a local flat projection around each fence, and the boundary
 * crossings a straight move between two fixes makes. Pure functions, no I/O.
 *
 * Only types come from geofence.ts (which imports this file's checks).
 *
 * The projection: x = east, y = north, in metres from the centre of the fence's bbox, with the
 * cheap-ruler factors of that centre's latitude (protocol/geo.ts), longitudes taken the short way
 * round across the antimeridian. It is affine, so a straight move in degrees is a straight move in
 * metres, and every distance below is an exact Euclidean distance in that plane: 1-Lipschitz,
 * which is what lets `trace` stride along a move without stepping over a crossing.
 */

export interface Vertex {
  lat: number;
  lon: number;
}

export type Shape =
  | { type: "circle"; center: Vertex; radius: number }
  | { type: "polygon"; ring: Vertex[] }
  | { type: "corridor"; line: Vertex[]; width: number };

/** Larger fences would leave the local flat approximation (protocol/geo.ts). */
export const MAX_FENCE_EXTENT_M = 500_000;

/** Two vertices closer than this (metres) are the same vertex. */
const SAME_VERTEX_M = 0.01;
/** A polygon must enclose at least this many square metres. */
const MIN_AREA_M2 = 1;
/** `trace` never strides less than this (metres), however close to a level it is. */
const MIN_STEP_M = 0.25;
/** `trace` narrows each crossing down to this (metres) before interpolating. */
const CROSSING_TOLERANCE_M = 0.01;
/**
 * `trace` measures a polygon's or corridor's distance exactly only up to this far past the band,
 * from the edges that come that close to the move; farther out it strides this far at a time.
 */
const REACH_M = 100;

/** Longitude difference the short way round across the antimeridian, in (-180, 180]. */
function lonDelta(lon1: number, lon2: number): number {
  const dLon = lon2 - lon1;
  if (dLon > 180) return dLon - 360;
  if (dLon < -180) return dLon + 360;
  return dLon;
}

/** A longitude brought back into [-180, 180] (inputs within one turn of it). */
function wrapLon(lon: number): number {
  if (lon > 180) return lon - 360;
  if (lon < -180) return lon + 360;
  return lon;
}

/** The shape projected onto its local plane. */
interface Plane {
  lat0: number;
  lon0: number;
  kx: number;
  ky: number;
  /** The vertices (or the circle's centre) in metres. */
  xs: Float64Array;
  ys: Float64Array;
  /** What the shape covers, in metres, grown by the radius or half width. */
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

function project(shape: Shape): Plane {
  const points =
    shape.type === "circle" ? [shape.center] : shape.type === "polygon" ? shape.ring : shape.line;
  const grow =
    shape.type === "circle" ? shape.radius : shape.type === "corridor" ? shape.width / 2 : 0;
  // The centre of the vertices' bbox, longitudes measured from the first vertex the short way.
  const first = points[0] ?? { lat: 0, lon: 0 };
  let minDLon = 0;
  let maxDLon = 0;
  let minLat = first.lat;
  let maxLat = first.lat;
  for (const p of points) {
    const dLon = lonDelta(first.lon, p.lon);
    if (dLon < minDLon) minDLon = dLon;
    if (dLon > maxDLon) maxDLon = dLon;
    if (p.lat < minLat) minLat = p.lat;
    if (p.lat > maxLat) maxLat = p.lat;
  }
  const lat0 = (minLat + maxLat) / 2;
  const lon0 = wrapLon(first.lon + (minDLon + maxDLon) / 2);
  const { kx, ky } = metresPerDegree(lat0);
  const xs = new Float64Array(points.length);
  const ys = new Float64Array(points.length);
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  points.forEach((p, i) => {
    const x = lonDelta(lon0, p.lon) * kx;
    const y = (p.lat - lat0) * ky;
    xs[i] = x;
    ys[i] = y;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  });
  return {
    lat0,
    lon0,
    kx,
    ky,
    xs,
    ys,
    minX: minX - grow,
    minY: minY - grow,
    maxX: maxX + grow,
    maxY: maxY + grow,
  };
}

const extentOf = (plane: Plane) => Math.hypot(plane.maxX - plane.minX, plane.maxY - plane.minY);

/** Twice the signed area of the ring (shoelace), counter-clockwise positive. */
function doubleArea(xs: Float64Array, ys: Float64Array): number {
  const n = xs.length;
  let sum = 0;
  for (let i = 0, j = n - 1; i < n; j = i++) sum += xs[j]! * ys[i]! - xs[i]! * ys[j]!;
  return sum;
}

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

/** A fix, or a point on the way between two, with its time. */
export interface TimedPoint extends Vertex {
  ts: number;
}

/** Per device and fence, what the tracker must remember between fixes (JSON-serialisable). */
export interface FenceTrackState {
  inside: boolean;
  /** The last crossing of the boundary against `inside` not yet confirmed by the band. */
  crossing: TimedPoint | null;
}

export interface FenceTransition {
  /** True: entered; false: left. */
  inside: boolean;
  /** Where and when the path crossed the boundary (interpolated). */
  at: TimedPoint;
}

const CIRCLE = 0;
const POLYGON = 1;
const CORRIDOR = 2;

export class FenceGeometry {
  /**
   * Degrees, grown by the corridor's half width: what a spatial index stores. West is greater
   * than east when the fence crosses the antimeridian; a fence around a pole spans -180 to 180.
   */
  readonly bbox: Bbox;
  /** A characteristic half size in metres (radius, half width, half of √area): caps the band. */
  readonly size: number;

  private readonly kind: number;
  private readonly lat0: number;
  private readonly lon0: number;
  private readonly kx: number;
  private readonly ky: number;
  /** Circle radius or corridor half width, metres. */
  private readonly offset: number;
  /** Edges (polygon, closing edge included) or segments (corridor): start, direction, 1/length². */
  private readonly ex: Float64Array;
  private readonly ey: Float64Array;
  private readonly edx: Float64Array;
  private readonly edy: Float64Array;
  private readonly inv: Float64Array;
  private readonly minX: number;
  private readonly minY: number;
  private readonly maxX: number;
  private readonly maxY: number;
  /** `trace`'s list of the edges near a move (reused: one trace runs at a time). */
  private readonly near: Uint32Array;

  constructor(shape: Shape) {
    const plane = project(shape);
    this.lat0 = plane.lat0;
    this.lon0 = plane.lon0;
    this.kx = plane.kx;
    this.ky = plane.ky;
    this.minX = plane.minX;
    this.minY = plane.minY;
    this.maxX = plane.maxX;
    this.maxY = plane.maxY;

    const { xs, ys } = plane;
    const n = xs.length;
    // A polygon's edges close the ring; a corridor of a single point is a disc (one empty segment).
    const edges =
      shape.type === "polygon"
        ? n
        : shape.type === "corridor"
          ? Math.max(n - 1, Math.min(n, 1))
          : 0;
    this.near = new Uint32Array(edges);
    this.ex = new Float64Array(edges);
    this.ey = new Float64Array(edges);
    this.edx = new Float64Array(edges);
    this.edy = new Float64Array(edges);
    this.inv = new Float64Array(edges);
    for (let i = 0; i < edges; i++) {
      const j = shape.type === "polygon" ? (i + 1) % n : Math.min(i + 1, n - 1);
      const dx = xs[j]! - xs[i]!;
      const dy = ys[j]! - ys[i]!;
      const length2 = dx * dx + dy * dy;
      this.ex[i] = xs[i]!;
      this.ey[i] = ys[i]!;
      this.edx[i] = dx;
      this.edy[i] = dy;
      this.inv[i] = length2 > 0 ? 1 / length2 : 0;
    }

    if (shape.type === "circle") {
      this.kind = CIRCLE;
      this.offset = shape.radius;
      this.size = shape.radius;
    } else if (shape.type === "corridor") {
      this.kind = CORRIDOR;
      this.offset = shape.width / 2;
      this.size = shape.width / 2;
    } else {
      this.kind = POLYGON;
      this.offset = 0;
      this.size = Math.sqrt(Math.abs(doubleArea(xs, ys)) / 2) / 2;
    }

    const south = Math.max(-90, this.lat0 + this.minY / this.ky);
    const north = Math.min(90, this.lat0 + this.maxY / this.ky);
    const spanLon = (this.maxX - this.minX) / this.kx;
    if (!(spanLon < 360)) {
      this.bbox = { west: -180, south, east: 180, north };
    } else {
      const west = wrapLon(this.lon0 + this.minX / this.kx);
      const east = wrapLon(this.lon0 + this.maxX / this.kx);
      this.bbox = { west, south, east, north };
    }
  }

  /** Metres from the boundary: negative inside, positive outside. */
  signedDistance(p: Vertex): number {
    return this.distanceAt(lonDelta(this.lon0, p.lon) * this.kx, (p.lat - this.lat0) * this.ky);
  }

  /** The signed distance of a point of the local plane (metres). */
  private distanceAt(x: number, y: number): number {
    if (this.kind === CIRCLE) return Math.sqrt(x * x + y * y) - this.offset;
    const { ex, ey, edx, edy, inv } = this;
    const polygon = this.kind === POLYGON;
    let best = Infinity;
    let inside = false;
    for (let i = 0; i < ex.length; i++) {
      const x1 = ex[i]!;
      const y1 = ey[i]!;
      const dx = edx[i]!;
      const dy = edy[i]!;
      // Even-odd: does a ray from (x, y) towards +x cross this edge?
      if (polygon && y1 > y !== y1 + dy > y && x < x1 + ((y - y1) * dx) / dy) inside = !inside;
      let t = ((x - x1) * dx + (y - y1) * dy) * inv[i]!;
      if (t < 0) t = 0;
      else if (t > 1) t = 1;
      const qx = x1 + t * dx - x;
      const qy = y1 + t * dy - y;
      const d2 = qx * qx + qy * qy;
      if (d2 < best) best = d2;
    }
    const distance = Math.sqrt(best);
    return polygon ? (inside ? -distance : distance) : distance - this.offset;
  }

  /** Even-odd: whether a point of the local plane is inside the polygon. */
  private contains(x: number, y: number): boolean {
    const { ex, ey, edx, edy } = this;
    let inside = false;
    for (let i = 0; i < ex.length; i++) {
      const y1 = ey[i]!;
      const dy = edy[i]!;
      if (y1 > y !== y1 + dy > y && x < ex[i]! + ((y - y1) * edx[i]!) / dy) inside = !inside;
    }
    return inside;
  }

  /**
   * The signed distance along the move (ax, ay) + f·(mx, my), f in [0, 1], for `trace`: exact
   * where it is within `cap` of the boundary and ±cap beyond, which keeps every level nearer than
   * `cap` where it is and the function 1-Lipschitz. Only the edges that come within `cap` of the
   * move's box are measured; a polygon's sign comes from where the move meets its edges, each
   * stretch in between tested once.
   */
  private alongMove(
    ax: number,
    ay: number,
    mx: number,
    my: number,
    cap: number,
  ): (f: number) => number {
    if (this.kind === CIRCLE) {
      return (f) => {
        const x = ax + f * mx;
        const y = ay + f * my;
        return Math.sqrt(x * x + y * y) - this.offset;
      };
    }
    const { ex, ey, edx, edy, inv, near } = this;
    const reach = cap + this.offset;
    const west = Math.min(ax, ax + mx) - reach;
    const east = Math.max(ax, ax + mx) + reach;
    const south = Math.min(ay, ay + my) - reach;
    const north = Math.max(ay, ay + my) + reach;
    let count = 0;
    for (let i = 0; i < ex.length; i++) {
      const x1 = ex[i]!;
      const y1 = ey[i]!;
      const x2 = x1 + edx[i]!;
      const y2 = y1 + edy[i]!;
      if (x1 < west && x2 < west) continue;
      if (x1 > east && x2 > east) continue;
      if (y1 < south && y2 < south) continue;
      if (y1 > north && y2 > north) continue;
      near[count++] = i;
    }

    // A polygon's sign, stretch by stretch between the points where the move meets an edge.
    const starts: number[] = [0];
    const signs: number[] = [1];
    if (this.kind === POLYGON) {
      const meets: number[] = [];
      const m2 = mx * mx + my * my;
      for (let k = 0; k < count; k++) {
        const i = near[k]!;
        const ux = ex[i]! - ax;
        const uy = ey[i]! - ay;
        const dx = edx[i]!;
        const dy = edy[i]!;
        const denominator = mx * dy - my * dx;
        if (denominator === 0) {
          // Parallel; on the move's line, its ends bound where the two overlap.
          if (ux * my - uy * mx === 0) {
            meets.push((ux * mx + uy * my) / m2, ((ux + dx) * mx + (uy + dy) * my) / m2);
          }
          continue;
        }
        const f = (ux * dy - uy * dx) / denominator;
        const t = (ux * my - uy * mx) / denominator;
        // Generous at the ends: a meeting too many only splits a stretch, one missed flips it.
        if (f > -1e-9 && f < 1 + 1e-9 && t > -1e-9 && t < 1 + 1e-9) meets.push(f);
      }
      const cuts = meets.filter((f) => f > 0 && f < 1).sort((p, q) => p - q);
      cuts.push(1);
      starts.length = 0;
      signs.length = 0;
      let from = 0;
      for (const to of cuts) {
        if (!(to > from)) continue;
        const mid = (from + to) / 2;
        starts.push(from);
        signs.push(this.contains(ax + mid * mx, ay + mid * my) ? -1 : 1);
        from = to;
      }
    }
    const signAt = (f: number): number => {
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= f) lo = mid;
        else hi = mid - 1;
      }
      return signs[lo]!;
    };

    const corridor = this.kind === CORRIDOR;
    const far = reach * reach;
    return (f) => {
      const x = ax + f * mx;
      const y = ay + f * my;
      let best = far;
      for (let k = 0; k < count; k++) {
        const i = near[k]!;
        const x1 = ex[i]!;
        const y1 = ey[i]!;
        const dx = edx[i]!;
        const dy = edy[i]!;
        let t = ((x - x1) * dx + (y - y1) * dy) * inv[i]!;
        if (t < 0) t = 0;
        else if (t > 1) t = 1;
        const qx = x1 + t * dx - x;
        const qy = y1 + t * dy - y;
        const d2 = qx * qx + qy * qy;
        if (d2 < best) best = d2;
      }
      const distance = Math.sqrt(best);
      return corridor ? distance - this.offset : signAt(f) * distance;
    };
  }

  /**
   * The transitions a straight move from `a` to `b` makes, given the state before; mutates
   * `state` to the state after. A transition is confirmed once the path is `band / 2` metres past
   * the boundary, and dated at the boundary crossing that led there.
   *
   * A state that disagrees with `a` (outside with `a` inside and no crossing kept, as for a first
   * fix or a fence drawn over a device) takes `a` itself as the crossing. Interpolated times are
   * not rounded.
   */
  trace(a: TimedPoint, b: TimedPoint, state: FenceTrackState, band: number): FenceTransition[] {
    const half = band > 0 ? band / 2 : 0;
    const transitions: FenceTransition[] = [];
    const ax = lonDelta(this.lon0, a.lon) * this.kx;
    const ay = (a.lat - this.lat0) * this.ky;
    // b relative to a, so a move across the antimeridian stays short whatever the fence's side.
    const dLon = lonDelta(a.lon, b.lon);
    const dLat = b.lat - a.lat;
    const mx = dLon * this.kx;
    const my = dLat * this.ky;
    const length = Math.sqrt(mx * mx + my * my);

    if (!state.inside) {
      // Nowhere within band / 2 of the fence's box: nowhere near its inside either.
      const bx = ax + mx;
      const by = ay + my;
      if (
        Math.min(ax, bx) - half > this.maxX ||
        Math.max(ax, bx) + half < this.minX ||
        Math.min(ay, by) - half > this.maxY ||
        Math.max(ay, by) + half < this.minY
      ) {
        state.crossing = null;
        return transitions;
      }
    }

    const pointAt = (f: number): TimedPoint =>
      f === 0
        ? { lat: a.lat, lon: a.lon, ts: a.ts }
        : { lat: a.lat + f * dLat, lon: wrapLon(a.lon + f * dLon), ts: a.ts + f * (b.ts - a.ts) };
    const distanceAt =
      length > 0 ? this.alongMove(ax, ay, mx, my, half + REACH_M) : () => this.distanceAt(ax, ay);
    /** On the far side of the boundary from `state.inside` (the boundary itself is not). */
    const against = (d: number) => (state.inside ? d > 0 : d < 0);
    const confirm = (f: number, d: number) => {
      if (against(d) && Math.abs(d) >= half) {
        transitions.push({ inside: !state.inside, at: state.crossing ?? pointAt(f) });
        state.inside = !state.inside;
        state.crossing = null;
      }
    };

    let f = 0;
    let d = distanceAt(0);
    if (!against(d)) state.crossing = null;
    else state.crossing ??= pointAt(0);
    confirm(0, d);
    if (!(length > 0)) return transitions;

    const minStep = MIN_STEP_M / length;
    while (f < 1) {
      // No level (the boundary, and band / 2 past it) is nearer than this: stride that far.
      const gap = Math.min(Math.abs(d), Math.abs(state.inside ? d - half : d + half));
      const f1 = Math.min(1, f + Math.max(gap / length, minStep));
      const d1 = distanceAt(f1);
      if (!against(d) && against(d1)) {
        // Crossed the boundary between f and f1: narrow it down, then interpolate.
        let lo = f;
        let hi = f1;
        let dLo = d;
        let dHi = d1;
        while ((hi - lo) * length > CROSSING_TOLERANCE_M) {
          const mid = (lo + hi) / 2;
          const dMid = distanceAt(mid);
          if (against(dMid)) {
            hi = mid;
            dHi = dMid;
          } else {
            lo = mid;
            dLo = dMid;
          }
        }
        const t = dLo === dHi ? 0.5 : dLo / (dLo - dHi);
        state.crossing = pointAt(lo + Math.min(1, Math.max(0, t)) * (hi - lo));
      } else if (against(d) && !against(d1)) {
        state.crossing = null; // back where the state says it is
      }
      confirm(f1, d1);
      f = f1;
      d = d1;
    }
    return transitions;
  }
}
