import { describe, expect, it } from "vitest";
import type { EventPage, FleetEvent, Geofence } from "../../protocol/geofence.ts";
import type { Position } from "../../protocol/index.ts";
import { createDeviceClient } from "../../simulator/device-client.ts";
import { Random } from "../../simulator/random.ts";
import { connectDevice, makePosition, report, useTestBed } from "../support/locus.ts";

/**
 * The ground truth of issue #14: seeded vehicles drive straight and piecewise-straight paths at
 * known constant speeds through known fences, report through real device clients, and every
 * enter/exit the server stores is compared with the crossing times computed here, independently
 * of the server's geometry (protocol/fence-geometry.ts is not used): analytically for circles
 * (line–circle intersection), by fine sampling and bisection for polygons and corridors, all in a
 * local metric frame of our own. Overspeed episodes likewise, from known speed profiles.
 *
 * The rules as specified: a crossing is confirmed once the path is band / 2 past the boundary
 * (band = min(geofenceHysteresisM, the fence's size)) and dated at the boundary crossing that led
 * there; a graze shallower than that raises nothing. Every path is checked to keep clear of the
 * band's edge by a margin (its GPS noise plus a metre), so the expected answer is not a coin toss.
 */
const bed = useTestBed();

/** Issue #14. */
const SEED = 14;
const HYSTERESIS_M = 10; // the server's default, stated so the oracle does not drift from it
const MAX_GAP_MS = 5 * 60_000; // gapMinutes' default: the rules see no move across a longer gap
const TOLERANCE_MS = 2000;

// ---- a local metric frame of our own ------------------------------------------------------

interface XY {
  x: number;
  y: number;
}

const ORIGIN = { lat: 52.52, lon: 13.405 };
const RAD = Math.PI / 180;
/** WGS84: metres per degree east (prime vertical radius × cos φ) and north (meridian radius). */
const WGS84_A = 6_378_137;
const WGS84_E2 = (1 / 298.257223563) * (2 - 1 / 298.257223563);
const W = 1 - WGS84_E2 * Math.sin(ORIGIN.lat * RAD) ** 2;
const M_PER_DEG_LON = (RAD * WGS84_A * Math.cos(ORIGIN.lat * RAD)) / Math.sqrt(W);
const M_PER_DEG_LAT = (RAD * WGS84_A * (1 - WGS84_E2)) / W ** 1.5;

const toLatLon = ({ x, y }: XY) => ({
  lat: ORIGIN.lat + y / M_PER_DEG_LAT,
  lon: ORIGIN.lon + x / M_PER_DEG_LON,
});
const toXY = (p: { lat: number; lon: number }): XY => ({
  x: (p.lon - ORIGIN.lon) * M_PER_DEG_LON,
  y: (p.lat - ORIGIN.lat) * M_PER_DEG_LAT,
});

const xy = (x: number, y: number): XY => ({ x, y });
const add = (a: XY, b: XY, k = 1): XY => ({ x: a.x + k * b.x, y: a.y + k * b.y });
const sub = (a: XY, b: XY): XY => ({ x: a.x - b.x, y: a.y - b.y });
const dist = (a: XY, b: XY) => Math.hypot(a.x - b.x, a.y - b.y);
const unit = (v: XY): XY => {
  const n = Math.hypot(v.x, v.y);
  return { x: v.x / n, y: v.y / n };
};
const lerp = (a: XY, b: XY, f: number): XY => ({
  x: a.x + f * (b.x - a.x),
  y: a.y + f * (b.y - a.y),
});

// ---- fences and their signed distances -----------------------------------------------------

type Shape =
  | { type: "circle"; center: XY; radius: number }
  | { type: "polygon"; ring: XY[] }
  | { type: "corridor"; line: XY[]; width: number };

interface FenceSpec {
  name: string;
  shape: Shape;
  /** m/s */
  speedLimit?: number;
}

interface Fence extends FenceSpec {
  id: number;
  /** Half the hysteresis band: how far past the boundary a crossing is confirmed. */
  half: number;
  /** What the fence covers, grown by its radius or half width. */
  box: { minX: number; minY: number; maxX: number; maxY: number };
}

function ringArea(ring: XY[]): number {
  let sum = 0;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    sum += ring[j]!.x * ring[i]!.y - ring[i]!.x * ring[j]!.y;
  }
  return Math.abs(sum) / 2;
}

/** The band is the hysteresis setting, but never more than the fence's size (the issue's rule). */
function halfBand(shape: Shape): number {
  const size =
    shape.type === "circle"
      ? shape.radius
      : shape.type === "corridor"
        ? shape.width / 2
        : Math.sqrt(ringArea(shape.ring)) / 2;
  return Math.min(HYSTERESIS_M, size) / 2;
}

function boxOf(shape: Shape): Fence["box"] {
  const points =
    shape.type === "circle" ? [shape.center] : shape.type === "polygon" ? shape.ring : shape.line;
  const grow =
    shape.type === "circle" ? shape.radius : shape.type === "corridor" ? shape.width / 2 : 0;
  return {
    minX: Math.min(...points.map((p) => p.x)) - grow,
    minY: Math.min(...points.map((p) => p.y)) - grow,
    maxX: Math.max(...points.map((p) => p.x)) + grow,
    maxY: Math.max(...points.map((p) => p.y)) + grow,
  };
}

function segmentDistance(p: XY, a: XY, b: XY): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const l2 = dx * dx + dy * dy;
  const t = l2 === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / l2));
  return Math.hypot(a.x + t * dx - p.x, a.y + t * dy - p.y);
}

/** Winding number (not the server's even-odd ray test): non-zero inside a simple ring. */
function winding(p: XY, ring: XY[]): number {
  let wn = 0;
  for (let i = 0; i < ring.length; i++) {
    const a = ring[i]!;
    const b = ring[(i + 1) % ring.length]!;
    const side = (b.x - a.x) * (p.y - a.y) - (p.x - a.x) * (b.y - a.y);
    if (a.y <= p.y) {
      if (b.y > p.y && side > 0) wn++;
    } else if (b.y <= p.y && side < 0) wn--;
  }
  return wn;
}

/** Metres from the boundary: negative inside. */
function signedDistance(shape: Shape, p: XY): number {
  if (shape.type === "circle") return dist(p, shape.center) - shape.radius;
  if (shape.type === "corridor") {
    let best = Infinity;
    for (let i = 0; i + 1 < shape.line.length; i++) {
      best = Math.min(best, segmentDistance(p, shape.line[i]!, shape.line[i + 1]!));
    }
    return best - shape.width / 2;
  }
  let best = Infinity;
  const { ring } = shape;
  for (let i = 0; i < ring.length; i++) {
    best = Math.min(best, segmentDistance(p, ring[i]!, ring[(i + 1) % ring.length]!));
  }
  return winding(p, ring) !== 0 ? -best : best;
}

function toWire(spec: FenceSpec) {
  const { shape } = spec;
  const wire =
    shape.type === "circle"
      ? { type: "circle", center: toLatLon(shape.center), radius: shape.radius }
      : shape.type === "polygon"
        ? { type: "polygon", ring: shape.ring.map(toLatLon) }
        : { type: "corridor", line: shape.line.map(toLatLon), width: shape.width };
  return { name: spec.name, shape: wire, speedLimit: spec.speedLimit ?? null };
}

async function addFences(specs: FenceSpec[]): Promise<Fence[]> {
  const fences: Fence[] = [];
  for (const spec of specs) {
    const res = await bed.server.fetch("/api/geofences", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(toWire(spec)),
    });
    expect(res.status, `POST fence ${spec.name}`).toBe(201);
    const { id } = (await res.json()) as Geofence;
    fences.push({ ...spec, id, half: halfBand(spec.shape), box: boxOf(spec.shape) });
  }
  return fences;
}

/** A point well inside a fence (at least 15 m deep where the fence allows it) to aim at. */
function deepPoint(rng: Random, fence: Fence): XY {
  const { shape } = fence;
  if (shape.type === "circle") {
    const r = Math.max(0, shape.radius - 15) * Math.sqrt(rng.uniform());
    const a = rng.range(0, 2 * Math.PI);
    return add(shape.center, xy(Math.cos(a), Math.sin(a)), r);
  }
  if (shape.type === "corridor") {
    const i = rng.int(0, shape.line.length - 2);
    return lerp(shape.line[i]!, shape.line[i + 1]!, rng.range(0.1, 0.9));
  }
  const { minX, minY, maxX, maxY } = fence.box;
  for (;;) {
    const p = xy(rng.range(minX, maxX), rng.range(minY, maxY));
    if (signedDistance(shape, p) < -15) return p;
  }
}

// ---- routes: straight legs at constant speeds ------------------------------------------------

/** From `from` at t0 to `to` at t1 (seconds since the vehicle's start), at constant speed. */
interface Leg {
  t0: number;
  t1: number;
  from: XY;
  to: XY;
}

const legSpeed = (leg: Leg) => (leg.t1 > leg.t0 ? dist(leg.from, leg.to) / (leg.t1 - leg.t0) : 0);
const onLeg = (leg: Leg, t: number) =>
  leg.t1 > leg.t0 ? lerp(leg.from, leg.to, (t - leg.t0) / (leg.t1 - leg.t0)) : leg.from;

/** Legs of whole seconds, so 1 Hz fixes land on every corner and the chords are the path. */
class Route {
  readonly legs: Leg[] = [];
  private t = 0;

  constructor(private at: XY) {}

  get duration(): number {
    return this.t;
  }

  get end(): XY {
    return this.at;
  }

  private push(to: XY, seconds: number): this {
    this.legs.push({ t0: this.t, t1: this.t + seconds, from: this.at, to });
    this.t += seconds;
    this.at = to;
    return this;
  }

  /** Straight to `to` at about `speed` m/s (adjusted to a whole number of seconds). */
  to(to: XY, speed: number): this {
    return this.push(to, Math.max(1, Math.round(dist(this.at, to) / speed)));
  }

  /** `seconds` along the unit vector `dir` at exactly `speed` m/s. */
  drive(dir: XY, speed: number, seconds: number): this {
    return this.push(add(this.at, dir, speed * seconds), seconds);
  }

  /** One second at each of these speeds along `dir`: a speed profile. */
  speeds(dir: XY, speeds: number[]): this {
    for (const s of speeds) this.drive(dir, s, 1);
    return this;
  }

  park(seconds: number): this {
    return this.push(this.at, seconds);
  }

  private legAt(t: number): Leg {
    // The leg a fix at t reports the speed of: [t0, t1), the last one closed.
    return this.legs.find((l) => t >= l.t0 && t < l.t1) ?? this.legs.at(-1)!;
  }

  position(t: number): XY {
    return onLeg(this.legAt(t), t);
  }

  speed(t: number): number {
    return legSpeed(this.legAt(t));
  }
}

interface Vehicle {
  id: string;
  route: Route;
  /** Seconds between fixes. */
  intervalS: number;
  /** Seconds after the common time base its first fix is taken. */
  startS: number;
  /** GPS noise: each fix lands uniformly within this many metres of the true position. */
  noiseM: number;
  /** How far the path must keep from the band's edges (and crossings be steep). */
  marginM: number;
}

const lastFixS = (v: Vehicle) => Math.floor(v.route.duration / v.intervalS) * v.intervalS;

function fixesOf(v: Vehicle, baseMs: number, stream: number): Position[] {
  const noise = new Random(SEED, 3, stream);
  const fixes: Position[] = [];
  for (let t = 0; t <= lastFixS(v); t += v.intervalS) {
    let p = v.route.position(t);
    if (v.noiseM > 0) {
      const r = v.noiseM * Math.sqrt(noise.uniform());
      const a = noise.range(0, 2 * Math.PI);
      p = add(p, xy(Math.cos(a), Math.sin(a)), r);
    }
    const speed = Math.round(v.route.speed(t) * 100) / 100;
    fixes.push({ ts: baseMs + (v.startS + t) * 1000, ...toLatLon(p), speed });
  }
  return fixes;
}

// ---- the ground truth ----------------------------------------------------------------------

/** Sample spacing along a path, metres. */
const SAMPLE_M = 0.25;
/** A leg farther than this from a fence's box cannot touch any level the rules act on. */
const FAR_M = 30;

interface Samples {
  t: number[];
  d: number[];
  leg: number[];
}

/** The signed distance to one fence along the route, every SAMPLE_M metres, up to `tEnd`. */
function sample(route: Route, shape: Shape, box: Fence["box"], tEnd: number): Samples {
  const s: Samples = { t: [], d: [], leg: [] };
  route.legs.forEach((leg, i) => {
    if (leg.t0 >= tEnd && i > 0) return;
    const t1 = Math.min(leg.t1, tEnd);
    const a = leg.from;
    const b = onLeg(leg, t1);
    if (
      Math.max(a.x, b.x) < box.minX - FAR_M ||
      Math.min(a.x, b.x) > box.maxX + FAR_M ||
      Math.max(a.y, b.y) < box.minY - FAR_M ||
      Math.min(a.y, b.y) > box.maxY + FAR_M
    ) {
      return; // far outside all along: neither sample changes anything
    }
    const n = Math.max(1, Math.ceil(dist(a, b) / SAMPLE_M));
    for (let k = 0; k <= n; k++) {
      const t = leg.t0 + ((t1 - leg.t0) * k) / n;
      s.t.push(t);
      s.d.push(signedDistance(shape, onLeg(leg, t)));
      s.leg.push(i);
    }
  });
  return s;
}

/** When the boundary is crossed between samples i - 1 and i (on one leg): exactly for circles. */
function crossingTime(route: Route, shape: Shape, s: Samples, i: number): number {
  const leg = route.legs[s.leg[i]!]!;
  const ta = s.t[i - 1]!;
  const tb = s.t[i]!;
  if (s.leg[i - 1] !== s.leg[i] || tb <= ta) return tb;
  if (shape.type === "circle") {
    // |from + v (t - t0) - c|² = r²
    const v = xy(
      (leg.to.x - leg.from.x) / (leg.t1 - leg.t0),
      (leg.to.y - leg.from.y) / (leg.t1 - leg.t0),
    );
    const w = sub(leg.from, shape.center);
    const qa = v.x * v.x + v.y * v.y;
    const qb = 2 * (w.x * v.x + w.y * v.y);
    const qc = w.x * w.x + w.y * w.y - shape.radius ** 2;
    const disc = qb * qb - 4 * qa * qc;
    if (qa > 0 && disc >= 0) {
      for (const sign of [-1, 1]) {
        const t = leg.t0 + (-qb + sign * Math.sqrt(disc)) / (2 * qa);
        if (t >= ta - 1e-9 && t <= tb + 1e-9) return t;
      }
    }
  }
  // Bisection on the sign of the distance.
  let lo = ta;
  let hi = tb;
  const dLo = Math.sign(s.d[i - 1]!);
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (Math.sign(signedDistance(shape, onLeg(leg, mid))) === dLo) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

interface Transition {
  /** True: entered. */
  inside: boolean;
  /** When the boundary was crossed (seconds since the vehicle's start). */
  t: number;
  /** When the path got band / 2 past it, which confirmed the crossing. */
  confirmT: number;
}

/** The hysteresis as specified, run on the sampled distances. */
function hysteresis(s: Samples, half: number, crossing: (i: number) => number): Transition[] {
  const out: Transition[] = [];
  let inside = false;
  let pending: number | null = null;
  for (let i = 0; i < s.t.length; i++) {
    const d = s.d[i]!;
    const against = inside ? d > 0 : d < 0;
    if (i === 0) {
      if (against) pending = s.t[0]!;
    } else {
      const before = inside ? s.d[i - 1]! > 0 : s.d[i - 1]! < 0;
      if (!before && against) pending = crossing(i);
      else if (before && !against) pending = null;
    }
    if (against && Math.abs(d) >= half) {
      out.push({ inside: !inside, t: pending ?? s.t[i]!, confirmT: s.t[i]! });
      inside = !inside;
      pending = null;
    }
  }
  return out;
}

interface Truth {
  /** Per fence id, the transitions of the noise-free path. */
  transitions: Map<number, Transition[]>;
}

/**
 * What the vehicle should raise at each fence, or why its path is too close to call: the outcome
 * must not change with the band moved by ±marginM, and the time of every crossing must be
 * pinned down to ±1.5 s by the path (it does not linger within noise + 0.5 m of the boundary
 * farther from the crossing than that, between leaving its side and being confirmed).
 */
function truthOf(v: Vehicle, fences: Fence[]): Truth | string {
  const transitions = new Map<number, Transition[]>();
  const tEnd = lastFixS(v);
  for (const fence of fences) {
    const { shape } = fence;
    if (signedDistance(shape, v.route.position(0)) < 10) return `starts at ${fence.name}`;
    const s = sample(v.route, shape, fence.box, tEnd);
    const crossing = (i: number) => crossingTime(v.route, shape, s, i);
    const base = hysteresis(s, fence.half, crossing);
    for (const half of [fence.half - v.marginM, fence.half + v.marginM]) {
      const other = hysteresis(s, Math.max(0.05, half), crossing);
      const same =
        other.length === base.length &&
        other.every((o, k) => o.inside === base[k]!.inside && Math.abs(o.t - base[k]!.t) < 0.5);
      if (!same) return `${fence.name}: the outcome changes with a band edge at ${half} m`;
    }
    const w = v.noiseM + 0.5;
    let from = 0;
    for (const tr of base) {
      const side = (k: number) => (tr.inside ? s.d[k]! : -s.d[k]!);
      let k = s.t.findIndex((t) => t >= tr.confirmT);
      while (k > from && side(k) <= w) k--;
      for (; k < s.t.length && s.t[k]! <= tr.confirmT; k++) {
        if (Math.abs(s.d[k]!) <= w && Math.abs(s.t[k]! - tr.t) > 1.5) {
          return `${fence.name}: lingers near the boundary at ${s.t[k]} s (crossing ${tr.t} s)`;
        }
      }
      from = s.t.findIndex((t) => t >= tr.confirmT);
    }
    if (base.length > 0) transitions.set(fence.id, base);
  }
  return { transitions };
}

// ---- expected events -----------------------------------------------------------------------

interface ExpectedCrossing {
  deviceId: string;
  type: "geofence_enter" | "geofence_exit";
  fence: Fence;
  ts: number;
  at: XY;
  /** "1 Hz" or "60 s", and the GPS noise if any: "1 Hz ±3 m". */
  reporter: string;
  /** The crossing happened between two fixes, with no fix inside the fence. */
  betweenFixes: boolean;
}

interface ExpectedEpisode {
  deviceId: string;
  ts: number;
  endedAt: number;
  peak: number;
  limit: number;
  fenceId: number | null;
}

function expectedCrossings(v: Vehicle, truth: Truth, fences: Fence[], baseMs: number) {
  const out: ExpectedCrossing[] = [];
  for (const fence of fences) {
    const list = truth.transitions.get(fence.id) ?? [];
    list.forEach((tr, k) => {
      // An enter and the exit after it both inside one interval between fixes.
      const pair = tr.inside ? list[k + 1] : list[k - 1];
      const between =
        pair !== undefined &&
        Math.floor(tr.t / v.intervalS) === Math.floor(pair.t / v.intervalS) &&
        v.intervalS > 1;
      out.push({
        deviceId: v.id,
        type: tr.inside ? "geofence_enter" : "geofence_exit",
        fence,
        ts: baseMs + (v.startS + tr.t) * 1000,
        at: v.route.position(tr.t),
        reporter: `${v.intervalS === 1 ? "1 Hz" : `${v.intervalS} s`}${v.noiseM > 0 ? ` ±${v.noiseM} m` : ""}`,
        betweenFixes: between,
      });
    });
  }
  return out;
}

/**
 * Overspeed as specified: an episode runs from the first fix over the limit where the device is
 * (the lowest of the global one and those of the fences it is confirmed inside) to the last one
 * over it before a fix at or under it, and counts once it lasts `minMs`.
 */
function expectedEpisodes(
  v: Vehicle,
  fixes: Position[],
  truth: Truth,
  fences: Fence[],
  globalLimit: number,
  minMs: number,
  baseMs: number,
): ExpectedEpisode[] {
  const limitAt = (ts: number): { limit: number; fence: number | null } | null => {
    const t = (ts - baseMs) / 1000 - v.startS;
    let best = globalLimit > 0 ? { limit: globalLimit, fence: null as number | null } : null;
    for (const fence of fences) {
      if (!fence.speedLimit) continue;
      let inside = false;
      for (const tr of truth.transitions.get(fence.id) ?? []) {
        if (Math.abs(tr.confirmT - t) < 0.2) {
          throw new Error(`${v.id}: ${fence.name} is confirmed too close to a fix at ${t} s`);
        }
        if (tr.confirmT <= t) inside = tr.inside;
      }
      if (inside && (!best || fence.speedLimit < best.limit)) {
        best = { limit: fence.speedLimit, fence: fence.id };
      }
    }
    return best;
  };
  const out: ExpectedEpisode[] = [];
  interface Episode {
    start: number;
    lastOver: number;
    peak: number;
    limit: number;
    fence: number | null;
  }
  let episode = null as Episode | null;
  const end = () => {
    if (episode && episode.lastOver - episode.start >= minMs) {
      out.push({
        deviceId: v.id,
        ts: episode.start,
        endedAt: episode.lastOver,
        peak: episode.peak,
        limit: Math.round(episode.limit * 100) / 100,
        fenceId: episode.fence,
      });
    }
    episode = null;
  };
  for (const fix of fixes) {
    if (episode && fix.ts - episode.lastOver > MAX_GAP_MS) end();
    const at = limitAt(fix.ts);
    const speed = fix.speed!;
    if (at && speed > at.limit) {
      if (!episode) {
        episode = {
          start: fix.ts,
          lastOver: fix.ts,
          peak: speed,
          limit: at.limit,
          fence: at.fence,
        };
      } else {
        episode.lastOver = fix.ts;
        episode.peak = Math.max(episode.peak, speed);
      }
    } else end();
  }
  return out;
}

// ---- driving and comparing -----------------------------------------------------------------

/** 1 Hz reporters through the simulator's device client; sparse ones in one shuffled batch. */
async function drive(vehicles: Vehicle[], fixes: Map<string, Position[]>): Promise<void> {
  await Promise.all(
    vehicles.map(async (v, index) => {
      const list = fixes.get(v.id)!;
      if (v.intervalS === 1) {
        const client = bed.track(
          createDeviceClient({ url: bed.server.url, deviceId: v.id, maxBatch: 500 }),
        );
        for (const fix of list) client.push(fix);
        expect(await client.flush(20_000), `${v.id} delivered`).toBe(true);
        expect(client.stats, v.id).toMatchObject({ accepted: list.length, rejected: 0 });
      } else {
        const socket = bed.track(await connectDevice(bed.server.url, v.id));
        const shuffle = new Random(SEED, 4, index);
        const batch = [...list];
        for (let i = batch.length - 1; i > 0; i--) {
          const j = shuffle.int(0, i);
          [batch[i], batch[j]] = [batch[j]!, batch[i]!];
        }
        expect(await report(socket, batch), v.id).toMatchObject({
          ok: true,
          accepted: list.length,
          rejected: [],
        });
      }
    }),
  );
  await bed.server.locus.services.events.idle();
}

/** Every stored event, newest first, a small page at a time. */
async function allEvents(): Promise<FleetEvent[]> {
  const events: FleetEvent[] = [];
  let before: number | null = null;
  do {
    const res = await bed.server.fetch(
      `/api/events?limit=40${before === null ? "" : `&before=${before}`}`,
    );
    expect(res.status).toBe(200);
    const page = (await res.json()) as EventPage;
    events.push(...page.events);
    before = page.next;
  } while (before !== null);
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  return events;
}

interface Outcome {
  problems: string[];
  matched: number;
  /** Largest |ts error| per reporter kind, ms; largest position error, m. */
  maxErrorMs: Map<string, number>;
  maxPositionErrorM: number;
}

function compare(
  found: FleetEvent[],
  crossings: ExpectedCrossing[],
  episodes: ExpectedEpisode[],
  baseMs: number,
): Outcome {
  const problems: string[] = [];
  const left = new Set(found);
  const maxErrorMs = new Map<string, number>();
  let maxPositionErrorM = 0;
  let matched = 0;
  const rel = (ts: number) => `T+${((ts - baseMs) / 1000).toFixed(3)} s`;
  for (const e of [...crossings].sort((a, b) => a.ts - b.ts)) {
    const candidates = [...left].filter(
      (f) => f.deviceId === e.deviceId && f.type === e.type && f.geofenceId === e.fence.id,
    );
    const nearest = candidates.sort((a, b) => Math.abs(a.ts - e.ts) - Math.abs(b.ts - e.ts))[0];
    const what = `${e.deviceId} ${e.type} ${e.fence.name} (${e.reporter}) at ${rel(e.ts)}`;
    if (!nearest || Math.abs(nearest.ts - e.ts) > TOLERANCE_MS) {
      problems.push(
        `missed: ${what}${nearest ? `; nearest such event at ${rel(nearest.ts)}` : ""}`,
      );
      continue;
    }
    left.delete(nearest);
    matched++;
    const error = Math.abs(nearest.ts - e.ts);
    maxErrorMs.set(e.reporter, Math.max(maxErrorMs.get(e.reporter) ?? 0, error));
    maxPositionErrorM = Math.max(maxPositionErrorM, dist(toXY(nearest), e.at));
  }
  for (const e of episodes) {
    const what = `${e.deviceId} overspeed from ${rel(e.ts)}`;
    const hit = [...left].find(
      (f) => f.deviceId === e.deviceId && f.type === "overspeed" && f.ts === e.ts,
    );
    if (!hit) {
      problems.push(`missed: ${what} (peak ${e.peak}, limit ${e.limit})`);
      continue;
    }
    left.delete(hit);
    matched++;
    const want = { geofenceId: e.fenceId, peak: e.peak, limit: e.limit, endedAt: e.endedAt };
    const got = {
      geofenceId: hit.geofenceId,
      peak: hit.details.peak,
      limit: hit.details.limit,
      endedAt: hit.details.endedAt,
    };
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      problems.push(`${what}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
    }
    if (hit.details.durationS !== (e.endedAt - e.ts) / 1000) {
      problems.push(`${what}: durationS ${hit.details.durationS}`);
    }
  }
  for (const f of left) {
    problems.push(
      `phantom: ${f.deviceId} ${f.type} fence ${f.geofenceId} at ${rel(f.ts)} ${JSON.stringify(f.details)}`,
    );
  }
  return { problems, matched, maxErrorMs, maxPositionErrorM };
}

interface Scenario {
  vehicles: Vehicle[];
  fences: Fence[];
  globalLimit: number;
  minMs: number;
}

/** Drives the scenario and compares; returns the outcome and what was expected. */
async function run({ vehicles, fences, globalLimit, minMs }: Scenario, label: string) {
  const baseMs = makePosition().ts; // an hour ago: well inside the accepted window
  const fixes = new Map<string, Position[]>();
  const crossings: ExpectedCrossing[] = [];
  const episodes: ExpectedEpisode[] = [];
  vehicles.forEach((v, i) => {
    const truth = truthOf(v, fences);
    if (typeof truth === "string") throw new Error(`${v.id} is not a clear case: ${truth}`);
    const list = fixesOf(v, baseMs, i);
    fixes.set(v.id, list);
    crossings.push(...expectedCrossings(v, truth, fences, baseMs));
    episodes.push(...expectedEpisodes(v, list, truth, fences, globalLimit, minMs, baseMs));
  });
  const started = performance.now();
  await drive(vehicles, fixes);
  const found = await allEvents();
  const outcome = compare(found, crossings, episodes, baseMs);
  const fixCount = [...fixes.values()].reduce((n, l) => n + l.length, 0);
  const kinds = [...new Set(crossings.map((c) => c.reporter))].sort();
  const perKind = kinds.map((kind) => {
    const n = crossings.filter((c) => c.reporter === kind).length;
    const error = outcome.maxErrorMs.get(kind);
    return `\n  ${kind}: ${n} crossings, max |Δt| ${error === undefined ? "n/a" : `${error.toFixed(1)} ms`}`;
  });
  console.log(
    `ground truth (${label}): ${vehicles.length} vehicles, ${fixCount} fixes, ${fences.length} fences; ` +
      `expected ${crossings.length} crossings (${crossings.filter((c) => c.betweenFixes).length} ` +
      `within one interval between fixes) + ${episodes.length} overspeed episodes; ` +
      `found ${found.length} events, matched ${outcome.matched}, problems ${outcome.problems.length}` +
      perKind.join("") +
      `\n  max position error ${outcome.maxPositionErrorM.toFixed(2)} m; ` +
      `delivered and compared in ${Math.round(performance.now() - started)} ms`,
  );
  return { outcome, crossings, episodes, found };
}

// ---- the scenes ----------------------------------------------------------------------------

const CIRCLE = (x: number, y: number, radius: number): Shape => ({
  type: "circle",
  center: xy(x, y),
  radius,
});

/** A U open to the north: two arms 100 m wide around a notch 200 m wide and 200 m deep. */
const U_RING = [
  xy(600, -850),
  xy(1000, -850),
  xy(1000, -550),
  xy(900, -550),
  xy(900, -650),
  xy(700, -650),
  xy(700, -550),
  xy(600, -550),
];
const ROAD = [xy(-1500, -1200), xy(-300, -1000), xy(300, -1400), xy(1500, -1100)];

const CROSSING_FENCES: FenceSpec[] = [
  { name: "depot", shape: CIRCLE(0, 0, 150) },
  { name: "yard", shape: CIRCLE(900, 400, 60) },
  // Size 8 m: its band is 8 m, not 10.
  { name: "kiosk", shape: CIRCLE(-700, -300, 8) },
  {
    name: "block",
    shape: {
      type: "polygon",
      ring: [xy(-950, 500), xy(-700, 480), xy(-620, 650), xy(-760, 780), xy(-900, 720)],
    },
  },
  { name: "u", shape: { type: "polygon", ring: U_RING } },
  { name: "wedge", shape: { type: "polygon", ring: [xy(200, 800), xy(500, 700), xy(350, 1000)] } },
  { name: "road", shape: { type: "corridor", line: ROAD, width: 30 } },
  // Half width 6 m: its band is 6 m.
  {
    name: "lane",
    shape: { type: "corridor", line: [xy(-1200, 1200), xy(0, 1300), xy(1200, 1100)], width: 12 },
  },
];

const vehicle = (
  id: string,
  route: Route,
  options: Partial<Omit<Vehicle, "id" | "route">> = {},
): Vehicle => {
  const noiseM = options.noiseM ?? 0;
  return { id, route, intervalS: 1, startS: 0, noiseM, marginM: noiseM + 1, ...options };
};

/** The hand-made cases: jitter on boundaries, grazes, passes between fixes, the concave notch. */
function designedVehicles(): Vehicle[] {
  const north = xy(0, 1);
  const east = xy(1, 0);
  // The road's first segment, and the point on its edge halfway along.
  const roadDir = unit(sub(ROAD[1]!, ROAD[0]!));
  const roadNormal = xy(-roadDir.y, roadDir.x);
  const roadEdge = add(lerp(ROAD[0]!, ROAD[1]!, 0.5), roadNormal, 15);
  // The U's south-west corner, cut 3 m deep (its bisector runs north-east into the U).
  const cut = add(xy(600, -850), unit(xy(1, 1)), 3 / Math.sin(Math.PI / 4));
  const along = unit(xy(1, -1));
  return [
    // Passes through the depot between two 60 s fixes (x = -600 and 1200) at 30 m/s.
    vehicle("courier-60s", new Route(xy(-2400, 40)).drive(east, 30, 240), { intervalS: 60 }),
    // Through both arms of the U between two fixes (x = 560 and 1280): four events in one move.
    vehicle("u-arms-60s", new Route(xy(-160, -600)).drive(east, 12, 180), { intervalS: 60 }),
    // Parks on the depot's boundary with ±3 m of noise for 150 s, comes and goes from outside.
    vehicle("jitter-depot", new Route(xy(0, 400)).to(xy(0, 150), 5).park(150).to(xy(0, 400), 5), {
      noiseM: 3,
    }),
    vehicle(
      "jitter-u",
      new Route(xy(800, -1100)).to(xy(800, -850), 5).park(150).to(xy(800, -1100), 5),
      { noiseM: 3 },
    ),
    vehicle(
      "jitter-road",
      new Route(add(roadEdge, roadNormal, 185))
        .to(roadEdge, 5)
        .park(150)
        .to(add(roadEdge, roadNormal, 185), 5),
      { noiseM: 3 },
    ),
    // Inside the yard, out onto its boundary to jitter for 150 s, back in, out the far side:
    // one enter, one exit.
    vehicle(
      "jitter-yard",
      new Route(xy(900, 600))
        .to(xy(900, 400), 5)
        .to(xy(900, 340), 5)
        .park(150)
        .to(xy(900, 400), 5)
        .to(xy(1100, 400), 5),
      { noiseM: 3 },
    ),
    // 2 m deep into the depot: nothing.
    vehicle("graze-depot", new Route(xy(-400, -148)).to(xy(400, -148), 10), { marginM: 0.3 }),
    // The kiosk's half band is 4 m: 2 m deep raises nothing, 4.5 m deep an enter and an exit.
    vehicle("graze-kiosk", new Route(xy(-760, -294)).to(xy(-640, -294), 3), { marginM: 0.3 }),
    vehicle("through-kiosk", new Route(xy(-760, -303.5)).to(xy(-640, -303.5), 3), {
      marginM: 0.3,
    }),
    // Cuts the U's corner 3 m deep: nothing.
    vehicle("corner-u", new Route(add(cut, along, -80)).to(add(cut, along, 80), 6), {
      marginM: 0.3,
    }),
    // Down into the U's notch (10 m short of its floor) and back: inside the hull, not the U.
    vehicle("notch-u", new Route(xy(800, -400)).to(xy(800, -640), 5).to(xy(800, -400), 5), {
      noiseM: 1.5,
    }),
    // Through both arms at 1 Hz: enter, exit, enter, exit.
    vehicle("arms-u", new Route(xy(400, -600)).to(xy(1200, -600), 10), { noiseM: 1.5 }),
    // Along the whole road, in at one end and out at the other.
    vehicle(
      "along-road",
      new Route(add(ROAD[0]!, roadDir, -100))
        .to(ROAD[1]!, 15)
        .to(ROAD[2]!, 15)
        .to(ROAD[3]!, 15)
        .to(add(ROAD[3]!, unit(sub(ROAD[3]!, ROAD[2]!)), 100), 15),
      { noiseM: 1.5 },
    ),
    // Across the narrow lane (6 m deep at its centre line, half band 3 m).
    vehicle("across-lane", new Route(xy(-600, 1150)).drive(north, 8, 25), { marginM: 0.5 }),
    // Creeping at 0.5 m/s, so many fixes fall near the levels the rules act on: 4 m into the
    // depot and back (nothing), then 6 m into it and back (an enter and an exit).
    vehicle(
      "creep-shallow",
      new Route(xy(-170, 0)).to(xy(-146, 0), 0.5).park(10).to(xy(-170, 0), 0.5),
      {
        marginM: 0.3,
      },
    ),
    vehicle("creep-deep", new Route(xy(170, 0)).to(xy(144, 0), 0.5).park(10).to(xy(170, 0), 0.5), {
      marginM: 0.3,
    }),
    // Into the yard, 3 m out of it and back in (nothing), then out for good.
    vehicle(
      "dip-yard",
      new Route(xy(900, 600))
        .to(xy(900, 400), 6)
        .to(xy(900, 337), 6)
        .to(xy(900, 400), 6)
        .to(xy(1100, 400), 6),
      { marginM: 0.3 },
    ),
  ];
}

/** A point in the scene at least 30 m outside every fence. */
function outside(rng: Random, fences: Fence[]): XY {
  for (;;) {
    const p = xy(rng.range(-1700, 1700), rng.range(-1700, 1700));
    if (fences.every((f) => signedDistance(f.shape, p) > 30)) return p;
  }
}

/** Seeded 1 Hz drivers: legs aimed through fences, some parked stretches, some GPS noise. */
function randomDrivers(count: number, fences: Fence[]): Vehicle[] {
  const vehicles: Vehicle[] = [];
  for (let i = 1; i <= count; i++) {
    const rng = new Random(SEED, 1, i);
    for (let attempt = 0; ; attempt++) {
      if (attempt === 500) throw new Error(`no clear path for random driver ${i}`);
      const noiseM = rng.chance(0.5) ? 1.5 : 0;
      const route = new Route(outside(rng, fences));
      const legs = rng.int(3, 5);
      for (let k = 0; k < legs; k++) {
        if (rng.chance(0.2)) route.park(rng.int(5, 40));
        const target = deepPoint(rng, rng.pick(fences));
        const gap = dist(route.end, target);
        if (gap < 20) continue;
        const speed = rng.range(4, 22);
        const seconds = Math.max(1, Math.round((gap + rng.range(40, 400)) / speed));
        route.drive(unit(sub(target, route.end)), speed, seconds);
      }
      const v = vehicle(`driver-${i}`, route, { noiseM, startS: rng.int(0, 60) });
      if (typeof truthOf(v, fences) !== "string") {
        vehicles.push(v);
        break;
      }
    }
  }
  return vehicles;
}

/** Seeded 60 s reporters: straight at 8–40 m/s through a fence, for 6–10 minutes. */
function sparseDrivers(count: number, fences: Fence[]): Vehicle[] {
  const vehicles: Vehicle[] = [];
  for (let i = 1; i <= count; i++) {
    const rng = new Random(SEED, 2, i);
    for (let attempt = 0; ; attempt++) {
      if (attempt === 500) throw new Error(`no clear path for sparse driver ${i}`);
      const speed = rng.range(8, 40);
      const target = deepPoint(rng, rng.pick(fences));
      const a = rng.range(0, 2 * Math.PI);
      const dir = xy(Math.cos(a), Math.sin(a));
      const start = add(target, dir, -speed * rng.range(90, 300));
      const route = new Route(start).drive(dir, speed, 60 * rng.int(6, 10));
      const v = vehicle(`sparse-${i}`, route, { intervalS: 60, startS: rng.int(0, 60) });
      if (typeof truthOf(v, fences) !== "string") {
        vehicles.push(v);
        break;
      }
    }
  }
  return vehicles;
}

describe("geofence events against the ground truth", () => {
  it("detects every crossing of seeded 1 Hz and 60 s reporters once, on time, and nothing else", async () => {
    await bed.start({ geofenceHysteresisM: HYSTERESIS_M });
    const fences = await addFences(CROSSING_FENCES);
    const vehicles = [
      ...designedVehicles(),
      ...randomDrivers(12, fences),
      ...sparseDrivers(8, fences),
    ];
    const { outcome, crossings } = await run(
      { vehicles, fences, globalLimit: 0, minMs: 10_000 },
      "crossings",
    );

    // The scene is what it claims to be.
    const of = (id: string) => crossings.filter((c) => c.deviceId === id).map((c) => c.type);
    for (const id of ["jitter-depot", "jitter-u", "jitter-road", "graze-depot", "graze-kiosk"]) {
      expect(of(id), id).toEqual([]);
    }
    expect(of("corner-u")).toEqual([]);
    expect(of("notch-u")).toEqual([]);
    expect(of("creep-shallow")).toEqual([]);
    expect(of("creep-deep")).toEqual(["geofence_enter", "geofence_exit"]);
    expect(of("dip-yard")).toEqual(["geofence_enter", "geofence_exit"]);
    expect(of("jitter-yard")).toEqual(["geofence_enter", "geofence_exit"]);
    expect(of("through-kiosk")).toEqual(["geofence_enter", "geofence_exit"]);
    expect(of("arms-u")).toHaveLength(4);
    expect(of("u-arms-60s")).toHaveLength(4);
    expect(crossings.filter((c) => c.betweenFixes).length).toBeGreaterThanOrEqual(6);
    expect(new Set(crossings.map((c) => c.fence.name)).size).toBe(fences.length);
    expect(crossings.length).toBeGreaterThan(60);

    expect(outcome.problems).toEqual([]);
    expect(outcome.maxPositionErrorM).toBeLessThan(15);
  }, 45_000);

  it("raises exactly the expected overspeed episodes, with their start, peak and limit", async () => {
    const globalKmh = 50;
    await bed.start({
      geofenceHysteresisM: HYSTERESIS_M,
      speedLimitKmh: globalKmh,
      overspeedSeconds: 10,
    });
    const fences = await addFences([
      // 30 km/h around a school, none in the park.
      {
        name: "school",
        shape: {
          type: "polygon",
          ring: [xy(-150, -100), xy(150, -100), xy(150, 100), xy(-150, 100)],
        },
        speedLimit: 8,
      },
      { name: "park", shape: CIRCLE(0, 600, 100) },
    ]);
    const east = xy(1, 0);
    const cruise = (seconds: number, speed = 12) => Array<number>(seconds).fill(speed);
    const vehicles = [
      // Global limit 13.89 m/s: a 5 s burst (4 s long), 10 fixes over (9 s: too short),
      // 11 fixes over (10 s: counts), and a 30 s episode peaking at 21.5 m/s.
      vehicle(
        "burst",
        new Route(xy(-1500, -1000)).speeds(east, [
          ...cruise(20),
          ...cruise(5, 16),
          ...cruise(20),
          ...cruise(10, 15),
          ...cruise(20),
          ...cruise(11, 15),
          ...cruise(20),
          ...[14, 15, 16, 17, 18, 19, 20, 21, 21.5, 21, 20, 19, 18, 17, 16],
          ...[15, 15, 15, 16, 17, 16, 15, 15, 14.5, 14.5, 14.2, 14.1, 14, 14, 14],
          ...cruise(20),
        ]),
      ),
      // Under the global limit, over the school's: one episode in the school, peak 12.5.
      vehicle(
        "school-run",
        new Route(xy(-405, 0)).speeds(east, [
          ...cruise(36, 11),
          ...cruise(3, 12.5),
          ...cruise(40, 11),
        ]),
      ),
      // Exactly at the school's limit: not over it.
      vehicle("school-at-limit", new Route(xy(-395, 50)).drive(east, 8, 100)),
      // Under it, with a 5 s burst over it inside: too short.
      vehicle(
        "school-burst",
        new Route(xy(-400, -50)).speeds(east, [
          ...cruise(70, 7),
          ...cruise(5, 9.5),
          ...cruise(40, 7),
        ]),
      ),
      // Over the global limit inside the park (which has none of its own): fence null.
      vehicle(
        "park-fast",
        new Route(xy(-480, 620)).speeds(east, [
          ...cruise(30, 13),
          ...cruise(11, 16),
          ...cruise(30, 13),
        ]),
      ),
      // A 60 s reporter: 20, 25, 20 m/s fixes make one episode of 120 s.
      vehicle(
        "sparse-fast",
        new Route(xy(-3000, 2000))
          .drive(east, 10, 60)
          .drive(east, 20, 60)
          .drive(east, 25, 60)
          .drive(east, 20, 60)
          .drive(east, 10, 120),
        { intervalS: 60 },
      ),
    ];
    const { outcome, episodes, crossings } = await run(
      { vehicles, fences, globalLimit: globalKmh / 3.6, minMs: 10_000 },
      "overspeed",
    );

    expect(episodes.map((e) => [e.deviceId, e.peak, e.limit, (e.endedAt - e.ts) / 1000])).toEqual([
      ["burst", 15, 13.89, 10],
      ["burst", 21.5, 13.89, 29],
      ["school-run", 12.5, 8, 26],
      ["park-fast", 16, 13.89, 10],
      ["sparse-fast", 25, 13.89, 120],
    ]);
    expect(crossings).toHaveLength(8);
    expect(outcome.problems).toEqual([]);
  }, 45_000);
});
