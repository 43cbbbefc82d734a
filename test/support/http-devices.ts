/** Requests as the HTTP tracking apps (OsmAnd, Traccar Client, GPSLogger, OwnTracks) send them. */

/** A fix time the server accepts: whole seconds, a little in the past, distinct per call. */
let secondsCounter = Math.floor(Date.now() / 1000) - 7200;
export const nextSeconds = () => ++secondsCounter;

/** One knot in m/s: the OsmAnd protocol's speed unit. */
export const KNOT = 1852 / 3600;

export async function get(base: string, path: string, init: RequestInit = {}) {
  const res = await fetch(`${base}${path}`, init);
  return { status: res.status, body: await res.text(), headers: res.headers };
}

export const form = (fields: Record<string, string | number>) => ({
  method: "POST",
  headers: { "content-type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams(Object.entries(fields).map(([k, v]) => [k, String(v)])).toString(),
});

export const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: JSON.stringify(body),
});

export const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
