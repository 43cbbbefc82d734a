import * as L from "leaflet";
import { appConfig } from "../state/config.svelte.ts";
import { createGridLayer } from "./grid.ts";

/**
 * The map under both the live and the history view: world view, grid underlay, the configured
 * tiles once the server's config arrives, zoom and scale controls at `controls`. `m.remove()`
 * takes everything with it.
 */
export function createBaseMap(container: HTMLElement, controls: L.ControlPosition): L.Map {
  const m = L.map(container, { zoomControl: false, minZoom: 2, worldCopyJump: true });
  m.setView([20, 0], 2);
  m.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  L.control.zoom({ position: controls }).addTo(m);
  L.control.scale({ position: controls, imperial: false }).addTo(m);
  createGridLayer().addTo(m);
  let removed = false;
  m.once("unload", () => (removed = true));
  void appConfig.ready.then((config) => {
    // The view may have been left before the config arrived.
    if (removed) return;
    L.tileLayer(config.tileUrl, { attribution: config.tileAttribution, maxZoom: 19 }).addTo(m);
  });
  return m;
}
