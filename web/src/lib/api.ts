import type { ClientConfigReply, Position, PositionsReply } from "../../../protocol/index.ts";

/** The REST calls the dashboard makes. Same origin: in development Vite proxies /api. */

export const FALLBACK_CONFIG: Readonly<ClientConfigReply> = {
  tileUrl: "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
  tileAttribution:
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
  tickMs: 100,
  trailMinutes: 15,
};

export class HttpError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(url, { signal, headers: { Accept: "application/json" } });
  if (!res.ok) throw new HttpError(res.status, `${res.status} ${res.statusText} for ${url}`);
  return (await res.json()) as T;
}

export async function fetchConfig(signal?: AbortSignal): Promise<ClientConfigReply> {
  return {
    ...FALLBACK_CONFIG,
    ...(await getJson<Partial<ClientConfigReply>>("/api/config", signal)),
  };
}

/** Cap on pages followed, so a misbehaving `next` cannot loop forever. */
const MAX_PAGES = 100;

/** Every stored fix of a device since `from` (epoch ms), oldest first, following `next` pages. */
export async function fetchPositionsSince(
  deviceId: string,
  from: number,
  signal?: AbortSignal,
): Promise<Position[]> {
  const params = new URLSearchParams({ from: String(Math.floor(from)), limit: "5000" });
  let url: string | null = `/api/devices/${encodeURIComponent(deviceId)}/positions?${params}`;
  const all: Position[] = [];
  for (let page = 0; url && page < MAX_PAGES; page++) {
    const reply: PositionsReply = await getJson<PositionsReply>(url, signal);
    for (const p of reply.positions) all.push(p);
    url = reply.next;
  }
  return all;
}
