import * as L from "leaflet";
import type { Fleet } from "../state/fleet.svelte.ts";

const PAN_KEYS = new Set(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight"]);

/** Bounds of every vehicle the map draws (those with a position); null while there are none. */
export function fleetBounds(fleet: Fleet): L.LatLngBounds | null {
  const bounds = L.latLngBounds([]);
  for (const v of fleet.list) if (v.position) bounds.extend([v.position.lat, v.position.lon]);
  return bounds.isValid() ? bounds : null;
}

/**
 * Puts the fleet in view. Automatically while the map is still the user's to take: a dashboard
 * opened before the fleet comes online starts at world zoom, and each time more vehicles appear
 * the map frames them all, until the user pans or zooms it, or a vehicle is selected (`stop`).
 * On request at any time (`fitAll`, the fit-all control).
 */
export class FleetFraming {
  private readonly map: L.Map;
  private readonly fleet: Fleet;
  private readonly options: () => L.FitBoundsOptions;
  private auto: boolean;
  /** Vehicles with a position at the last automatic framing. */
  private framedCount = 0;
  /** Set while this class moves the map, so its own zoomstart is not taken for the user's. */
  private framing = false;

  /** `options` gives the padding (cards over the map) and zoom limit at the time of framing. */
  constructor(map: L.Map, fleet: Fleet, options: () => L.FitBoundsOptions, auto: boolean) {
    this.map = map;
    this.fleet = fleet;
    this.options = options;
    this.auto = auto;
    // Dragging, wheel, double-click, pinch, box and button zooms: the user looks somewhere.
    // (Not movestart: a window resize pans the map too.)
    map.on("dragstart", this.stop);
    map.on("zoomstart", this.onZoomStart);
    map.on("keydown", this.onKeydown);
  }

  /** The user took over (moved the map, picked a vehicle): no more automatic framing. */
  readonly stop = (): void => {
    this.auto = false;
  };

  /** Call on every fleet change: frames the fleet when vehicles appeared since last time. */
  update(): void {
    if (!this.auto) return;
    let positioned = 0;
    for (const v of this.fleet.list) if (v.position) positioned++;
    if (positioned <= this.framedCount) return;
    this.framedCount = positioned;
    this.fit(false);
  }

  /** Frame every vehicle now. */
  fitAll(): void {
    this.fit(true);
  }

  destroy(): void {
    this.map.off("dragstart", this.stop);
    this.map.off("zoomstart", this.onZoomStart);
    this.map.off("keydown", this.onKeydown);
  }

  private fit(animate: boolean): void {
    const bounds = fleetBounds(this.fleet);
    if (!bounds) return;
    this.framing = true;
    try {
      // Without animation every event of the move fires before fitBounds returns.
      this.map.fitBounds(bounds, { ...this.options(), animate });
    } finally {
      this.framing = false;
    }
  }

  private readonly onZoomStart = (): void => {
    if (!this.framing) this.stop();
  };

  private readonly onKeydown = (e: L.LeafletEvent): void => {
    if (PAN_KEYS.has((e as L.LeafletKeyboardEvent).originalEvent.key)) this.stop();
  };
}
