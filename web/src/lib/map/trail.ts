import * as L from "leaflet";
import { TRAIL_STRIDE } from "../../../../protocol/events.ts";
import { fetchPositionsSince } from "../api.ts";
import type { Fleet } from "../state/fleet.svelte.ts";
import { ACCENT } from "../status.ts";

/** How often an idle trail drops points that aged out of the window. */
const TRIM_EVERY_MS = 5000;

/**
 * The selected vehicle's recent track: the last `trailMinutes` from the history API, then
 * extended with each live fix and trimmed to the window. Drawn by Leaflet's default SVG renderer
 * as a white casing under a blue line, so it reads on any tile style.
 */
export class Trail {
  private readonly casing: L.Polyline;
  private readonly line: L.Polyline;
  private deviceId: string | null = null;
  /** Fix times parallel to the polylines' points, for trimming. */
  private times: number[] = [];
  private points: L.LatLng[] = [];
  private loading: AbortController | null = null;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly unsubscribe: () => void;
  private readonly map: L.Map;
  private readonly fleet: Fleet;
  private readonly windowMinutes: () => number;

  constructor(map: L.Map, fleet: Fleet, windowMinutes: () => number) {
    this.map = map;
    this.fleet = fleet;
    this.windowMinutes = windowMinutes;
    // smoothFactor 0: every fix stays a vertex. A trail is at most a few thousand points, and
    // Leaflet's simplification would swallow slow stop-and-go moves until the next zoom.
    const common = {
      interactive: false,
      lineJoin: "round",
      lineCap: "round",
      smoothFactor: 0,
    } as const;
    this.casing = L.polyline([], {
      ...common,
      className: "locus-trail-casing",
      color: "#fff",
      weight: 7,
      opacity: 0.9,
    });
    this.line = L.polyline([], {
      ...common,
      className: "locus-trail",
      color: ACCENT,
      weight: 3.5,
      opacity: 0.9,
    });
    this.unsubscribe = fleet.onChange((kind) => {
      // After a resync the socket may have been away: the history fills the gap (unless a
      // fetch is already under way, which will cover it).
      if (kind === "batch") this.extend();
      else if (!this.loading) this.reload(true);
    });
    this.timer = setInterval(() => this.trim(), TRIM_EVERY_MS);
  }

  /** Show the trail of this device (null hides it). Re-showing the same device keeps its trail. */
  show(deviceId: string | null): void {
    if (deviceId === this.deviceId) return;
    this.deviceId = deviceId;
    this.reload();
  }

  destroy(): void {
    this.loading?.abort();
    clearInterval(this.timer);
    this.unsubscribe();
    this.casing.remove();
    this.line.remove();
  }

  private cutoff(): number {
    return this.fleet.serverNow() - this.windowMinutes() * 60_000;
  }

  /**
   * Fetch the window from the history API. A resync of the same device keeps the old trail on
   * screen until the new one arrives, so a reconnect does not blink it.
   */
  private reload(keepShown = false): void {
    this.loading?.abort();
    this.loading = null;
    const id = this.deviceId;
    if (!keepShown || !id) {
      this.times = [];
      this.points = [];
      this.render();
    }
    if (!id) {
      this.casing.remove();
      this.line.remove();
      return;
    }
    this.casing.addTo(this.map);
    this.line.addTo(this.map);
    const controller = new AbortController();
    this.loading = controller;
    fetchPositionsSince(id, this.cutoff(), controller.signal).then(
      (positions) => {
        if (this.loading !== controller) return;
        this.loading = null;
        this.times = [];
        this.points = [];
        for (const p of positions) this.push(p.ts, p.lat, p.lon);
        // Live fixes that arrived while loading are newer than the history: add them too.
        this.extend();
        this.render();
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        this.loading = null;
        console.warn(`Locus: no trail for ${id}`, error);
        this.extend();
      },
    );
  }

  /**
   * Append the fixes of the latest batch the trail does not have yet: those before the newest
   * (a device may report faster than the live tick) and the newest itself.
   */
  private extend(): void {
    if (!this.deviceId || this.loading) return;
    const vehicle = this.fleet.get(this.deviceId);
    const p = vehicle?.position;
    if (!p || p.ts <= (this.times.at(-1) ?? -Infinity)) return;
    const { recent } = vehicle;
    const known = this.points.length;
    for (let i = 0; i < recent.length; i += TRAIL_STRIDE) {
      this.push(recent[i]!, recent[i + 1]!, recent[i + 2]!);
    }
    this.push(p.ts, p.lat, p.lon);
    if (this.trim()) return;
    for (const latlng of this.points.slice(known)) {
      this.casing.addLatLng(latlng);
      this.line.addLatLng(latlng);
    }
  }

  private push(ts: number, lat: number, lon: number): void {
    if (ts <= (this.times.at(-1) ?? -Infinity)) return;
    this.times.push(ts);
    this.points.push(L.latLng(lat, lon));
  }

  /** Drop points older than the window; true if it re-rendered. */
  private trim(): boolean {
    const cutoff = this.cutoff();
    let drop = 0;
    while (drop < this.times.length && this.times[drop]! < cutoff) drop++;
    if (drop === 0) return false;
    this.times.splice(0, drop);
    this.points.splice(0, drop);
    this.render();
    return true;
  }

  private render(): void {
    this.casing.setLatLngs(this.points);
    this.line.setLatLngs(this.points);
  }
}
