import type { FleetEvent } from "../../../../protocol/geofence.ts";
import * as api from "../api.ts";

/** Events kept in the feed; older ones are a "Load older" away. */
const MAX_KEPT = 500;
const PAGE = 50;
/** Toasts on screen at once: a fourth pushes out the oldest. */
export const MAX_TOASTS = 3;
/** How long the vehicle concerned stays highlighted on the map and in the list. */
export const HIGHLIGHT_MS = 6000;

const newestFirst = (a: FleetEvent, b: FleetEvent) => b.id - a.id;

/**
 * The events feed: the latest page from `/api/events`, then every `fleet:event` the live socket
 * pushes. Counts what arrived while the feed was out of sight (the badge), raises a toast per
 * live event and highlights the vehicle concerned for a few seconds. Ordered as the server pages
 * them: by id, newest first.
 */
class EventFeed {
  events = $state.raw<FleetEvent[]>([]);
  /** Cursor for the next, older page; null: nothing older. */
  next = $state<number | null>(null);
  loaded = $state(false);
  loading = $state(false);
  error = $state<string | null>(null);
  /** Live events that arrived while the feed was not on screen. */
  unread = $state(0);
  /** Newest last; at most MAX_TOASTS. */
  toasts = $state.raw<FleetEvent[]>([]);
  /** Device id → until when (Date.now()) it is highlighted. */
  highlighted = $state.raw<ReadonlyMap<string, number>>(new Map());

  private visible = false;
  private generation = 0;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  /** The first page; events pushed meanwhile are kept. */
  async load(): Promise<void> {
    const generation = this.generation;
    this.loading = true;
    try {
      const page = await api.fetchEvents({ limit: PAGE });
      if (generation !== this.generation) return;
      this.merge(page.events);
      // Only the first load sets the cursor: a catch-up after a reconnect must not lose it.
      if (!this.loaded) this.next = page.next;
      this.loaded = true;
      this.error = null;
    } catch (error) {
      if (generation === this.generation) this.error = api.describeError(error);
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }

  /** After a reconnect: what happened while the socket was away, counted unread, no toasts. */
  async catchUp(): Promise<void> {
    if (!this.loaded) return this.load();
    const known = new Set(this.events.map((e) => e.id));
    const newest = this.events[0]?.id ?? 0;
    const generation = this.generation;
    try {
      const page = await api.fetchEvents({ limit: PAGE });
      if (generation !== this.generation) return;
      const missed = page.events.filter((e) => !known.has(e.id) && e.id > newest);
      this.merge(missed);
      if (!this.visible) this.unread += missed.length;
    } catch {
      // The next reconnect or reload tries again; the live events keep coming meanwhile.
    }
  }

  async loadOlder(): Promise<void> {
    if (this.next === null || this.loading) return;
    const generation = this.generation;
    this.loading = true;
    try {
      const page = await api.fetchEvents({ limit: PAGE, before: this.next });
      if (generation !== this.generation) return;
      this.merge(page.events, true);
      this.next = page.next;
      this.error = null;
    } catch (error) {
      if (generation === this.generation) this.error = api.describeError(error);
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }

  /** A live event: into the feed, a toast, a highlight, and unread unless the feed is open. */
  receive(event: FleetEvent): void {
    if (this.events.some((e) => e.id === event.id)) return;
    this.merge([event]);
    if (!this.visible) this.unread++;
    this.toasts = [...this.toasts, event].slice(-MAX_TOASTS);
    this.highlight(event.deviceId);
  }

  dismiss(id: number): void {
    this.toasts = this.toasts.filter((e) => e.id !== id);
  }

  /** Whether the feed is on screen: while it is, nothing counts as unread. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible) this.unread = 0;
  }

  highlight(deviceId: string, ms = HIGHLIGHT_MS): void {
    const until = Date.now() + ms;
    // Replaced, never mutated: the map view and the lists compare by reference.
    // eslint-disable-next-line svelte/prefer-svelte-reactivity
    this.highlighted = new Map(this.highlighted).set(deviceId, until);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if ((this.highlighted.get(deviceId) ?? 0) > Date.now()) return; // highlighted again since
      // eslint-disable-next-line svelte/prefer-svelte-reactivity -- replaced, as above
      const next = new Map(this.highlighted);
      next.delete(deviceId);
      this.highlighted = next;
    }, ms + 20);
    this.timers.add(timer);
  }

  /** On sign-out: the next user may see other devices. */
  reset(): void {
    this.generation++;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.events = [];
    this.next = null;
    this.loaded = false;
    this.loading = false;
    this.error = null;
    this.unread = 0;
    this.toasts = [];
    this.highlighted = new Map();
  }

  private merge(events: readonly FleetEvent[], older = false): void {
    if (events.length === 0) return;
    const ids = new Set(this.events.map((e) => e.id));
    const fresh = events.filter((e) => !ids.has(e.id));
    const merged = older ? [...this.events, ...fresh] : [...fresh, ...this.events];
    merged.sort(newestFirst);
    // Trimming the oldest means older pages must be fetched again from there.
    if (merged.length > MAX_KEPT) {
      merged.length = MAX_KEPT;
      this.next = merged[merged.length - 1]!.id;
    }
    this.events = merged;
  }
}

export const eventFeed = new EventFeed();
