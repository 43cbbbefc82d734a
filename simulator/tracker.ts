import type { Random } from "./random.ts";

/**
 * The phone or tracker riding in a simulated vehicle: what it gets wrong (GPS error that drifts
 * rather than jumping fix to fix, an accuracy estimate that wanders) and its battery. The vehicle
 * knows where it truly is; this is the difference between that and what gets reported.
 */

const NOISE_SD = 3; // m, per axis
const NOISE_TAU_S = 8; // GPS error drifts rather than jumping fix to fix
const ALT_NOISE_SD = 4; // m; vertical fixes are worse than horizontal ones

/** The receiver's error for one fix: metres east, north and up, and the accuracy it claims. */
export interface FixError {
  dx: number;
  dy: number;
  dAlt: number;
  accuracy: number;
}

export interface TrackerStart {
  /** Percent. */
  battery: number;
  drainPerHour: number;
  /** Metres, 3–8. */
  accuracy: number;
}

export class Tracker {
  readonly #noise: Random;
  #battery: number;
  readonly #drainPerHour: number;
  #charging = false;
  #accuracy: number;
  #noiseX = 0;
  #noiseY = 0;
  #noiseAlt = 0;
  #lastFixTs = Number.NaN;

  /** `noise` is this tracker's own random stream, so its draws never shift the vehicle's path. */
  constructor(noise: Random, start: TrackerStart) {
    this.#noise = noise;
    this.#battery = start.battery;
    this.#drainPerHour = start.drainPerHour;
    this.#accuracy = start.accuracy;
  }

  /** Percent, as reported (whole numbers). */
  get battery(): number {
    return Math.round(this.#battery);
  }

  /** Let `dt` seconds pass for the battery. */
  tick(dt: number): void {
    // Drains for a day or so, then someone plugs the phone in.
    if (this.#charging) {
      this.#battery = Math.min(100, this.#battery + (40 * dt) / 3600);
      if (this.#battery >= 95) this.#charging = false;
    } else {
      this.#battery = Math.max(0, this.#battery - (this.#drainPerHour * dt) / 3600);
      if (this.#battery <= 10) this.#charging = true;
    }
  }

  /** The error of a fix taken at `ts`, correlated with the previous fix's by how close they are. */
  error(ts: number): FixError {
    const n = this.#noise;
    const dt = (ts - this.#lastFixTs) / 1000;
    // First fix (NaN) starts uncorrelated; later ones drift from the previous error.
    const keep = dt > 0 ? Math.exp(-dt / NOISE_TAU_S) : dt === 0 ? 1 : 0;
    const fresh = Math.sqrt(1 - keep * keep);
    this.#noiseX = keep * this.#noiseX + fresh * n.gaussian(0, NOISE_SD);
    this.#noiseY = keep * this.#noiseY + fresh * n.gaussian(0, NOISE_SD);
    this.#noiseAlt = keep * this.#noiseAlt + fresh * n.gaussian(0, ALT_NOISE_SD);
    this.#accuracy = Math.min(8, Math.max(3, this.#accuracy + n.gaussian(0, 0.3)));
    this.#lastFixTs = ts;
    return { dx: this.#noiseX, dy: this.#noiseY, dAlt: this.#noiseAlt, accuracy: this.#accuracy };
  }
}
