import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { xoroshiro128plusFromState } from "pure-rand/generator/xoroshiro128plus";
import type { RandomGenerator } from "pure-rand/types/RandomGenerator";

/**
 * Seeded randomness for the simulator. Every consumer (the street network, each vehicle's motion,
 * each vehicle's GPS noise) gets its own stream derived from (seed, keys...), so a vehicle's path
 * depends only on the seed and its index — never on how many other vehicles exist, in which order
 * they are stepped, or on wall-clock timing.
 */

/** Stream keys: fixed numbers, so adding a new consumer never shifts the existing streams. */
export const STREAM = { network: 1, motion: 2, noise: 3 } as const;

/** murmur3's 32-bit finaliser: spreads every input bit over the whole word. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/**
 * Hash (seed, ...keys) into a full 128-bit xoroshiro state. Seeding through a hash rather than
 * jumping `index` times keeps stream creation O(1), which matters with 10,000 vehicles.
 */
function deriveState(seed: number, keys: readonly number[]): number[] {
  const whole = Math.trunc(seed);
  let h = fmix32((whole >>> 0) ^ 0x9e3779b9);
  h = fmix32(h ^ Math.imul(Math.floor(whole / 2 ** 32) | 0, 0x27d4eb2d));
  for (const key of keys) h = fmix32(h + Math.imul((key | 0) + 1, 0x165667b1));
  const state: number[] = [];
  for (let i = 0; i < 4; i++) {
    // splitmix-style counter: distinct inputs per word, so the state is never all zero in practice.
    h = (h + 0x9e3779b9) | 0;
    state.push(fmix32(h));
  }
  if (!state.some((w) => w !== 0)) state[0] = 1; // xoroshiro's one forbidden state
  return state;
}

export class Random {
  readonly #rng: RandomGenerator;
  // Box–Muller yields normals in pairs; keep the second one instead of wasting it.
  #spare = 0;
  #hasSpare = false;

  constructor(seed: number, ...keys: number[]) {
    this.#rng = xoroshiro128plusFromState(deriveState(seed, keys));
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return uniformFloat64(this.#rng);
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + (max - min) * uniformFloat64(this.#rng);
  }

  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor((max - min + 1) * uniformFloat64(this.#rng));
  }

  /** Normal distribution (Box–Muller). */
  gaussian(mean = 0, sd = 1): number {
    if (this.#hasSpare) {
      this.#hasSpare = false;
      return mean + sd * this.#spare;
    }
    // 1 - u keeps the logarithm's argument in (0, 1], so it never sees 0.
    const r = Math.sqrt(-2 * Math.log(1 - uniformFloat64(this.#rng)));
    const theta = 2 * Math.PI * uniformFloat64(this.#rng);
    this.#spare = r * Math.sin(theta);
    this.#hasSpare = true;
    return mean + sd * r * Math.cos(theta);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return uniformFloat64(this.#rng) < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick() needs at least one item");
    return items[Math.floor(items.length * uniformFloat64(this.#rng))] as T;
  }
}
