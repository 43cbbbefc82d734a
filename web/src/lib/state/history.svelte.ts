import type { LatLon } from "../../../../protocol/geofence.ts";
import type { Stop, SummaryReply, Trip } from "../../../../protocol/history.ts";
import { describeError } from "../api.ts";
import { fetchStops, fetchSummary, fetchTrack, fetchTrips } from "../history/api.ts";
import { chartSpan } from "../history/chart.ts";
import { advance, playStart } from "../history/playback.ts";
import { presetRange, type TimeRange } from "../history/range.ts";
import { makeTrack, pinStops, sampleTracks, type Sample, type Track } from "../history/track.ts";
import { historyHref, isHistoryHash, liveHref, parseHistoryHash } from "../history/url.ts";
import { historyEvents } from "./history-events.svelte.ts";

/**
 * Map zoom the whole-range overview is simplified for. The server bounds any reply to a few
 * thousand vertices, so this only says how fine the overview may get for short ranges.
 */
const OVERVIEW_ZOOM = 14;

/**
 * The history view: which vehicle and range, what the server said about them, and the replay
 * cursor. It lives in the URL's hash (see history/url.ts); the live view is what shows without it.
 */
class HistoryState {
  active = $state(false);
  device = $state<string | null>(null);
  from = $state(0);
  to = $state(0);
  /** Bumped when the range or device changes, so the map frames the new track. */
  generation = $state(0);

  loading = $state(false);
  error = $state<string | null>(null);
  // Replies are large and read-only: $state.raw, no deep proxies.
  /** The whole range at a coarse level of detail: replay fallback, chart, trip zoom. */
  overview = $state.raw<Track | null>(null);
  /** What the map draws: the range at the map's zoom, limited to (about) its bounds. */
  detail = $state.raw<Track | null>(null);
  trips = $state.raw<Trip[]>([]);
  stops = $state.raw<Stop[]>([]);
  summary = $state.raw<SummaryReply | null>(null);

  // What the replay interpolates on, the map draws and the chart plots: the tracks with the
  // stops pinned in (see pinStops).
  readonly replayDetail = $derived(this.detail && pinStops(this.detail, this.stops));
  readonly replayOverview = $derived(this.overview && pinStops(this.overview, this.stops));
  /** What the chart and the scrubber cover: the data's span within the range (chartSpan). */
  readonly span = $derived(chartSpan({ from: this.from, to: this.to }, this.overview));

  /** Replay cursor, epoch ms. */
  t = $state(0);
  playing = $state(false);
  speed = $state(60);
  follow = $state(true);
  /**
   * Where the replay puts the vehicle now (the detailed track where it has data). Derived once
   * per cursor move, however many components read it.
   */
  readonly sample: Sample | null = $derived(
    sampleTracks([this.replayDetail, this.replayOverview], this.t),
  );
  /** A trip, stop or event the user picked: the map frames it (an event: goes to its place). */
  focus = $state.raw<(TimeRange & { seq: number; at?: LatLon }) | null>(null);

  private loadController: AbortController | null = null;
  private raf = 0;
  private lastFrame = 0;
  private focusSeq = 0;

  constructor() {
    this.readHash();
    // Back and forward between pushState entries fire popstate; a hand-edited hash, hashchange.
    window.addEventListener("hashchange", () => this.readHash());
    window.addEventListener("popstate", () => this.readHash());
  }

  /** Whether there is anything to replay. */
  get hasTrack(): boolean {
    return (this.overview?.vertices ?? 0) > 0;
  }

  get range(): TimeRange {
    return { from: this.from, to: this.to };
  }

  /** Open the history of a device (from its details card), today by default. */
  open(device: string, range: TimeRange = presetRange("today", Date.now())): void {
    this.active = true;
    this.device = device;
    this.setRangeInternal(range);
    this.writeHash(true);
  }

  /** Back to the live view, with the vehicle selected there. */
  leave(): string | null {
    const device = this.device;
    this.pause();
    this.loadController?.abort();
    this.active = false;
    history.pushState(null, "", liveHref(location.href, device));
    return device;
  }

  setDevice(device: string): void {
    if (device === this.device) return;
    this.device = device;
    this.setRangeInternal(this.range);
    this.writeHash();
  }

  setRange(range: TimeRange): void {
    this.setRangeInternal(range);
    this.writeHash();
  }

  seek(t: number): void {
    this.t = Math.max(this.from, Math.min(this.to, t));
  }

  /** Frame a trip or stop (or go to an event's place) on the map; the replay goes to its start. */
  focusOn(range: TimeRange, at?: LatLon): void {
    this.focus = { ...range, seq: ++this.focusSeq, at };
    this.seek(range.from);
    this.commitCursor();
  }

  play(): void {
    if (this.playing) return;
    this.t = playStart(this.overview, this.t, this.from);
    this.playing = true;
    this.lastFrame = performance.now();
    this.raf = requestAnimationFrame(this.frame);
  }

  pause(): void {
    this.stopPlayback();
    // The URL remembers where the replay was, for a reload or a shared link.
    if (this.active) this.writeHash();
  }

  /** Stop the playback loop without touching the URL (the caller is about to change it). */
  private stopPlayback(): void {
    this.playing = false;
    cancelAnimationFrame(this.raf);
    this.raf = 0;
  }

  toggle(): void {
    if (this.playing) this.pause();
    else this.play();
  }

  /** Keep the cursor in the URL after a seek, once the user lets go. */
  commitCursor(): void {
    if (this.active && !this.playing) this.writeHash();
  }

  private readonly frame = (now: number): void => {
    if (!this.playing) return;
    const elapsed = Math.min(now - this.lastFrame, 250); // a background tab must not jump hours
    this.lastFrame = now;
    const end = Math.min(this.to, this.overview?.last ?? this.to);
    this.t = advance(this.overview, this.t, elapsed, this.speed, this.to);
    if (this.t >= end) this.pause();
    else this.raf = requestAnimationFrame(this.frame);
  };

  /** Load the detailed track for the map's current view (debounced by the map). */
  async loadDetail(zoom: number, bbox: [number, number, number, number], signal: AbortSignal) {
    const device = this.device;
    const generation = this.generation;
    if (!device) return;
    const reply = await fetchTrack(device, { ...this.range, zoom, bbox }, signal);
    if (signal.aborted || generation !== this.generation) return;
    this.detail = makeTrack(reply.segments);
  }

  private setRangeInternal(range: TimeRange): void {
    this.stopPlayback();
    this.from = range.from;
    this.to = range.to;
    this.t = range.from;
    this.focus = null;
    this.generation++;
    void this.load();
  }

  private async load(): Promise<void> {
    this.loadController?.abort();
    const device = this.device;
    this.overview = this.detail = this.summary = null;
    this.trips = this.stops = [];
    this.error = null;
    historyEvents.clear();
    if (!device) return;
    const controller = new AbortController();
    this.loadController = controller;
    const { signal } = controller;
    const range = this.range;
    this.loading = true;
    // On their own: a failure of the event list must not hide the track, nor wait for it.
    void historyEvents.load(device, range, signal);
    try {
      const [track, trips, stops, summary] = await Promise.all([
        fetchTrack(device, { ...range, zoom: OVERVIEW_ZOOM }, signal),
        fetchTrips(device, range, signal),
        fetchStops(device, range, signal),
        fetchSummary(device, range, signal),
      ]);
      if (signal.aborted) return;
      this.overview = makeTrack(track.segments);
      this.trips = trips.trips;
      this.stops = stops.stops;
      this.summary = summary;
      const pendingAt = this.pendingAt;
      this.pendingAt = null;
      this.t = pendingAt ?? Math.max(range.from, this.overview.first || range.from);
    } catch (error) {
      if (signal.aborted) return;
      this.error = describeError(error);
    } finally {
      if (this.loadController === controller) this.loading = false;
    }
  }

  /** Cursor from the URL, applied once the track it points into has arrived. */
  private pendingAt: number | null = null;

  private readHash(): void {
    if (!isHistoryHash(location.hash)) {
      if (this.active) {
        this.stopPlayback();
        this.loadController?.abort();
        this.active = false;
      }
      return;
    }
    const parsed = parseHistoryHash(location.hash, () => presetRange("today", Date.now()));
    const same =
      this.active &&
      parsed.device === this.device &&
      parsed.from === this.from &&
      parsed.to === this.to;
    this.active = true;
    if (same) {
      if (parsed.at !== null && parsed.at !== this.t) this.seek(parsed.at);
      return;
    }
    this.device = parsed.device;
    this.pendingAt = parsed.at;
    this.setRangeInternal(parsed);
  }

  private writeHash(push = false): void {
    const href = historyHref(location.href, {
      device: this.device,
      from: this.from,
      to: this.to,
      at: this.t > this.from ? this.t : null,
    });
    if (href === location.href) return;
    if (push) history.pushState(null, "", href);
    else history.replaceState(null, "", href);
  }
}

export const historyView = new HistoryState();
