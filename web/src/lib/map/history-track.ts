import * as L from "leaflet";
import type { Stop } from "../../../../protocol/history.ts";
import { bandRuns, SPEED_BANDS } from "../history/speed-scale.ts";
import type { Track } from "../history/track.ts";

const CASING_COLOR = "#ffffff";
const STOP_COLOR = "#d97706";

/** What was drawn, for the data attributes tests and curious users read. */
export interface DrawnCounts {
  segments: number;
  vertices: number;
  polylines: number;
}

/**
 * A history track coloured by speed, on one shared canvas renderer. Per segment a white casing,
 * then one polyline per run of equal speed band (speed-scale.ts): a few hundred canvas paths for
 * thousands of vertices, instead of a layer per vertex. Segments are drawn apart, so a gap in
 * the data is a gap on the map, never a straight line across it. Stops are small rings.
 */
export class HistoryTrackLayer {
  private readonly renderer: L.Canvas;
  private readonly group: L.LayerGroup;
  private readonly stopGroup: L.LayerGroup;

  constructor(map: L.Map) {
    // Padding: a little track beyond the edges, so panning does not reveal an empty border.
    this.renderer = L.canvas({ padding: 0.3 });
    this.group = L.layerGroup().addTo(map);
    this.stopGroup = L.layerGroup().addTo(map);
  }

  show(track: Track | null): DrawnCounts {
    this.group.clearLayers();
    const counts: DrawnCounts = { segments: 0, vertices: 0, polylines: 0 };
    if (!track) return counts;
    const common = {
      renderer: this.renderer,
      interactive: false,
      lineCap: "round",
      lineJoin: "round",
      // The server already simplified the line for this zoom; Leaflet must not do it again.
      smoothFactor: 0,
    } as const;
    for (const segment of track.segments) {
      const latlngs = segment.map((p) => [p[1], p[2]] as [number, number]);
      if (latlngs.length < 2) {
        L.circleMarker(latlngs[0]!, { ...common, radius: 3, weight: 2, color: CASING_COLOR })
          .setStyle({ fillColor: SPEED_BANDS[0]!.color, fillOpacity: 1 })
          .addTo(this.group);
      } else {
        L.polyline(latlngs, { ...common, color: CASING_COLOR, weight: 8, opacity: 0.95 }).addTo(
          this.group,
        );
        counts.polylines++;
      }
      for (const run of bandRuns(segment)) {
        if (run.latlngs.length < 2) continue;
        L.polyline(run.latlngs, {
          ...common,
          color: SPEED_BANDS[run.band]!.color,
          weight: 4.5,
        }).addTo(this.group);
        counts.polylines++;
      }
      counts.segments++;
      counts.vertices += segment.length;
    }
    return counts;
  }

  showStops(stops: readonly Stop[]): void {
    this.stopGroup.clearLayers();
    for (const stop of stops) {
      L.circleMarker([stop.lat, stop.lon], {
        renderer: this.renderer,
        interactive: false,
        radius: 6,
        weight: 2.5,
        color: STOP_COLOR,
        fillColor: "#ffffff",
        fillOpacity: 1,
      }).addTo(this.stopGroup);
    }
  }

  destroy(): void {
    this.group.remove();
    this.stopGroup.remove();
  }
}

/** The replayed vehicle: an arrow (a dot without heading) in a div marker, turned with CSS. */
export class ReplayMarker {
  private readonly marker: L.Marker;
  private readonly element: HTMLElement;
  private arrow: HTMLElement | null = null;

  constructor(map: L.Map) {
    // Markup only (no inline style): the strict CSP forbids style attributes in HTML.
    const icon = L.divIcon({
      className: "locus-replay-marker",
      iconSize: [30, 30],
      iconAnchor: [15, 15],
      html:
        '<div class="locus-replay-arrow"><svg viewBox="-15 -15 30 30" aria-hidden="true">' +
        '<circle class="halo" r="14"></circle>' +
        '<path class="arrow" d="M0 -10 L7 8 L0 4 L-7 8 Z"></path>' +
        '<circle class="dot" r="5"></circle></svg></div>',
    });
    this.marker = L.marker([0, 0], {
      icon,
      interactive: false,
      keyboard: false,
      zIndexOffset: 1000,
    });
    this.marker.addTo(map);
    this.element = this.marker.getElement()!;
    this.element.setAttribute("data-testid", "replay-marker");
    this.arrow = this.element.querySelector(".locus-replay-arrow");
  }

  place(lat: number, lon: number, heading: number | null, t: number): void {
    this.marker.setLatLng([lat, lon]);
    this.element.classList.toggle("no-heading", heading === null);
    // CSSOM, not a style attribute: allowed by the CSP.
    if (this.arrow) this.arrow.style.transform = `rotate(${heading ?? 0}deg)`;
    this.element.dataset.lat = lat.toFixed(6);
    this.element.dataset.lon = lon.toFixed(6);
    this.element.dataset.t = String(Math.round(t));
  }

  setVisible(visible: boolean): void {
    this.element.classList.toggle("hidden", !visible);
  }

  latLng(): L.LatLng {
    return this.marker.getLatLng();
  }

  destroy(): void {
    this.marker.remove();
  }
}
