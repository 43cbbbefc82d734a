import type { FenceGeometry, Vertex } from "../../protocol/fence-geometry.ts";
import { distanceM } from "../../protocol/geo.ts";
import type { GeofenceService, IndexedFence } from "./geofences.ts";

/** Metres to degrees of latitude (conservative for the box a move's candidates come from). */
export const M_PER_DEG_LAT = 110_574;

/**
 * How far around a fix fences are measured to find how far the device may go unwatched: four of
 * its last moves, within these bounds. Every fence within reach is measured, and a disk much
 * wider than the next few moves saves nothing, so a fast mover among dense fences asks for little.
 */
const REACH_M = { min: 25, max: 250, moves: 4 };

/**
 * Fences with a level nearer than eight of the device's last moves (and 5 m) are watched instead
 * of bounding the disk: a device creeping along a boundary (or parked on one, with GPS jitter)
 * would otherwise shrink its disk to nothing and search the index at nearly every fix, for the
 * sake of one or two fences. Watching costs a trace per fix, so only what would soon be crossed.
 */
const WATCH = { moves: 8, maxM: 5 };
const MAX_WATCHED = 4;

/**
 * A disk around a fix that no level of any fence but the watched ones enters (the boundary,
 * where a crossing is noted, and band / 2 either side, where it is confirmed). While a device
 * stays inside it (every fix, and so every straight move between them, since a disk is convex),
 * no other fence can be entered or left: its fixes cost the watched fences' traces and nothing
 * else. Measured against one version of the fences.
 */
export interface QuietDisk extends Vertex {
  radius: number;
  version: number;
  /** The few fences too near to wait for: traced at every fix inside the disk. */
  watched: IndexedFence[];
}

/** A box around a point, `m` metres each way, in degrees. */
export function boxAround(p: Vertex, m: number) {
  const dLat = m / M_PER_DEG_LAT;
  const dLon = dLat / Math.max(0.01, Math.cos((p.lat * Math.PI) / 180));
  return { west: p.lon - dLon, east: p.lon + dLon, south: p.lat - dLat, north: p.lat + dLat };
}

/** Each device's quiet disk, in memory only: a restart or a fence change just measures again. */
export class QuietDisks {
  private readonly disks = new Map<string, QuietDisk>();

  constructor(
    private readonly geofences: Pick<GeofenceService, "near" | "version">,
    /** The hysteresis band of a fence, metres. */
    private readonly bandOf: (geometry: FenceGeometry) => number,
  ) {}

  /** The device's disk if the fix is still inside it, else undefined (trace everything near). */
  holding(deviceId: string, fix: Vertex): QuietDisk | undefined {
    const disk = this.disks.get(deviceId);
    if (
      disk !== undefined &&
      disk.version === this.geofences.version &&
      distanceM(disk.lat, disk.lon, fix.lat, fix.lon) < disk.radius
    ) {
      return disk;
    }
    return undefined;
  }

  /**
   * Measure a new disk around `fix` (the device moved `moved` metres since its last fix): the
   * nearest level of any fence within reach bounds it, distances changing by at most the way
   * travelled, except the few nearest, which are watched instead.
   */
  measure(deviceId: string, fix: Vertex, moved: number): void {
    const reach = Math.min(REACH_M.max, Math.max(REACH_M.min, REACH_M.moves * moved));
    const watchWithin = Math.min(WATCH.maxM, WATCH.moves * moved);
    let radius = reach;
    const close: { entry: IndexedFence; slack: number }[] = [];
    for (const entry of this.geofences.near(boxAround(fix, reach))) {
      const d = entry.geometry.signedDistance(fix);
      const half = this.bandOf(entry.geometry) / 2;
      const slack = Math.min(Math.abs(d), Math.abs(d - half), Math.abs(d + half));
      if (slack < watchWithin) close.push({ entry, slack });
      else radius = Math.min(radius, slack);
    }
    if (close.length > MAX_WATCHED) {
      close.sort((a, b) => a.slack - b.slack);
      for (const { slack } of close.splice(MAX_WATCHED)) radius = Math.min(radius, slack);
    }
    if (radius > 0) {
      const watched = close.map((c) => c.entry);
      const { lat, lon } = fix;
      this.disks.set(deviceId, { lat, lon, radius, version: this.geofences.version, watched });
    } else this.disks.delete(deviceId);
  }

  forget(deviceId: string): void {
    this.disks.delete(deviceId);
  }
}
