import * as L from "leaflet";

/**
 * A faint grid under the tiles. Without tiles (offline, or a tile server that is down) it keeps
 * panning and zooming visible instead of vehicles floating on a blank plane; once tiles load
 * they cover it.
 */
export function createGridLayer(): L.GridLayer {
  const grid = new L.GridLayer({ pane: "tilePane", zIndex: 0, tileSize: 256, updateWhenIdle: false });
  grid.createTile = () => L.DomUtil.create("div", "locus-grid-tile");
  return grid;
}
