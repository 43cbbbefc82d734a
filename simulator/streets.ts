import CheapRuler from "cheap-ruler";
import { Random, STREAM } from "./random.ts";

/**
 * A made-up but plausible street network around a centre: a jittered grid of residential streets,
 * faster arterials every few lines, and a ring road around it all with links from the arterials.
 * It only has to look like a city on a map and give vehicles junctions, turns and speed changes;
 * it is deterministic for a given seed and centre.
 */

export type RoadKind = "residential" | "arterial" | "link" | "ring";

/** Speed limits in m/s (30, 50, 50 and 80 km/h). */
export const SPEED_LIMIT: Record<RoadKind, number> = {
  residential: 30 / 3.6,
  arterial: 50 / 3.6,
  link: 50 / 3.6,
  ring: 80 / 3.6,
};

export interface StreetNode {
  id: number;
  /** Metres east / north of the centre. */
  x: number;
  y: number;
  lat: number;
  lon: number;
  /** Directed edges leaving this node. */
  out: number[];
  /** Junction with traffic lights. */
  signal: boolean;
}

/** One direction of a street; every street exists in both directions. */
export interface StreetEdge {
  id: number;
  from: number;
  to: number;
  /** Metres. */
  length: number;
  /** Degrees clockwise from north, in [0, 360). */
  heading: number;
  /** m/s */
  limit: number;
  kind: RoadKind;
  /** The same street in the opposite direction. */
  reverse: number;
}

export interface StreetNetwork {
  center: { lat: number; lon: number };
  /** Metres per degree of longitude / latitude at the centre (cheap-ruler's flat approximation). */
  kx: number;
  ky: number;
  nodes: StreetNode[];
  edges: StreetEdge[];
  /** Fastest limit anywhere, m/s. */
  maxLimit: number;
}

export interface StreetOptions {
  center: { lat: number; lon: number };
  seed: number;
  /** Grid blocks per side. */
  blocks?: number;
  /** Block edge length, metres. */
  blockM?: number;
  /** Every n-th grid line is an arterial. */
  arterialEvery?: number;
  /** Ring radius as a multiple of the grid's half width (must exceed √2 to clear the corners). */
  ringScale?: number;
  /** Share of residential street segments removed, for a less regular grid. */
  removeShare?: number;
}

interface Street {
  a: number;
  b: number;
  kind: RoadKind;
}

export function buildStreetNetwork(options: StreetOptions): StreetNetwork {
  const {
    center,
    seed,
    blocks = 16,
    blockM = 250,
    arterialEvery = 4,
    ringScale = 1.5,
    removeShare = 0.1,
  } = options;
  if (ringScale <= Math.SQRT2) throw new RangeError("ringScale must exceed √2");
  const rng = new Random(seed, STREAM.network);
  const ruler = new CheapRuler(center.lat, "meters");
  const points: { x: number; y: number }[] = [];
  const streets: Street[] = [];
  const half = (blocks * blockM) / 2;
  const side = blocks + 1;
  const gridId = (i: number, j: number) => j * side + i;
  const isArterial = (line: number) => line % arterialEvery === 0;

  // Grid intersections, nudged so the map does not look ruled.
  const jitter = () => Math.max(-0.12, Math.min(0.12, rng.gaussian(0, 0.04))) * blockM;
  for (let j = 0; j < side; j++) {
    for (let i = 0; i < side; i++) {
      points.push({ x: i * blockM - half + jitter(), y: j * blockM - half + jitter() });
    }
  }
  for (let j = 0; j < side; j++) {
    for (let i = 0; i < side; i++) {
      if (i < blocks) {
        const kind = isArterial(j) ? "arterial" : "residential";
        streets.push({ a: gridId(i, j), b: gridId(i + 1, j), kind });
      }
      if (j < blocks) {
        const kind = isArterial(i) ? "arterial" : "residential";
        streets.push({ a: gridId(i, j), b: gridId(i, j + 1), kind });
      }
    }
  }
  pruneResidential(streets, points.length, removeShare, rng);

  // The ring: where each border arterial, continued straight out, meets the circle, plus evenly
  // spaced points in between. Links join the two so the ring is reachable from the grid.
  const radius = half * ringScale;
  const ringPoints: { angle: number; link?: number }[] = [];
  const addLink = (node: number, x: number, y: number) => {
    ringPoints.push({ angle: Math.atan2(y, x), link: node });
  };
  for (let line = 0; line < side; line++) {
    if (!isArterial(line)) continue;
    const bottom = points[gridId(line, 0)]!;
    const top = points[gridId(line, blocks)]!;
    const left = points[gridId(0, line)]!;
    const right = points[gridId(blocks, line)]!;
    addLink(gridId(line, 0), bottom.x, -Math.sqrt(radius ** 2 - bottom.x ** 2));
    addLink(gridId(line, blocks), top.x, Math.sqrt(radius ** 2 - top.x ** 2));
    addLink(gridId(0, line), -Math.sqrt(radius ** 2 - left.y ** 2), left.y);
    addLink(gridId(blocks, line), Math.sqrt(radius ** 2 - right.y ** 2), right.y);
  }
  const regular = Math.max(16, Math.round((2 * Math.PI * radius) / 500));
  const spacing = (2 * Math.PI) / regular;
  for (let k = 0; k < regular; k++) {
    const angle = -Math.PI + k * spacing;
    const crowded = ringPoints.some((p) => angularGap(p.angle, angle) < spacing * 0.4);
    if (!crowded) ringPoints.push({ angle });
  }
  ringPoints.sort((p, q) => p.angle - q.angle);
  const firstRing = points.length;
  for (const p of ringPoints) {
    const r = p.link === undefined ? radius + rng.gaussian(0, 15) : radius;
    const id = points.length;
    points.push({ x: r * Math.cos(p.angle), y: r * Math.sin(p.angle) });
    if (p.link !== undefined) streets.push({ a: p.link, b: id, kind: "link" });
  }
  for (let k = 0; k < ringPoints.length; k++) {
    const next = firstRing + ((k + 1) % ringPoints.length);
    streets.push({ a: firstRing + k, b: next, kind: "ring" });
  }

  return assemble(center, ruler, points, streets, rng);
}

/** Remove some residential segments, never one whose loss would split the network. */
function pruneResidential(streets: Street[], nodeCount: number, share: number, rng: Random): void {
  const degree = new Array<number>(nodeCount).fill(0);
  for (const s of streets) {
    degree[s.a]!++;
    degree[s.b]!++;
  }
  for (let k = streets.length - 1; k >= 0; k--) {
    const s = streets[k]!;
    if (s.kind !== "residential" || !rng.chance(share)) continue;
    if (degree[s.a]! < 3 || degree[s.b]! < 2) continue; // leaves at most a cul-de-sac, never an island
    streets.splice(k, 1);
    if (countReachable(streets, nodeCount) === nodeCount) {
      degree[s.a]!--;
      degree[s.b]!--;
    } else {
      streets.splice(k, 0, s);
    }
  }
}

function countReachable(streets: readonly Street[], nodeCount: number): number {
  const adjacent: number[][] = Array.from({ length: nodeCount }, () => []);
  for (const s of streets) {
    adjacent[s.a]!.push(s.b);
    adjacent[s.b]!.push(s.a);
  }
  const seen = new Uint8Array(nodeCount);
  const stack = [0];
  seen[0] = 1;
  let count = 1;
  while (stack.length > 0) {
    for (const next of adjacent[stack.pop()!]!) {
      if (seen[next]) continue;
      seen[next] = 1;
      count++;
      stack.push(next);
    }
  }
  return count;
}

function assemble(
  center: { lat: number; lon: number },
  ruler: CheapRuler,
  points: readonly { x: number; y: number }[],
  streets: readonly Street[],
  rng: Random,
): StreetNetwork {
  const nodes: StreetNode[] = points.map((p, id) => {
    const [lon, lat] = ruler.offset([center.lon, center.lat], p.x, p.y);
    return { id, x: p.x, y: p.y, lat, lon, out: [], signal: false };
  });
  const edges: StreetEdge[] = [];
  for (const s of streets) {
    const a = nodes[s.a]!;
    const b = nodes[s.b]!;
    const length = Math.hypot(b.x - a.x, b.y - a.y);
    const forward = edges.length;
    const heading = normalizeDegrees(ruler.bearing([a.lon, a.lat], [b.lon, b.lat]));
    const limit = SPEED_LIMIT[s.kind];
    edges.push({
      id: forward,
      from: a.id,
      to: b.id,
      length,
      heading,
      limit,
      kind: s.kind,
      reverse: forward + 1,
    });
    edges.push({
      id: forward + 1,
      from: b.id,
      to: a.id,
      length,
      heading: normalizeDegrees(heading + 180),
      limit,
      kind: s.kind,
      reverse: forward,
    });
    a.out.push(forward);
    b.out.push(forward + 1);
  }
  // Lights where main roads cross, and at a third of the junctions of a main road with a side street.
  for (const node of nodes) {
    if (node.out.length < 3) continue;
    const major = node.out.filter((e) => edges[e]!.kind !== "residential").length;
    node.signal = major >= 3 || (major === 2 && rng.chance(0.3));
  }
  const maxLimit = Math.max(...edges.map((e) => e.limit));
  return { center: { ...center }, kx: ruler.kx, ky: ruler.ky, nodes, edges, maxLimit };
}

export function normalizeDegrees(degrees: number): number {
  const d = degrees % 360;
  const n = d < 0 ? d + 360 : d;
  // -1e-15 % 360 + 360 rounds to exactly 360, which is outside [0, 360).
  return n >= 360 ? 0 : n;
}

/** Smallest absolute difference between two angles in radians. */
function angularGap(a: number, b: number): number {
  const d = Math.abs(a - b) % (2 * Math.PI);
  return d > Math.PI ? 2 * Math.PI - d : d;
}

/** Number of nodes reachable from `start` along directed edges. */
export function reachableNodes(network: StreetNetwork, start = 0): number {
  const seen = new Uint8Array(network.nodes.length);
  const stack = [start];
  seen[start] = 1;
  let count = 1;
  while (stack.length > 0) {
    for (const e of network.nodes[stack.pop()!]!.out) {
      const to = network.edges[e]!.to;
      if (seen[to]) continue;
      seen[to] = 1;
      count++;
      stack.push(to);
    }
  }
  return count;
}
