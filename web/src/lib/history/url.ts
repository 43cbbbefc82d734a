import type { TimeRange } from "./range.ts";

/**
 * Where the history view keeps its state in the URL, so a view can be shared and survives a
 * reload: `#/history?device=truck-1&from=2026-05-01T06:00:00.000Z&to=…[&at=…]`.
 * A hash route, because the live view owns the query string (`?device=` selects a vehicle) and
 * stays the default when there is no hash. Times are ISO-8601 UTC: readable, unambiguous for
 * whoever opens the link in another time zone, and what the API accepts as well.
 */
export const HISTORY_ROUTE = "#/history";

export interface HistoryLocation extends TimeRange {
  device: string | null;
  /** Replay cursor, epoch ms; null to start at the beginning of the range. */
  at: number | null;
}

/** Accepts ISO-8601 or epoch ms (as the API does); null for anything else. */
function parseTime(value: string | null): number | null {
  if (!value) return null;
  if (/^\d{1,15}$/.test(value)) return Number(value);
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

export function isHistoryHash(hash: string): boolean {
  return hash === HISTORY_ROUTE || hash.startsWith(`${HISTORY_ROUTE}?`);
}

/**
 * The history state in a location hash, or null when the hash is not the history route.
 * Missing or broken parts come back as `defaults` would have them, so a hand-edited link still
 * opens something sensible rather than an error.
 */
export function parseHistoryHash(hash: string, defaults: () => TimeRange): HistoryLocation {
  const query = hash.slice(HISTORY_ROUTE.length + 1);
  const params = new URLSearchParams(query);
  const device = params.get("device") || null;
  let from = parseTime(params.get("from"));
  let to = parseTime(params.get("to"));
  if (from === null || to === null || from > to) ({ from, to } = defaults());
  let at = parseTime(params.get("at"));
  if (at !== null && (at < from || at > to)) at = null;
  return { device, from, to, at };
}

export function historyHash(state: Omit<HistoryLocation, "at"> & { at?: number | null }): string {
  const params = new URLSearchParams();
  if (state.device) params.set("device", state.device);
  params.set("from", new Date(state.from).toISOString());
  params.set("to", new Date(state.to).toISOString());
  if (state.at !== undefined && state.at !== null)
    params.set("at", new Date(state.at).toISOString());
  return `${HISTORY_ROUTE}?${params}`;
}

/** `href` showing the history view: the live view's `?device=` selection is dropped. */
export function historyHref(href: string, state: Parameters<typeof historyHash>[0]): string {
  const url = new URL(href);
  url.searchParams.delete("device");
  url.hash = historyHash(state);
  return url.href;
}

/** `href` of the live view with `device` selected (the history hash dropped). */
export function liveHref(href: string, device: string | null): string {
  const url = new URL(href);
  url.hash = "";
  if (device) url.searchParams.set("device", device);
  return url.href;
}
