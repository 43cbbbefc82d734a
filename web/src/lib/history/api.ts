import type {
  ExportFormat,
  ImportFormat,
  ImportReply,
  StopsReply,
  SummaryReply,
  TrackReply,
  TripsReply,
} from "../../../../protocol/history.ts";
import type { ErrorReply } from "../../../../protocol/errors.ts";
import { HttpError, request } from "../api.ts";
import type { TimeRange } from "./range.ts";

/** The history routes of `protocol/history.ts`, as the dashboard calls them. */

function devicePath(deviceId: string, route: string): string {
  return `/api/devices/${encodeURIComponent(deviceId)}/${route}`;
}

function rangeParams(range: TimeRange): URLSearchParams {
  return new URLSearchParams({
    from: String(Math.floor(range.from)),
    to: String(Math.ceil(range.to)),
  });
}

export interface TrackQuery extends TimeRange {
  /** Map zoom the line is simplified for. */
  zoom: number;
  /** Only what is in view (with the server's margin): west, south, east, north. */
  bbox?: [number, number, number, number];
}

/** The server answers 503 `not_ready` while it still summarises fresh hours of a track. */
const NOT_READY_RETRIES = 15;
const NOT_READY_WAIT_MS = 2000;

function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

export async function fetchTrack(
  deviceId: string,
  query: TrackQuery,
  signal?: AbortSignal,
): Promise<TrackReply> {
  const params = rangeParams(query);
  params.set("zoom", String(Math.max(0, Math.min(22, Math.round(query.zoom)))));
  if (query.bbox) params.set("bbox", query.bbox.map((v) => v.toFixed(6)).join(","));
  const url = `${devicePath(deviceId, "track")}?${params}`;
  for (let attempt = 0; ; attempt++) {
    try {
      return await request<TrackReply>(url, { signal });
    } catch (error) {
      const notReady = error instanceof HttpError && error.code === "not_ready";
      if (!notReady || attempt >= NOT_READY_RETRIES) throw error;
      await wait(NOT_READY_WAIT_MS, signal);
    }
  }
}

export function fetchTrips(
  deviceId: string,
  range: TimeRange,
  signal?: AbortSignal,
): Promise<TripsReply> {
  return request<TripsReply>(`${devicePath(deviceId, "trips")}?${rangeParams(range)}`, { signal });
}

export function fetchStops(
  deviceId: string,
  range: TimeRange,
  signal?: AbortSignal,
): Promise<StopsReply> {
  return request<StopsReply>(`${devicePath(deviceId, "stops")}?${rangeParams(range)}`, { signal });
}

export function fetchSummary(
  deviceId: string,
  range: TimeRange,
  signal?: AbortSignal,
): Promise<SummaryReply> {
  return request<SummaryReply>(`${devicePath(deviceId, "summary")}?${rangeParams(range)}`, {
    signal,
  });
}

export const EXPORT_FORMATS: readonly { format: ExportFormat; label: string }[] = [
  { format: "gpx", label: "GPX" },
  { format: "geojson", label: "GeoJSON" },
  { format: "csv", label: "CSV" },
  { format: "kml", label: "KML" },
];

/** A plain link: the server streams the file as an attachment, the browser saves it. */
export function exportUrl(deviceId: string, range: TimeRange, format: ExportFormat): string {
  const params = rangeParams(range);
  params.set("format", format);
  return `${devicePath(deviceId, "export")}?${params}`;
}

/** The import format a file name suggests, or null when it says nothing we can read. */
export function importFormatOf(fileName: string): ImportFormat | null {
  const name = fileName.toLowerCase();
  if (name.endsWith(".gpx")) return "gpx";
  if (name.endsWith(".geojson") || name.endsWith(".json")) return "geojson";
  return null;
}

const CONTENT_TYPE: Record<ImportFormat, string> = {
  gpx: "application/gpx+xml",
  geojson: "application/geo+json",
};

/**
 * Upload a file into a device's history. XHR rather than fetch: only XHR reports upload
 * progress, which a large GPX file needs for its progress bar. Rejects with an HttpError
 * carrying the server's own message.
 */
export function uploadImport(
  deviceId: string,
  format: ImportFormat,
  file: Blob,
  onProgress: (fraction: number) => void,
): { done: Promise<ImportReply>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const done = new Promise<ImportReply>((resolve, reject) => {
    xhr.open("POST", `${devicePath(deviceId, "import")}?format=${format}`);
    xhr.setRequestHeader("Content-Type", CONTENT_TYPE[format]);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "text";
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    };
    xhr.upload.onload = () => onProgress(1);
    xhr.onload = () => {
      let body: unknown = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // A proxy in between may answer with HTML; the status line will have to do.
      }
      if (xhr.status >= 200 && xhr.status < 300 && body) resolve(body as ImportReply);
      else {
        const error = (body as Partial<ErrorReply> | null)?.error;
        reject(
          new HttpError(
            xhr.status,
            error?.message || `${xhr.status} ${xhr.statusText || "error"} from the import`,
            error?.code,
          ),
        );
      }
    };
    xhr.onerror = () => reject(new TypeError("network error during the upload"));
    xhr.onabort = () => reject(new DOMException("upload cancelled", "AbortError"));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}
