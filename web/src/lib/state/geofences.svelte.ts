import type { Geofence } from "../../../../protocol/geofence.ts";
import * as api from "../api.ts";

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/**
 * The fences every map draws, as the server has them. Loaded when the dashboard opens, again
 * after each edit, after a reconnect, and when an event names a fence not known here (another
 * admin added it).
 */
class Geofences {
  /** By name, in natural order. */
  list = $state.raw<Geofence[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  private loading: Promise<void> | null = null;
  private again = false;

  byId(id: number | null): Geofence | undefined {
    return id === null ? undefined : this.list.find((f) => f.id === id);
  }

  /** Fetch the list; a call during a fetch schedules one more, so the newest edit is seen. */
  load(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      do {
        this.again = false;
        try {
          const fences = await api.fetchGeofences();
          this.list = fences.sort((a, b) => collator.compare(a.name, b.name) || a.id - b.id);
          this.loaded = true;
          this.error = null;
        } catch (error) {
          this.error = api.describeError(error);
        }
      } while (this.again);
      this.loading = null;
    })();
    return this.loading;
  }

  /** Put a fence the server just answered with in place (the reload that follows confirms it). */
  upsert(fence: Geofence): void {
    const others = this.list.filter((f) => f.id !== fence.id);
    this.list = [...others, fence].sort((a, b) => collator.compare(a.name, b.name) || a.id - b.id);
  }

  /** Delete a fence for good (its past events stay); rejects with the server's reason. */
  async remove(id: number): Promise<void> {
    await api.deleteGeofence(id);
    this.forget(id);
    void this.load();
  }

  forget(id: number): void {
    this.list = this.list.filter((f) => f.id !== id);
  }

  /** On sign-out: whoever signs in next loads their own. */
  reset(): void {
    this.list = [];
    this.loaded = false;
    this.error = null;
  }
}

export const geofences = new Geofences();
