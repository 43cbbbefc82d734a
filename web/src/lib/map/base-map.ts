import * as L from "leaflet";
import { appConfig } from "../state/config.svelte.ts";
import { createGridLayer } from "./grid.ts";

/**
 * Where both maps keep their controls: zoom, scale and the tile provider's credit, bottom
 * right, so they are in the same place in the live and the history view. Cards floating over
 * the map's bottom edge (the replay bar, a phone's details sheet) would hide them: the view
 * lifts that corner above them with the `--map-bottom-inset` CSS property (app.css).
 */
const CONTROLS: L.ControlPosition = "bottomright";

/**
 * The map under both the live and the history view: world view, grid underlay, the configured
 * tiles once the server's config arrives, zoom and scale controls, and `besideZoom` controls
 * right next to the zoom buttons. `m.remove()` takes everything with it.
 */
export function createBaseMap(container: HTMLElement, besideZoom: L.Control[] = []): L.Map {
  const m = L.map(container, { zoomControl: false, minZoom: 2, worldCopyJump: true });
  m.setView([20, 0], 2);
  m.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  // A bottom corner stacks upwards in the order controls are added: credit, zoom, extras, scale.
  L.control.zoom({ position: CONTROLS }).addTo(m);
  for (const control of besideZoom) control.setPosition(CONTROLS).addTo(m);
  L.control.scale({ position: CONTROLS, imperial: false }).addTo(m);
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
