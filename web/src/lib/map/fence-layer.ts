import * as L from "leaflet";
import type { Geofence } from "../../../../protocol/geofence.ts";
import { formatSpeed } from "../format.ts";
import { FenceView } from "./fence-view.ts";

export interface FenceLayerOptions {
  /** A fence was clicked (the map's own click handlers run too). */
  onClick?: (id: number, event: L.LeafletMouseEvent) => void;
}

/**
 * Every stored fence on the live map, in its colour, its name in a tooltip that follows the
 * pointer. The fence being edited is hidden (the editor draws its draft instead); while a new
 * fence is drawn, fences ignore the pointer so clicks and tooltips do not get in the way.
 */
export class FenceLayer {
  private readonly map: L.Map;
  private readonly group = L.layerGroup();
  private readonly options: FenceLayerOptions;
  private views: FenceView[] = [];

  constructor(map: L.Map, options: FenceLayerOptions = {}) {
    this.map = map;
    this.options = options;
    this.group.addTo(map);
  }

  set(fences: readonly Geofence[], hiddenId: number | null, interactive: boolean): void {
    for (const view of this.views) view.remove();
    this.group.clearLayers();
    this.views = [];
    for (const fence of fences) {
      if (fence.id === hiddenId) continue;
      const view = new FenceView(this.map, this.group, { interactive });
      view.set(fence.shape, { color: fence.color });
      const main = view.main;
      if (main && interactive) {
        main.bindTooltip(tooltipContent(fence), {
          sticky: true,
          direction: "top",
          offset: [0, -10],
          className: "locus-fence-tooltip",
        });
        main.on("click", (e) => this.options.onClick?.(fence.id, e as L.LeafletMouseEvent));
      }
      main?.getElement()?.setAttribute("data-fence-id", String(fence.id));
      main?.getElement()?.setAttribute("data-testid", "fence-shape");
      this.views.push(view);
    }
  }

  destroy(): void {
    for (const view of this.views) view.remove();
    this.views = [];
    this.group.remove();
  }
}

/** Built as elements, never as HTML: a fence's name is whatever an admin typed. */
function tooltipContent(fence: Geofence): HTMLElement {
  const root = document.createElement("div");
  const swatch = document.createElement("span");
  swatch.className = "swatch";
  swatch.style.background = fence.color;
  const name = document.createElement("strong");
  name.textContent = fence.name;
  root.append(swatch, name);
  if (fence.speedLimit !== null) {
    const limit = document.createElement("span");
    limit.className = "limit";
    limit.textContent = `limit ${formatSpeed(fence.speedLimit)}`;
    root.append(limit);
  }
  return root;
}
