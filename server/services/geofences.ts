import { FenceGeometry } from "../../protocol/fence-geometry.ts";
import type { Bbox } from "../../protocol/geo.ts";
import {
  geofenceChangeSchema,
  newGeofenceSchema,
  type Geofence,
  type NewGeofence,
} from "../../protocol/geofence.ts";
import type { Clock } from "../clock.ts";
import { FenceIndex } from "../geofences/fence-index.ts";
import { NameTakenError, type GeofenceStore } from "../stores/ports.ts";
import { badRequest, conflict, notFound, parseRequest } from "./errors.ts";
import type { Origin } from "./origin.ts";

export interface IndexedFence {
  fence: Geofence;
  geometry: FenceGeometry;
}

/** A fence added, changed or removed: the cluster bus tells the other nodes to reload. */
export interface GeofenceChange {
  type: "added" | "updated" | "removed";
  id: number;
}

/**
 * Geofences: their rules (shapes, names, limits: protocol/geofence.ts), and this process's
 * spatial index of them, which the event engine asks for the fences near a move. REST, the CLI
 * and GeoJSON imports all change fences here. The index is rebuilt on every change: fences
 * change by hand, seldom, while positions ask it thousands of times a second.
 */
export class GeofenceService {
  private fences = new Map<number, IndexedFence>();
  private stamp = "";
  /** Goes up whenever the fences this process knows change: what was measured against them is stale. */
  version = 0;
  private index = new FenceIndex<Geofence>([]);
  private readonly listeners = new Set<(change: GeofenceChange, origin: Origin) => void>();

  constructor(
    private readonly store: GeofenceStore,
    private readonly clock: Clock,
  ) {}

  /** Read every fence from the store (at start, and when another node or process changed one). */
  async load(): Promise<void> {
    this.stamp = await this.store.stamp();
    const fences = new Map<number, IndexedFence>();
    for (const fence of await this.store.list()) {
      fences.set(fence.id, { fence, geometry: new FenceGeometry(fence.shape) });
    }
    this.fences = fences;
    this.index = new FenceIndex([...fences.values()]);
    this.version++;
  }

  /**
   * Read the fences again if another process (the CLI, a node whose message was lost) changed
   * them since: the server asks every few seconds, and before answering a listing.
   */
  async refresh(): Promise<void> {
    if ((await this.store.stamp()) !== this.stamp) await this.load();
  }

  onChange(listener: (change: GeofenceChange, origin: Origin) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Every fence, by name. */
  list(): Geofence[] {
    return [...this.fences.values()]
      .map((f) => f.fence)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  get(id: number): Geofence {
    const found = this.fences.get(id);
    if (!found) throw notFound(`no geofence with id ${id}`);
    return found.fence;
  }

  /** The fence with its geometry, or undefined (removed meanwhile). */
  indexed(id: number): IndexedFence | undefined {
    return this.fences.get(id);
  }

  /** Fences whose box meets `box` (degrees). */
  near(box: Bbox): IndexedFence[] {
    return this.index.search(box);
  }

  async create(body: unknown): Promise<Geofence> {
    const fence = parseRequest(newGeofenceSchema, body);
    const stored = await this.store.create(fence, this.clock.now());
    if (!stored) throw conflict(`a geofence named "${fence.name}" exists`);
    this.learn(stored);
    this.emit({ type: "added", id: stored.id });
    return stored;
  }

  /**
   * Several fences at once (a GeoJSON file), all or none: every name is checked against the
   * stored fences before the first is written.
   */
  async createAll(fences: readonly NewGeofence[]): Promise<Geofence[]> {
    const parsed = fences.map((f, i) => {
      try {
        return parseRequest(newGeofenceSchema, f);
      } catch (err) {
        throw badRequest(`features[${i}]`, (err as Error).message);
      }
    });
    await this.load();
    const taken = new Set(this.list().map((f) => f.name));
    const clash = parsed.findIndex((f) => taken.has(f.name));
    if (clash >= 0) {
      throw conflict(`features[${clash}]: a geofence named "${parsed[clash]!.name}" exists`);
    }
    const stored: Geofence[] = [];
    try {
      for (const fence of parsed) {
        const created = await this.store.create(fence, this.clock.now());
        if (!created) throw conflict(`a geofence named "${fence.name}" exists`);
        this.fences.set(created.id, { fence: created, geometry: new FenceGeometry(created.shape) });
        stored.push(created);
      }
    } finally {
      // One index for the whole file, not one per fence: ten thousand fences take a moment.
      this.reindex();
      for (const fence of stored) this.emit({ type: "added", id: fence.id });
    }
    return stored;
  }

  async update(id: number, body: unknown): Promise<Geofence> {
    const change = parseRequest(geofenceChangeSchema, body);
    let stored: Geofence | null;
    try {
      stored = await this.store.update(id, change, this.clock.now());
    } catch (err) {
      if (err instanceof NameTakenError) throw conflict(`a geofence named "${change.name}" exists`);
      throw err;
    }
    if (!stored) throw notFound(`no geofence with id ${id}`);
    this.learn(stored);
    this.emit({ type: "updated", id });
    return stored;
  }

  async remove(id: number): Promise<void> {
    if (!(await this.store.remove(id))) throw notFound(`no geofence with id ${id}`);
    this.fences.delete(id);
    this.reindex();
    this.emit({ type: "removed", id });
  }

  /** Another node changed a fence: read them again (fences are few; this stays simple). */
  async adoptPeerChange(change: GeofenceChange): Promise<void> {
    await this.load();
    for (const listener of this.listeners) listener(change, "peer");
  }

  private learn(fence: Geofence): void {
    this.fences.set(fence.id, { fence, geometry: new FenceGeometry(fence.shape) });
    this.reindex();
  }

  /** After a change made here; the next refresh reads the stamp anew. */
  private reindex(): void {
    this.stamp = "";
    this.index = new FenceIndex([...this.fences.values()]);
    this.version++;
  }

  private emit(change: GeofenceChange): void {
    for (const listener of this.listeners) listener(change, "here");
  }
}
