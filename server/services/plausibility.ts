import { distanceM } from "../../protocol/geo.ts";
import type { ImplausibleReason, Position } from "../../protocol/index.ts";

export interface PlausibilityRules {
  maxAccuracyM: number;
  maxImpliedSpeed: number;
}

interface Anchor {
  ts: number;
  lat: number;
  lon: number;
  /** Consecutive fixes flagged for implied speed since this anchor. */
  jumps: number;
}

/** After this many consecutive "too fast" fixes the device has really moved: re-anchor on it. */
const JUMPS_BEFORE_REANCHOR = 3;

/**
 * Flags GPS fixes that parse fine but cannot be right: (0, 0) fixes, fixes worse than the accuracy
 * limit, and jumps from the last plausible fix faster than any vehicle. Flagged fixes are stored
 * with their reason, never silently dropped, so a wrong threshold loses nothing.
 */
export class PlausibilityCheck {
  private readonly anchors = new Map<string, Anchor>();

  constructor(
    private readonly rules: PlausibilityRules,
    initial: Iterable<{ deviceId: string; latest: Position | null }> = [],
  ) {
    for (const { deviceId, latest } of initial) {
      if (latest)
        this.anchors.set(deviceId, { ts: latest.ts, lat: latest.lat, lon: latest.lon, jumps: 0 });
    }
  }

  /** The reason a fix is implausible, or null. Remembers plausible fixes as the next anchor. */
  check(deviceId: string, p: Position): ImplausibleReason | null {
    if (p.lat === 0 && p.lon === 0) return "null_island";
    if (p.accuracy !== undefined && p.accuracy > this.rules.maxAccuracyM) return "inaccurate";
    const anchor = this.anchors.get(deviceId);
    if (anchor && this.impliedSpeed(anchor, p) > this.rules.maxImpliedSpeed) {
      if (++anchor.jumps < JUMPS_BEFORE_REANCHOR) return "implied_speed";
    }
    if (!anchor || p.ts >= anchor.ts) {
      this.anchors.set(deviceId, { ts: p.ts, lat: p.lat, lon: p.lon, jumps: 0 });
    }
    return null;
  }

  /**
   * A plausible fix judged elsewhere (another node of the cluster committed it): the next fix here
   * is judged against it when it is the newest.
   */
  remember(deviceId: string, p: Position): void {
    const anchor = this.anchors.get(deviceId);
    if (!anchor || p.ts >= anchor.ts) {
      this.anchors.set(deviceId, { ts: p.ts, lat: p.lat, lon: p.lon, jumps: 0 });
    }
  }

  private impliedSpeed(a: Anchor, p: Position): number {
    const seconds = Math.abs(p.ts - a.ts) / 1000;
    const metres = distanceM(a.lat, a.lon, p.lat, p.lon);
    // Two fixes in the same second: judge the jump as if one second apart.
    return metres / Math.max(seconds, 1);
  }
}
