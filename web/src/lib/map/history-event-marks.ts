import * as L from "leaflet";
import { mount, unmount } from "svelte";
import type { FleetEvent } from "../../../../protocol/geofence.ts";
import EventIcon from "../components/EventIcon.svelte";

export interface EventMarksOptions {
  /** The words of the tooltip: when and what. */
  label: (event: FleetEvent) => string;
  /** A mark was clicked. */
  onPick: (event: FleetEvent) => void;
}

/**
 * Where a vehicle's events happened, on the history map: the feed's icon for each, in a white
 * disc with a shadow (app.css: the trips' line and the stops' canvas rings have neither), above
 * the track and below the replay marker. The caller caps how many (spreadSample): each is a DOM marker.
 */
export class HistoryEventMarks {
  private readonly group: L.LayerGroup;
  private readonly options: EventMarksOptions;
  private icons: ReturnType<typeof mount>[] = [];

  constructor(map: L.Map, options: EventMarksOptions) {
    this.group = L.layerGroup().addTo(map);
    this.options = options;
  }

  show(events: readonly FleetEvent[]): void {
    this.clear();
    for (const event of events) {
      const element = document.createElement("div");
      element.className = "locus-event-mark";
      element.dataset.testid = "event-mark";
      element.dataset.type = event.type;
      element.dataset.ts = String(event.ts);
      // The feed's own icon component: one look for an event wherever it is shown.
      this.icons.push(mount(EventIcon, { target: element, props: { type: event.type, size: 20 } }));
      const marker = L.marker([event.lat, event.lon], {
        icon: L.divIcon({ className: "locus-event-mark-icon", html: element, iconSize: [24, 24] }),
        keyboard: false,
        riseOnHover: true,
      });
      // An element with text, never an HTML string: a fence's name is whatever an admin typed.
      const tip = document.createElement("span");
      tip.textContent = this.options.label(event);
      marker.bindTooltip(tip, {
        direction: "top",
        offset: [0, -12],
        className: "locus-event-tooltip",
      });
      marker.on("click", () => this.options.onPick(event));
      marker.addTo(this.group);
    }
  }

  private clear(): void {
    for (const icon of this.icons) void unmount(icon);
    this.icons = [];
    this.group.clearLayers();
  }

  destroy(): void {
    this.clear();
    this.group.remove();
  }
}
