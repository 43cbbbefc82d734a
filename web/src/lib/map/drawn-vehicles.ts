import type { Vehicle } from "../state/fleet.svelte.ts";

/** Clicks within this many CSS pixels of a vehicle select it. */
const HIT_RADIUS = 12;

/**
 * Where each vehicle was drawn in the last frame, in container pixels, and the hit-testing that
 * reads it: a click selects what the user saw under the pointer, not where a glide has moved it
 * since. Typed arrays indexed like `fleet.list`, reused across frames, so a frame of 5,000
 * vehicles allocates nothing per vehicle; `order` lists which entries the frame filled.
 */
export class DrawnVehicles {
  xs = new Float32Array(0);
  ys = new Float32Array(0);
  /** Indices into `fleet.list` of the vehicles drawn, in the order they were placed. */
  order = new Int32Array(0);
  count = 0;

  /** Room for a fleet of `n`, keeping the arrays when they are already large enough. */
  begin(n: number): void {
    this.count = 0;
    if (this.xs.length >= n) return;
    const size = Math.max(n, this.xs.length * 2, 256);
    this.xs = new Float32Array(size);
    this.ys = new Float32Array(size);
    this.order = new Int32Array(size);
  }

  add(index: number, x: number, y: number): void {
    this.xs[index] = x;
    this.ys[index] = y;
    this.order[this.count++] = index;
  }

  /** Whether `v` was drawn last frame (and its index still means it). */
  has(list: readonly Vehicle[], v: Vehicle): boolean {
    const i = v.index;
    // A vehicle dropped by a resync may have handed its index to another one.
    if (list[i] !== v) return false;
    for (let j = 0; j < this.count; j++) if (this.order[j] === i) return true;
    return false;
  }

  /** Nearest vehicle drawn within HIT_RADIUS of a container point. */
  hit(list: readonly Vehicle[], x: number, y: number): Vehicle | null {
    let best = -1;
    let bestD2 = HIT_RADIUS * HIT_RADIUS;
    for (let j = 0; j < this.count; j++) {
      const i = this.order[j]!;
      const dx = this.xs[i]! - x;
      const dy = this.ys[i]! - y;
      const d2 = dx * dx + dy * dy;
      if (d2 <= bestD2) {
        bestD2 = d2;
        best = i;
      }
    }
    return best >= 0 ? (list[best] ?? null) : null;
  }
}
