import * as L from "leaflet";

/**
 * A faint grid under the tiles. Without tiles (offline, or a tile server that is down) it keeps
 * panning and zooming visible instead of vehicles floating on a blank plane; once tiles load
 * they cover it.
 */
class GridBackground extends L.GridLayer {
  protected override createTile(): HTMLElement {
    return L.DomUtil.create("div", "locus-grid-tile");
  }
}

export function createGridLayer(): L.GridLayer {
  return new GridBackground({ pane: "tilePane", zIndex: 0, updateWhenIdle: false });
}
