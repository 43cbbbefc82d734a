import type { FleetEvent } from "../../../protocol/geofence.ts";
import { eventFeed } from "./state/events.svelte.ts";
import { fleet } from "./state/fleet.svelte.ts";
import { geofences } from "./state/geofences.svelte.ts";
import { layout } from "./state/layout.svelte.ts";
import { mapFocus } from "./state/map-focus.svelte.ts";
import { panel } from "./state/panel.svelte.ts";

/** What the feed and the toasts share: names for an event, and going to it on the map. */

export function vehicleName(deviceId: string): string {
  return fleet.get(deviceId)?.label ?? deviceId;
}

/** The name the event recorded, else the fence's current name, else null (a removed fence). */
export function fenceNameOf(event: FleetEvent): string | null {
  const recorded = event.details.name;
  if (typeof recorded === "string" && recorded) return recorded;
  return geofences.byId(event.geofenceId)?.name ?? null;
}

/** Centre the map where it happened, mark the spot, and make the vehicle stand out. */
export function showEvent(event: FleetEvent): void {
  mapFocus.point(event.lat, event.lon);
  eventFeed.highlight(event.deviceId, 4000);
  // On a phone the drawer covers the map: get it out of the way.
  if (layout.narrow) panel.open = false;
}
