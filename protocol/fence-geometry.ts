import { doubleArea, lonDelta, project, wrapLon, type Shape, type Vertex } from "./fence-plane.ts";
import type { Bbox } from "./geo.ts";

/**
 * Fence geometry shared by the server (event detection) and the dashboard (the editor's checks):
 * signed distances in metres on a local flat projection around each fence, and the boundary
 * crossings a straight move between two fixes makes. Pure functions, no I/O.
 *
 * Only types come from geofence.ts (which imports this file's checks).
 *
 * The plane itself is in fence-plane.ts, the shape checks in fence-checks.ts.
 */

export type { Shape, Vertex } from "./fence-plane.ts";
export { MAX_FENCE_EXTENT_M, shapeProblem } from "./fence-checks.ts";

/** `trace` never strides less than this (metres), however close to a level it is. */
const MIN_STEP_M = 0.25;
/** `trace` narrows each crossing down to this (metres) before interpolating. */
const CROSSING_TOLERANCE_M = 0.01;
/**
 * `trace` measures a polygon's or corridor's distance exactly only up to this far past the band,
 * from the edges that come that close to the move; farther out it strides this far at a time.
 */
const REACH_M = 100;

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
  /** The move `trace` is measuring (reused, for the same reason). */
  private readonly move = {
    ax: 0,
    ay: 0,
    mx: 0,
    my: 0,
    /** How many of `near` are in use. */
    count: 0,
    /** Squared distance beyond which edges are not measured. */
    far: 0,
    /** A polygon's stretches along the move: where each starts (f) and its sign. */
    stretches: 1,
    starts: [0],
    signs: [1],
  };

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
   * Set up `distanceAlong` for the move (ax, ay) + f·(mx, my), f in [0, 1]: exact where it is
   * within `cap` of the boundary and ±cap beyond, which keeps every level nearer than `cap` where
   * it is and the function 1-Lipschitz. Only the edges that come within `cap` of the move's box
   * are measured; a polygon's sign comes from where the move meets its edges, each stretch in
   * between tested once.
   *
   * The move lives in fields rather than in closures: a trace runs thousands of times a second,
   * and every closure made per call costs an allocation (and, under tsx, a `__name` property).
   */
  private beginMove(ax: number, ay: number, mx: number, my: number, cap: number): void {
    const move = this.move;
    move.ax = ax;
    move.ay = ay;
    move.mx = mx;
    move.my = my;
    move.count = 0;
    move.stretches = 1;
    move.starts[0] = 0;
    move.signs[0] = 1;
    if (this.kind === CIRCLE) return;
    const { ex, ey, edx, edy, near } = this;
    const reach = cap + this.offset;
    move.far = reach * reach;
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
    move.count = count;
    if (this.kind === POLYGON) this.stretches();
  }

  /** A polygon's sign along the move, stretch by stretch between where it meets an edge. */
  private stretches(): void {
    const { ex, ey, edx, edy, near, move } = this;
    const { ax, ay, mx, my, count, starts, signs } = move;
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
    let stretches = 0;
    let from = 0;
    for (const to of cuts) {
      if (!(to > from)) continue;
      const mid = (from + to) / 2;
      starts[stretches] = from;
      signs[stretches++] = this.contains(ax + mid * mx, ay + mid * my) ? -1 : 1;
      from = to;
    }
    move.stretches = stretches;
  }

  /** The signed distance at `f` along the move `beginMove` set up. */
  private distanceAlong(f: number): number {
    const { ax, ay, mx, my, count, far } = this.move;
    const x = ax + f * mx;
    const y = ay + f * my;
    if (this.kind === CIRCLE) return Math.sqrt(x * x + y * y) - this.offset;
    const { ex, ey, edx, edy, inv, near } = this;
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
    return this.kind === CORRIDOR ? distance - this.offset : this.signAt(f) * distance;
  }

  /** A polygon's sign at `f` along the move: the stretch it falls in, by bisection. */
  private signAt(f: number): number {
    const { starts, signs, stretches } = this.move;
    let lo = 0;
    let hi = stretches - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= f) lo = mid;
      else hi = mid - 1;
    }
    return signs[lo]!;
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

    // A move of no length is measured where it is, once.
    if (!(length > 0)) {
      const d = this.distanceAt(ax, ay);
      if (!against(state, d)) state.crossing = null;
      else state.crossing ??= pointOn(a, b, 0);
      confirm(state, transitions, d, half, a, b, 0);
      return transitions;
    }

    this.beginMove(ax, ay, mx, my, half + REACH_M);
    let f = 0;
    let d = this.distanceAlong(0);
    if (!against(state, d)) state.crossing = null;
    else state.crossing ??= pointOn(a, b, 0);
    confirm(state, transitions, d, half, a, b, 0);
    const minStep = MIN_STEP_M / length;
    while (f < 1) {
      // No level (the boundary, and band / 2 past it) is nearer than this: stride that far.
      const gap = Math.min(Math.abs(d), Math.abs(state.inside ? d - half : d + half));
      const f1 = Math.min(1, f + Math.max(gap / length, minStep));
      const d1 = this.distanceAlong(f1);
      if (!against(state, d) && against(state, d1)) {
        // Crossed the boundary between f and f1: narrow it down, then interpolate.
        let lo = f;
        let hi = f1;
        let dLo = d;
        let dHi = d1;
        while ((hi - lo) * length > CROSSING_TOLERANCE_M) {
          const mid = (lo + hi) / 2;
          const dMid = this.distanceAlong(mid);
          if (against(state, dMid)) {
            hi = mid;
            dHi = dMid;
          } else {
            lo = mid;
            dLo = dMid;
          }
        }
        const t = dLo === dHi ? 0.5 : dLo / (dLo - dHi);
        state.crossing = pointOn(a, b, lo + Math.min(1, Math.max(0, t)) * (hi - lo));
      } else if (against(state, d) && !against(state, d1)) {
        state.crossing = null; // back where the state says it is
      }
      confirm(state, transitions, d1, half, a, b, f1);
      f = f1;
      d = d1;
    }
    return transitions;
  }
}

/** On the far side of the boundary from `state.inside` (the boundary itself is not). */
function against(state: FenceTrackState, d: number): boolean {
  return state.inside ? d > 0 : d < 0;
}

/** Past the band against the state: the transition is confirmed, dated at its crossing. */
function confirm(
  state: FenceTrackState,
  transitions: FenceTransition[],
  d: number,
  half: number,
  a: TimedPoint,
  b: TimedPoint,
  f: number,
): void {
  if (against(state, d) && Math.abs(d) >= half) {
    transitions.push({ inside: !state.inside, at: state.crossing ?? pointOn(a, b, f) });
    state.inside = !state.inside;
    state.crossing = null;
  }
}

/** The point `f` of the way along the straight move from `a` to `b`, with its time. */
function pointOn(a: TimedPoint, b: TimedPoint, f: number): TimedPoint {
  if (f === 0) return { lat: a.lat, lon: a.lon, ts: a.ts };
  return {
    lat: a.lat + f * (b.lat - a.lat),
    lon: wrapLon(a.lon + f * lonDelta(a.lon, b.lon)),
    ts: a.ts + f * (b.ts - a.ts),
  };
}
