import * as L from "leaflet";
import type { FenceShape, LatLon } from "../../../../protocol/geofence.ts";
import { metresPerPixel } from "../geo/fence-math.ts";

/** Fences sit under trails (overlayPane, 400) and vehicles (450), above the tiles (200). */
export const FENCE_PANE = "locus-fences";
/** A corridor narrower than this on screen would vanish: it is drawn at least this wide. */
const MIN_BAND_PX = 3;

export function fencePane(map: L.Map): string {
  if (!map.getPane(FENCE_PANE)) map.createPane(FENCE_PANE).style.zIndex = "350";
  return FENCE_PANE;
}

export const toLatLng = (p: LatLon): L.LatLng => L.latLng(p.lat, p.lon);

export interface FenceLook {
  color: string;
  /** Drawn as the editor's draft: dashed, a little bolder. */
  draft?: boolean;
  /** Breaks a rule: outlined in red. */
  invalid?: boolean;
}

const INVALID = "#dc2626";

/**
 * One fence on the map, as the server checks it: a circle of its radius, a polygon, or a
 * corridor — the set of points within width / 2 of its line. A stroke with round caps and joins
 * is exactly that set, so the corridor is its line stroked as wide as the corridor is, in
 * pixels recomputed at each zoom, translucent, with the line itself dashed down the middle.
 * `set` updates the Leaflet layers in place, so the editor can call it on every drag.
 */
export class FenceView {
  /** What a pointer hits (tooltip, click): the circle, the polygon, the corridor's band. */
  main: L.Path | null = null;
  private centre: L.Polyline | null = null;
  private shape: FenceShape | null = null;
  private look: FenceLook = { color: "#e4572e" };
  private readonly map: L.Map;
  private readonly group: L.LayerGroup;
  private readonly interactive: boolean;
  private readonly pane: string;

  constructor(map: L.Map, group: L.LayerGroup, options: { interactive: boolean; pane?: string }) {
    this.map = map;
    this.group = group;
    this.interactive = options.interactive;
    this.pane = options.pane ?? fencePane(map);
  }

  set(shape: FenceShape, look: FenceLook): void {
    if (!this.shape) this.map.on("zoomend", this.rescale);
    const rebuild = !this.shape || this.shape.type !== shape.type;
    this.shape = shape;
    this.look = look;
    if (rebuild) this.build(shape);
    else this.update(shape);
    this.restyle();
  }

  /** Take it off the map; `set` puts it back. */
  remove(): void {
    this.map.off("zoomend", this.rescale);
    if (this.main) this.group.removeLayer(this.main);
    if (this.centre) this.group.removeLayer(this.centre);
    this.main = this.centre = null;
    this.shape = null;
  }

  private build(shape: FenceShape): void {
    if (this.main) this.group.removeLayer(this.main);
    if (this.centre) this.group.removeLayer(this.centre);
    this.centre = null;
    const common = { pane: this.pane, interactive: this.interactive };
    if (shape.type === "circle") {
      this.main = L.circle(toLatLng(shape.center), { ...common, radius: shape.radius });
    } else if (shape.type === "polygon") {
      this.main = L.polygon(shape.ring.map(toLatLng), common);
    } else {
      // noClip: Leaflet drops segments outside the view, but a wide band reaches into it.
      const line = shape.line.map(toLatLng);
      this.main = L.polyline(line, {
        ...common,
        noClip: true,
        lineCap: "round",
        lineJoin: "round",
        smoothFactor: 0,
      });
      this.centre = L.polyline(line, {
        pane: this.pane,
        interactive: false,
        smoothFactor: 0,
        lineCap: "round",
        lineJoin: "round",
      });
    }
    this.group.addLayer(this.main);
    if (this.centre) this.group.addLayer(this.centre);
  }

  private update(shape: FenceShape): void {
    if (shape.type === "circle") {
      const circle = this.main as L.Circle;
      circle.setLatLng(toLatLng(shape.center));
      circle.setRadius(shape.radius);
    } else if (shape.type === "polygon") {
      (this.main as L.Polygon).setLatLngs(shape.ring.map(toLatLng));
    } else {
      const line = shape.line.map(toLatLng);
      (this.main as L.Polyline).setLatLngs(line);
      this.centre?.setLatLngs(line);
    }
  }

  private restyle(): void {
    const { color, draft, invalid } = this.look;
    const stroke = invalid ? INVALID : color;
    if (this.shape?.type === "corridor") {
      this.main?.setStyle({
        color,
        opacity: draft ? 0.3 : 0.22,
        weight: this.bandWeight(),
        fill: false,
      });
      this.centre?.setStyle({
        color: stroke,
        opacity: 0.95,
        weight: draft ? 2.5 : 2,
        dashArray: draft ? "2 6" : "8 6",
      });
    } else {
      this.main?.setStyle({
        color: stroke,
        weight: draft ? 2.5 : 2,
        opacity: 0.95,
        dashArray: draft ? "7 5" : undefined,
        fillColor: color,
        fillOpacity: draft ? 0.18 : 0.12,
      });
    }
  }

  /** The corridor's width in screen pixels at the current zoom, around its middle latitude. */
  private bandWeight(): number {
    const shape = this.shape;
    if (shape?.type !== "corridor" || shape.line.length === 0) return MIN_BAND_PX;
    let lat = 0;
    for (const p of shape.line) lat += p.lat;
    lat /= shape.line.length;
    return Math.max(MIN_BAND_PX, shape.width / metresPerPixel(lat, this.map.getZoom()));
  }

  private readonly rescale = (): void => {
    if (this.shape?.type === "corridor") this.main?.setStyle({ weight: this.bandWeight() });
  };
}
