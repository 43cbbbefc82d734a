/**
 * What the fence editor needs before (and without) the protocol's schema: the palette and the
 * km/h the form shows for the m/s the server stores. fence-rules.ts, which loads zod, is only
 * fetched once an admin opens the editor.
 */

export const KMH_PER_MS = 3.6;

export const FENCE_COLORS = [
  "#e4572e",
  "#f59e0b",
  "#16a34a",
  "#0d9488",
  "#2563eb",
  "#7c3aed",
  "#db2777",
  "#475569",
] as const;
/** What the server picks when a request names no colour. */
export const DEFAULT_FENCE_COLOR = FENCE_COLORS[0];

/** km/h as typed to m/s as stored; three decimals keep 50 km/h reading back as 50. */
export function kmhToMs(kmh: number): number {
  return Math.round((kmh / KMH_PER_MS) * 1000) / 1000;
}

/** m/s to the km/h the form shows: whole, or with one decimal when it has one. */
export function msToKmh(ms: number): number {
  return Math.round(ms * KMH_PER_MS * 10) / 10;
}
