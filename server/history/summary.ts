import { distanceM } from "../../protocol/geo.ts";
import type { Fix } from "./stops.ts";

/**
 * What the stay detector does not see: every fix in order, stops included. Counts fixes and data
 * gaps, and finds the top speed: the reported speed, or for a fix without one the speed its leg
 * from the previous fix implies (never across a gap).
 */
export class RawTotals {
  positions = 0;
  gaps = 0;
  maxSpeed: number | null = null;

  private previous: Fix | null = null;

  constructor(private readonly gapMs: number) {}

  push(fix: Fix): void {
    this.positions++;
    const previous = this.previous;
    this.previous = fix;
    const gap = previous !== null && fix[0] - previous[0] > this.gapMs;
    if (gap) this.gaps++;
    let speed = fix[3];
    if (speed === null) {
      const ms = previous === null || gap ? 0 : fix[0] - previous[0];
      speed = ms > 0 ? (distanceM(previous![1], previous![2], fix[1], fix[2]) * 1000) / ms : 0;
    }
    if (this.maxSpeed === null || speed > this.maxSpeed) this.maxSpeed = speed;
  }
}
