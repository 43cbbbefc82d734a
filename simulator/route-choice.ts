import type { Random } from "./random.ts";
import type { StreetEdge, StreetNetwork } from "./streets.ts";

/** What a simulated driver does at a junction: which street to take next, and how fast to turn. */

const MIN_TURN_SPEED = 2; // m/s, a U-turn or hairpin

/** Random next street, favouring straight on and main roads; U-turns only at dead ends. */
export function chooseNextEdge(
  network: StreetNetwork,
  edge: StreetEdge,
  random: Random,
): StreetEdge {
  const { nodes, edges } = network;
  const out = nodes[edge.to]!.out;
  let total = 0;
  for (const id of out) total += id === edge.reverse ? 0 : choiceWeight(edge, edges[id]!);
  if (total === 0) return edges[edge.reverse]!;
  let pick = random.range(0, total);
  for (const id of out) {
    if (id === edge.reverse) continue;
    const candidate = edges[id]!;
    pick -= choiceWeight(edge, candidate);
    if (pick < 0) return candidate;
  }
  // Floating-point leftovers land on the last candidate.
  for (let k = out.length - 1; k >= 0; k--) if (out[k] !== edge.reverse) return edges[out[k]!]!;
  return edges[edge.reverse]!;
}

/** Speed to take a turn at: full speed straight on, ~5 m/s round a right angle, crawl for 180°. */
export function turnSpeed(from: StreetEdge, to: StreetEdge, factor: number): number {
  const cruise = Math.min(from.limit, to.limit) * factor;
  const straightness = (180 - turnAngle(from, to)) / 180;
  return Math.min(cruise, MIN_TURN_SPEED + (cruise - MIN_TURN_SPEED) * straightness * straightness);
}

function turnAngle(from: StreetEdge, to: StreetEdge): number {
  const d = Math.abs(to.heading - from.heading) % 360;
  return d > 180 ? 360 - d : d;
}

function choiceWeight(from: StreetEdge, to: StreetEdge): number {
  return 1 + (turnAngle(from, to) < 30 ? 2 : 0) + (to.kind === "residential" ? 0 : 1);
}
