/** What the side panel shows: the vehicles, the events feed, or the geofences. */
export type PanelTab = "vehicles" | "events" | "fences";

class Panel {
  tab = $state<PanelTab>("vehicles");
  /** Narrow screens only: the panel is a drawer over the map, open or not. */
  open = $state(false);

  show(tab: PanelTab): void {
    this.tab = tab;
    this.open = true;
  }
}

export const panel = new Panel();
