import * as L from "leaflet";
import { worldToLatLng } from "../geo/projection.ts";
import { sampleVehicle, type Fleet } from "../state/fleet.svelte.ts";

/** Container pixels hidden behind floating cards. */
export interface Insets {
  left: number;
  right: number;
  bottom: number;
}

/** Container position of a world point: `x = worldX * k + dx`, `y = worldY * k + dy`. */
export interface ScreenTransform {
  k: number;
  dx: number;
  dy: number;
}

/** Narrowest uncovered strip worth centring a followed vehicle in. */
const MIN_FREE_PX = 200;

/**
 * The live map's viewport logic: which vehicle it follows, where "centred" is once the cards
 * over the map are taken into account, and the per-frame pan that keeps the followed vehicle
 * there. Holds state only; the layer hands it the map and the frame's transform.
 */
export class FollowCamera {
  private followId: string | null = null;
  private paused = false;
  private insets: Insets = { left: 0, right: 0, bottom: 0 };
  private readonly fleet: Fleet;

  constructor(fleet: Fleet) {
    this.fleet = fleet;
  }

  /** Keep the map centred on this vehicle (null stops following). */
  setFollow(id: string | null): void {
    this.followId = id;
  }

  setInsets(insets: Insets): void {
    this.insets = { ...insets };
  }

  /**
   * Where followed vehicles are centred, relative to the container's centre: the middle of the
   * uncovered area, unless the cards leave too little of it to bother.
   */
  centreOffset(size: L.Point): L.Point {
    const { left, right, bottom } = this.insets;
    const freeX = size.x - left - right;
    const freeY = size.y - bottom;
    return L.point(
      freeX >= MIN_FREE_PX ? (left - right) / 2 : 0,
      freeY >= MIN_FREE_PX ? -bottom / 2 : 0,
    );
  }

  /** Hold following while the map flies somewhere, resuming (and calling `resumed`) after. */
  pauseUntilMoveEnd(map: L.Map, resumed: () => void): void {
    this.paused = true;
    map.once("moveend", () => {
      this.paused = false;
      resumed();
    });
  }

  /** Pan towards the followed vehicle; true while still catching up. */
  step(map: L.Map, now: number, { k, dx, dy }: ScreenTransform): boolean {
    const v = this.followId ? this.fleet.get(this.followId) : undefined;
    if (!v?.position || this.paused) return false;
    sampleVehicle(v, now);
    const size = map.getSize();
    const centre = this.centreOffset(size);
    const offX = v.x * k + dx - size.x / 2 - centre.x;
    const offY = v.y * k + dy - size.y / 2 - centre.y;
    if (Math.abs(offX) > size.x || Math.abs(offY) > size.y) {
      map.setView(worldToLatLng(v.x, v.y), map.getZoom(), { animate: false });
      return false;
    }
    const distance = Math.hypot(offX, offY);
    if (distance < 0.5) return false;
    // Ease in from afar, lock on when close: no jump when following starts, no lag after.
    const step = distance < 3 ? 1 : 0.2;
    map.panBy([offX * step, offY * step], { animate: false });
    return distance >= 3;
  }
}
