import CheapRuler from "cheap-ruler";
import { describe, expect, it } from "vitest";
import { Fifo } from "../../simulator/fifo.ts";
import { Random } from "../../simulator/random.ts";
import { buildStreetNetwork, reachableNodes, SPEED_LIMIT } from "../../simulator/streets.ts";

// The simulator's parts under its vehicle model: seeded randomness, the fix queue, the streets.

const BERLIN = { lat: 52.52, lon: 13.405 };
const network = buildStreetNetwork({ center: BERLIN, seed: 1 });
const ruler = new CheapRuler(BERLIN.lat, "meters");

describe("random streams", () => {
  it("repeat exactly for the same seed and keys, and differ for another seed or key", () => {
    const draw = (r: Random) => Array.from({ length: 50 }, () => r.uniform());
    expect(draw(new Random(7, 2, 1))).toEqual(draw(new Random(7, 2, 1)));
    expect(draw(new Random(7, 2, 1))).not.toEqual(draw(new Random(8, 2, 1)));
    expect(draw(new Random(7, 2, 1))).not.toEqual(draw(new Random(7, 2, 2)));
  });

  it("draw gaussians with the requested mean and spread, and ranges within bounds", () => {
    const r = new Random(1);
    const xs = Array.from({ length: 20_000 }, () => r.gaussian(5, 2));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length);
    expect(mean).toBeCloseTo(5, 1);
    expect(sd).toBeCloseTo(2, 1);
    for (let k = 0; k < 1000; k++) {
      const x = r.range(3, 8);
      expect(x >= 3 && x < 8).toBe(true);
      const n = r.int(1, 3);
      expect([1, 2, 3]).toContain(n);
    }
  });
});

describe("fifo", () => {
  it("behaves like an array queue across growth and wrap-around, front re-insertion included", () => {
    const fifo = new Fifo<number>();
    const model: number[] = [];
    const r = new Random(9);
    let next = 0;
    for (let k = 0; k < 5_000; k++) {
      const op = r.int(0, 3);
      if (op <= 1) {
        fifo.push(next);
        model.push(next++);
      } else if (op === 2) {
        expect(fifo.shift()).toBe(model.shift());
      } else {
        const taken = fifo.take(r.int(0, 40));
        expect(taken).toEqual(model.splice(0, taken.length));
        if (r.chance(0.5)) {
          fifo.unshiftAll(taken);
          model.unshift(...taken);
        }
      }
      expect(fifo.length).toBe(model.length);
    }
    expect(fifo.take(Infinity)).toEqual(model);
  });
});

describe("street network", () => {
  it("is connected: every node can reach every other along directed edges", () => {
    for (const start of [0, 100, network.nodes.length - 1]) {
      expect(reachableNodes(network, start)).toBe(network.nodes.length);
    }
  });

  it("has a grid of residential streets, faster arterials and a ring road linked to them", () => {
    const kinds = new Set(network.edges.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(["arterial", "link", "residential", "ring"]);
    expect(SPEED_LIMIT.ring).toBeGreaterThan(SPEED_LIMIT.arterial);
    expect(SPEED_LIMIT.arterial).toBeGreaterThan(SPEED_LIMIT.residential);
    for (const edge of network.edges) {
      expect(edge.limit).toBe(SPEED_LIMIT[edge.kind]);
      expect(network.edges[edge.reverse]!.reverse).toBe(edge.id);
      expect(edge.length).toBeGreaterThan(50);
    }
    expect(network.nodes.some((n) => n.signal)).toBe(true);
  });

  it("places nodes in degrees consistent with their local metres", () => {
    for (const node of network.nodes) {
      const [lon, lat] = ruler.offset([BERLIN.lon, BERLIN.lat], node.x, node.y);
      expect(node.lat).toBeCloseTo(lat, 9);
      expect(node.lon).toBeCloseTo(lon, 9);
      // Every node lies in the city: within ~5 km of the centre.
      expect(ruler.distance([BERLIN.lon, BERLIN.lat], [node.lon, node.lat])).toBeLessThan(5_000);
    }
  });

  it("is the same for the same seed and different for another", () => {
    const again = buildStreetNetwork({ center: BERLIN, seed: 1 });
    const other = buildStreetNetwork({ center: BERLIN, seed: 2 });
    expect(again.nodes).toEqual(network.nodes);
    expect(again.edges).toEqual(network.edges);
    expect(other.nodes).not.toEqual(network.nodes);
  });
});
