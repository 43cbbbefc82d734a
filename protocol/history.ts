/**
 * The history contract: level-of-detail tracks, trips, stops, summaries, import and export.
 * Shared by the server's history routes, the dashboard's replay and the CLI.
 *
 * Routes (all under /api, signed-in user, device granted to them; unknown = not granted = 404):
 *   GET  /devices/:id/track?from&to[&zoom=0..22 | &tolerance=metres][&bbox=w,s,e,n]
 *   GET  /devices/:id/trips?from&to
 *   GET  /devices/:id/stops?from&to
 *   GET  /devices/:id/summary?from&to
 *   GET  /devices/:id/export?from&to&format=gpx|geojson|csv|kml   (streamed attachment)
 *   POST /devices/:id/import?format=gpx|geojson                   (admin; raw file body)
 * `from`/`to` accept epoch ms or ISO-8601, as the positions route does.
 */

/**
 * One vertex of a track, as a compact array (a year-long track is thousands of these):
 * fix time (epoch ms), latitude, longitude, speed (m/s), altitude (m), course (degrees);
 * null where the device did not send it.
 */
export type TrackPoint = [
  ts: number,
  lat: number,
  lon: number,
  speed: number | null,
  alt: number | null,
  course: number | null,
];

/**
 * A stored fix as a compact row, for long streaming passes (analysis, export): the position's
 * fields in a fixed order, null where the device did not send one, attributes as JSON text.
 */
export type PositionRow = [
  ts: number,
  lat: number,
  lon: number,
  speed: number | null,
  course: number | null,
  alt: number | null,
  accuracy: number | null,
  battery: number | null,
  attributes: string | null,
];

/** `GET /api/devices/:id/track` */
export interface TrackReply {
  deviceId: string;
  from: number;
  to: number;
  /** Metres the line was simplified to; 0 when these are the raw stored points. */
  toleranceM: number;
  /**
   * Continuous pieces of the line. A gap in time or space (configurable) starts a new segment,
   * so the map never draws a straight line across a stretch with no data.
   */
  segments: TrackPoint[][];
}

export interface LatLon {
  lat: number;
  lon: number;
}

/** A stay: the device remained within the stop radius for at least the stop duration. */
export interface Stop {
  start: number;
  end: number;
  durationMs: number;
  /** Centre of the fixes of the stay. */
  lat: number;
  lon: number;
}

/** Movement between two stops (or a data gap) that covered at least the minimum trip distance. */
export interface Trip {
  start: number;
  end: number;
  durationMs: number;
  /** Geodesic (WGS84) length of the path, metres. */
  distanceM: number;
  /** m/s */
  maxSpeed: number;
  /** distance / duration, m/s */
  avgSpeed: number;
  startAt: LatLon;
  endAt: LatLon;
}

/** `GET /api/devices/:id/trips` */
export interface TripsReply {
  deviceId: string;
  from: number;
  to: number;
  trips: Trip[];
}

/** `GET /api/devices/:id/stops` */
export interface StopsReply {
  deviceId: string;
  from: number;
  to: number;
  stops: Stop[];
}

/** `GET /api/devices/:id/summary` */
export interface SummaryReply {
  deviceId: string;
  from: number;
  to: number;
  positions: number;
  /** Geodesic (WGS84) length of everything travelled, gaps not bridged, metres. */
  distanceM: number;
  drivingMs: number;
  stoppedMs: number;
  /** m/s, null with no positions. */
  maxSpeed: number | null;
  /** Stretches with no data longer than the gap threshold. */
  gaps: number;
}

export type ExportFormat = "gpx" | "geojson" | "csv" | "kml";
export type ImportFormat = "gpx" | "geojson";

/** `POST /api/devices/:id/import` reply. Importing the same file twice stores nothing new. */
export interface ImportReply {
  deviceId: string;
  accepted: number;
  duplicates: number;
  /** Points refused by the position rules, with the first few reasons. */
  rejected: number;
  errors: { at: string; message: string }[];
}
