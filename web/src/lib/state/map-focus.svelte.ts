import type { LatLonBounds } from "../geo/fence-math.ts";

export type FocusRequest =
  | { kind: "point"; lat: number; lon: number; seq: number }
  | { kind: "bounds"; bounds: LatLonBounds; seq: number };

/**
 * Where a panel asks the live map to look (an event's place, a fence), without importing the map:
 * the map view watches `request` and goes there.
 */
class MapFocus {
  request = $state.raw<FocusRequest | null>(null);
  private seq = 0;

  point(lat: number, lon: number): void {
    this.request = { kind: "point", lat, lon, seq: ++this.seq };
  }

  bounds(bounds: LatLonBounds): void {
    this.request = { kind: "bounds", bounds, seq: ++this.seq };
  }
}

export const mapFocus = new MapFocus();
