import type { Locator } from "playwright-core";

/** Browser-test helpers about what is on screen: boxes, and whether anything covers an element. */

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export async function boxOf(locator: Locator): Promise<Box> {
  const box = await locator.boundingBox();
  if (!box) throw new Error(`${locator} is not rendered`);
  return box;
}

/** `inner` lies wholly inside `outer` (to a pixel's rounding). */
export function contains(outer: Box, inner: Box): boolean {
  return (
    inner.x >= outer.x - 0.5 &&
    inner.y >= outer.y - 0.5 &&
    inner.x + inner.width <= outer.x + outer.width + 0.5 &&
    inner.y + inner.height <= outer.y + outer.height + 0.5
  );
}

/**
 * What the user sees at the middle of the element: true when the topmost element there is the
 * element itself or inside it, so no card, bar or sheet lies over it (and it is in the viewport).
 */
export function isUncovered(locator: Locator): Promise<boolean> {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const x = r.left + r.width / 2;
    const y = r.top + r.height / 2;
    if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) return false;
    const top = document.elementFromPoint(x, y);
    return top !== null && (top === el || el.contains(top));
  });
}

/**
 * Where a point is on screen, from a map's bounds (its `data-bounds`, west,south,east,north, as
 * the live and the history map publish them) and its box: Web Mercator between the edges.
 */
export async function screenPoint(
  map: Locator,
  at: { lat: number; lon: number },
): Promise<[number, number]> {
  const [west, south, east, north] = (await map.getAttribute("data-bounds"))!
    .split(",")
    .map(Number) as [number, number, number, number];
  const box = await boxOf(map);
  const mercator = (lat: number) => Math.log(Math.tan(Math.PI / 4 + (lat * Math.PI) / 360));
  return [
    box.x + ((at.lon - west) / (east - west)) * box.width,
    box.y +
      ((mercator(north) - mercator(at.lat)) / (mercator(north) - mercator(south))) * box.height,
  ];
}

/**
 * A fixed-offset time zone where it is about midday now, so "Today" in the browser holds hours
 * of the day before and after any fixture recorded a few minutes ago, whenever the tests run.
 */
export function middayTimezone(now = Date.now()): string {
  const offset = new Date(now).getUTCHours() - 12; // hours west of UTC
  // POSIX-style names: Etc/GMT+5 is five hours *behind* UTC.
  return offset === 0 ? "Etc/GMT" : `Etc/GMT${offset > 0 ? "+" : "-"}${Math.abs(offset)}`;
}
