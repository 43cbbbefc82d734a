import type { Position } from "../protocol/index.ts";
import { Random, STREAM } from "./random.ts";
import { chooseNextEdge, turnSpeed } from "./route-choice.ts";
import { normalizeDegrees, type StreetEdge, type StreetNetwork } from "./streets.ts";
import { Tracker } from "./tracker.ts";

/**
 * A seeded vehicle driving on a street network. Time only advances through `step()`, in fixed
 * ticks, so the same seed, index and step sizes give the same path on any machine at any load.
 * The noise-free state (position, speed, heading, parked intervals) is public: it is the ground
 * truth tests and benchmarks compare the server's view against.
 */

export type VehicleState = "driving" | "signal" | "parked";

/** Epoch ms; `to` is unset while the vehicle is still parked. */
export interface ParkInterval {
  from: number;
  to?: number;
}

export interface VehicleOptions {
  network: StreetNetwork;
  seed: number;
  /** Which vehicle of the fleet; with the seed it selects the vehicle's random streams. */
  index: number;
  /** Epoch ms the vehicle's clock starts at. */
  startTs: number;
  /** Integration step, ms. Smaller is smoother; the path depends on it, not on step() sizes. */
  tickMs?: number;
}

const BRAKE = 3; // m/s², a firm but ordinary stop
const ARRIVED_M = 0.05;
const PARK_CHANCE = 0.03; // per street entered: a few stops an hour at city speeds
const RED_CHANCE = 0.5; // a signal is red for about half of the arrivals
const START_PARKED_CHANCE = 0.15;
const PARK_HISTORY = 100; // bounded so a vehicle can run for days

export class Vehicle {
  readonly index: number;
  /** Share of the speed limit this driver aims for, 0.9–1.1. */
  readonly factor: number;
  /** m/s² */
  readonly accel: number;
  /** Never exceeded: the network's fastest limit times the driver's factor (so ≤ limit × 1.1). */
  readonly maxSpeed: number;
  readonly tickMs: number;
  /** Recent parked intervals, oldest first (at most 100). */
  readonly parks: ParkInterval[] = [];
  parkCount = 0;
  signalStops = 0;
  /** Metres driven. */
  odometer = 0;

  readonly #network: StreetNetwork;
  readonly #motion: Random;
  readonly #tracker: Tracker;
  #time: number;
  #pendingMs = 0;
  #edge: StreetEdge;
  #next: StreetEdge;
  /** Metres along #edge. */
  #s: number;
  #speed = 0;
  #state: VehicleState = "driving";
  #resumeAt = 0;
  /** Speed to be down to at the end of #edge, for the turn onto #next. */
  #endSpeed = 0;
  #redAtEnd = false;
  /** Metres along #edge to pull over at, or -1. */
  #parkAt = -1;

  constructor(options: VehicleOptions) {
    const { network, seed, index, startTs, tickMs = 250 } = options;
    if (!(tickMs > 0)) throw new RangeError("tickMs must be positive");
    this.#network = network;
    this.index = index;
    this.tickMs = tickMs;
    this.#time = startTs;
    this.#motion = new Random(seed, STREAM.motion, index);
    const m = this.#motion;
    this.factor = m.range(0.9, 1.1);
    this.accel = m.range(1.5, 2.5);
    this.maxSpeed = network.maxLimit * this.factor;
    this.#edge = m.pick(network.edges);
    this.#s = m.range(0, this.#edge.length);
    this.#next = this.#edge;
    this.#planEdge(false);
    // Drawn from the motion stream (in this order) so existing seeds keep their vehicles.
    this.#tracker = new Tracker(new Random(seed, STREAM.noise, index), {
      battery: m.range(40, 100),
      drainPerHour: m.range(2, 6),
      accuracy: m.range(3, 8),
    });
    if (m.chance(START_PARKED_CHANCE)) this.#park(m.range(0, 300_000));
  }

  /** The vehicle's clock, epoch ms. */
  get time(): number {
    return this.#time;
  }
  get state(): VehicleState {
    return this.#state;
  }
  get parked(): boolean {
    return this.#state === "parked";
  }
  /** True speed, m/s. */
  get speed(): number {
    return this.#speed;
  }
  /** True heading of travel, degrees clockwise from north; kept while stopped. */
  get heading(): number {
    return this.#edge.heading;
  }
  get edge(): StreetEdge {
    return this.#edge;
  }
  /** True position, metres east of the network's centre. */
  get x(): number {
    const e = this.#edge;
    const from = this.#network.nodes[e.from]!;
    return from.x + ((this.#network.nodes[e.to]!.x - from.x) * this.#s) / e.length;
  }
  /** True position, metres north of the network's centre. */
  get y(): number {
    const e = this.#edge;
    const from = this.#network.nodes[e.from]!;
    return from.y + ((this.#network.nodes[e.to]!.y - from.y) * this.#s) / e.length;
  }
  get lat(): number {
    return this.#network.center.lat + this.y / this.#network.ky;
  }
  get lon(): number {
    return wrapLongitude(this.#network.center.lon + this.x / this.#network.kx);
  }

  /** Advance the clock by `ms`, in whole ticks; a remainder carries over to the next call. */
  step(ms: number): void {
    this.#pendingMs += ms;
    const dt = this.tickMs / 1000;
    while (this.#pendingMs >= this.tickMs) {
      this.#pendingMs -= this.tickMs;
      this.#time += this.tickMs;
      this.#tick(dt);
    }
  }

  /**
   * A GPS fix of the current state stamped `ts`: position with a few metres of drifting noise,
   * the true speed and heading, a plausible altitude and a slowly draining battery.
   */
  fix(ts: number = this.#time): Position {
    const error = this.#tracker.error(ts);
    const x = this.x;
    const y = this.y;
    const net = this.#network;
    return {
      ts,
      lat: round(net.center.lat + (y + error.dy) / net.ky, 1e7),
      lon: round(wrapLongitude(net.center.lon + (x + error.dx) / net.kx), 1e7),
      // Rounded down so the reported speed never exceeds the true one.
      speed: Math.floor(this.#speed * 100) / 100,
      course: normalizeDegrees(round(this.#edge.heading, 10)),
      alt: round(terrain(x, y) + error.dAlt, 10),
      accuracy: round(error.accuracy, 10),
      battery: this.#tracker.battery,
    };
  }

  #tick(dt: number): void {
    this.#tracker.tick(dt);
    if (this.#state !== "driving") {
      if (this.#time < this.#resumeAt) return;
      if (this.#state === "parked") {
        const last = this.parks[this.parks.length - 1];
        if (last) last.to = this.#time;
      }
      this.#state = "driving";
    }
    const edge = this.#edge;
    const target = edge.limit * this.factor;
    const parking = this.#parkAt >= 0;
    const stopAhead = parking || this.#redAtEnd;
    const distance = (parking ? this.#parkAt : edge.length) - this.#s;
    const endSpeed = stopAhead ? 0 : this.#endSpeed;
    // The fastest speed that, after moving at it for this tick, still leaves room to get down to
    // the end speed braking at BRAKE (v² + 2·B·dt·v ≤ end² + 2·B·d), so stops are never abrupt.
    const bdt = BRAKE * dt;
    const room = endSpeed * endSpeed + 2 * BRAKE * Math.max(0, distance);
    const allowed = Math.sqrt(bdt * bdt + room) - bdt;
    const v = Math.max(0, Math.min(this.#speed + this.accel * dt, target, allowed));
    const travel = v * dt;
    // Approaching a stop, the braking curve only nears it; the last few centimetres count as there.
    if (travel < distance - (stopAhead ? ARRIVED_M : 0)) {
      this.#speed = v;
      this.#s += travel;
      this.odometer += travel;
      return;
    }
    this.odometer += distance;
    if (parking) {
      this.#s = this.#parkAt;
      this.#parkAt = -1;
      this.#speed = 0;
      this.#park(this.#motion.range(60_000, 300_000));
    } else if (this.#redAtEnd) {
      this.#s = edge.length;
      this.#redAtEnd = false; // once it turns green, the vehicle drives on through the junction
      this.#speed = 0;
      this.#state = "signal";
      this.#resumeAt = this.#time + this.#motion.range(5_000, 40_000);
      this.signalStops++;
    } else {
      // Through the junction: the rest of this tick's travel continues on the next street.
      const carry = Math.min(travel - distance, this.#next.length);
      this.#edge = this.#next;
      this.#s = carry;
      this.odometer += carry;
      this.#speed = Math.min(v, this.#edge.limit * this.factor);
      this.#planEdge(true);
    }
  }

  /** On entering #edge: choose the street after it, and whether to stop or park on the way. */
  #planEdge(mayPark: boolean): void {
    const m = this.#motion;
    const edge = this.#edge;
    this.#next = chooseNextEdge(this.#network, edge, m);
    this.#endSpeed = turnSpeed(edge, this.#next, this.factor);
    this.#redAtEnd = this.#network.nodes[edge.to]!.signal && m.chance(RED_CHANCE);
    const parkAt = m.range(0.2, 0.8) * edge.length;
    this.#parkAt = mayPark && m.chance(PARK_CHANCE) && parkAt > this.#s ? parkAt : -1;
  }

  #park(durationMs: number): void {
    this.#state = "parked";
    this.#resumeAt = this.#time + durationMs;
    this.parkCount++;
    this.parks.push({ from: this.#time });
    if (this.parks.length > PARK_HISTORY) this.parks.shift();
  }
}

/** Gentle made-up hills, so altitude varies plausibly across the city (metres above sea level). */
function terrain(x: number, y: number): number {
  return 40 + 6 * Math.sin(x / 700 + 1.3) + 4 * Math.cos(y / 1100 + 0.4);
}

function wrapLongitude(lon: number): number {
  return lon >= 180 ? lon - 360 : lon < -180 ? lon + 360 : lon;
}

function round(value: number, scale: number): number {
  return Math.round(value * scale) / scale;
}
