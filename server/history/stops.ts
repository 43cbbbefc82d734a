import type { Stop } from "../../protocol/index.ts";
import { distanceM } from "../../protocol/geo.ts";

/**
 * A fix as the analysis reads it: the store's raw row (time, latitude, longitude, speed, …), so a
 * pass over millions of rows allocates nothing per row.
 */
export type Fix = readonly [
  ts: number,
  lat: number,
  lon: number,
  speed: number | null,
  ...unknown[],
];

export interface Thresholds {
  /** A stay must last at least this long to be a stop (ms). */
  stopMs: number;
  /** …within this distance of where it began (metres). */
  stopRadiusM: number;
  /** Movement between stops shorter than this is not a trip (metres). */
  tripMinM: number;
  /** Consecutive fixes further apart in time than this have a data gap between them (ms). */
  gapMs: number;
  /** A fix reporting at least this speed (m/s) is moving; fixes without a speed count as slow. */
  movingSpeed: number;
}

/** What the detector says about the fixes, in time order: each either belongs to a stop or not. */
export interface StayListener {
  move(fix: Fix): void;
  /** `first` and `last` are the stop's first and last fixes; the fixes between are not repeated. */
  stop(stop: Stop, first: Fix, last: Fix): void;
  /**
   * The stay just lasted long enough to be a stop (it is reported whole by `stop` once it ends):
   * for whoever must know as it happens, the event rules. `centre` is where it is measured from.
   */
  stopBegan?(first: Fix, centre: Fix): void;
}

/**
 * All the detector remembers, plain JSON, so the event rules can save it with their state and
 * carry on after a restart exactly where they were.
 */
export interface StayState {
  /** The candidate: consecutive slow fixes, all within the radius of pending[0], not yet long enough. */
  pending: Fix[];
  stay: Stay | null;
}

export const emptyStayState = (): StayState => ({ pending: [], stay: null });

interface Stay {
  /** The point the stop radius is measured from: the centre of the fixes that confirmed it. */
  anchor: Fix;
  first: Fix;
  lastSlow: Fix;
  sumLat: number;
  sumLon: number;
  count: number;
  /** A moving fix after lastSlow: a glitch if the next one is slow again, else the departure. */
  tail: Fix[];
}

/**
 * Consecutive moving fixes that end a stop even inside the radius. One alone, between slow fixes,
 * is taken as a speed glitch of a parked receiver; two in a row are the device driving off.
 */
const DEPARTURE_FIXES = 2;

/**
 * Stay-point detection in one streaming pass (after Li et al., "Mining user similarity based on
 * location history", 2008): a stop is a stretch of fixes that all lie within `stopRadiusM` of its
 * first fix and that lasts at least `stopMs`.
 *
 * - Only slow fixes (below `movingSpeed`, or without a speed) make a stop: it begins at the first
 *   fix of an unbroken run of them, so a red light on the way in is not part of the parking. Once
 *   confirmed, the radius is measured from the centre of that run. It ends at the last slow
 *   fix before the device leaves the radius or reports moving in two fixes in a row (driving
 *   off; a single moving fix between slow ones is a glitch), so the departure, and a red light
 *   just after it, belong to the next trip. Without speeds every fix counts as slow and the stop
 *   is the plain stay.
 * - Time without data inside the radius is part of the stay: a tracker that sleeps while parked
 *   and wakes at the same place was stopped all along. A gap across which the device moved
 *   further than the radius ends the stay at the fix before it.
 *
 * Memory is bounded by the fixes of one unconfirmed candidate (at most `stopMs` of them); a
 * confirmed stop keeps only sums.
 */
export class StayDetector {
  constructor(
    private readonly thresholds: Thresholds,
    private readonly listener: StayListener,
    /** Where it stands: a fresh one, or one saved before (it is changed in place). */
    private readonly state: StayState = emptyStayState(),
  ) {}

  push(fix: Fix): void {
    const stay = this.state.stay;
    if (stay) {
      if (this.within(stay.anchor, fix)) {
        this.extendStay(stay, fix);
        return;
      }
      this.endStay(stay);
    }
    this.pushCandidate(fix);
  }

  /** End of data: a stay still in progress is reported as it stands. */
  finish(): void {
    if (this.state.stay) this.endStay(this.state.stay);
    this.releasePending();
  }

  private pushCandidate(fix: Fix): void {
    if (!this.isSlow(fix)) {
      // A moving fix breaks the run: nothing before it can start a stop any more.
      this.releasePending();
      this.listener.move(fix);
      return;
    }
    const pending = this.state.pending;
    pending.push(fix);
    // The classic algorithm: while some fix lies outside the radius of the candidate's first one,
    // that first one cannot begin a stay (the candidate was not long enough before the fix that
    // left), so the next fix becomes the anchor and the check starts over from it.
    let start = 0;
    for (let i = 1; i < pending.length; i++) {
      if (!this.within(pending[start]!, pending[i]!)) {
        this.listener.move(pending[start]!);
        start++;
        i = start;
      }
    }
    if (start > 0) pending.splice(0, start);
    if (fix[0] - pending[0]![0] >= this.thresholds.stopMs) this.confirm();
  }

  private releasePending(): void {
    for (const fix of this.state.pending) this.listener.move(fix);
    this.state.pending = [];
  }

  /** The candidate lasted long enough: it is a stop, kept from now on as sums. */
  private confirm(): void {
    const run = this.state.pending;
    let lat = 0;
    let lon = 0;
    for (const fix of run) {
      lat += fix[1];
      lon += fix[2];
    }
    const stay: Stay = {
      // From now on the radius is measured from the centre of the fixes that made the stop.
      anchor: [run[0]![0], lat / run.length, lon / run.length, null],
      first: run[0]!,
      lastSlow: run[0]!,
      sumLat: 0,
      sumLon: 0,
      count: 0,
      tail: [],
    };
    for (const fix of run) this.addSlow(stay, fix);
    this.state.stay = stay;
    this.state.pending = [];
    this.listener.stopBegan?.(stay.first, stay.anchor);
  }

  private extendStay(stay: Stay, fix: Fix): void {
    if (!this.isSlow(fix)) {
      stay.tail.push(fix);
      if (stay.tail.length >= DEPARTURE_FIXES) this.endStay(stay);
      return;
    }
    stay.tail = [];
    this.addSlow(stay, fix);
  }

  private addSlow(stay: Stay, fix: Fix): void {
    stay.lastSlow = fix;
    stay.sumLat += fix[1];
    stay.sumLon += fix[2];
    stay.count++;
  }

  private endStay(stay: Stay): void {
    this.state.stay = null;
    const start = stay.first[0];
    const end = stay.lastSlow[0];
    this.listener.stop(
      {
        start,
        end,
        durationMs: end - start,
        lat: stay.sumLat / stay.count,
        lon: stay.sumLon / stay.count,
      },
      stay.first,
      stay.lastSlow,
    );
    // Fixes after the stop may well begin the next one.
    for (const fix of stay.tail) this.pushCandidate(fix);
  }

  private within(anchor: Fix, fix: Fix): boolean {
    return distanceM(anchor[1], anchor[2], fix[1], fix[2]) <= this.thresholds.stopRadiusM;
  }

  private isSlow(fix: Fix): boolean {
    const speed = fix[3];
    return speed === null || speed < this.thresholds.movingSpeed;
  }
}
