import * as L from "leaflet";

const LABEL = "Show all vehicles";
// Four corners of a frame: what "fit all" does to the map.
const ICON =
  '<svg viewBox="0 0 20 20" aria-hidden="true"><path d="M3 7V3h4M13 3h4v4M17 13v4h-4M7 17H3v-4"/></svg>';

/**
 * A button beside the zoom buttons that frames every vehicle on the map. A real <button>, so
 * the keyboard reaches it; styled like Leaflet's zoom bar (app.css).
 */
export class FitAllControl extends L.Control {
  private readonly onFit: () => void;

  constructor(onFit: () => void) {
    super();
    this.onFit = onFit;
  }

  override onAdd(): HTMLElement {
    const bar = L.DomUtil.create("div", "leaflet-bar locus-fit-all");
    const button = L.DomUtil.create("button", "", bar);
    button.type = "button";
    button.title = LABEL;
    button.setAttribute("aria-label", LABEL);
    button.setAttribute("data-testid", "fit-all");
    // Markup only, no style attribute: the CSP forbids inline styles.
    button.innerHTML = ICON;
    // Clicks on the control are not clicks on the map (no vehicle hit-test, no double-click zoom).
    L.DomEvent.disableClickPropagation(bar);
    L.DomEvent.on(button, "click", () => this.onFit());
    return bar;
  }
}
