import CheapRuler from "cheap-ruler";
import type { Position } from "../../protocol/index.ts";

/**
 * A known drive for history tests: legs of steady speed and heading, parked stretches with GPS
 * jitter, and silences (the device switched off). Every fix is computed here, so a test can say
 * exactly where the vehicle was at any time.
 */
export type Leg =
  | {
      kind: "drive";
      minutes: number;
      speed: number;
      course: number;
      everyS: number;
      /** A winding road: the course swings this many degrees either way, once a minute. */
      wiggleDeg?: number;
    }
  | { kind: "park"; minutes: number; everyS: number }
  | {
      kind: "gap";
      minutes: number;
      /** Where the device reappears, metres and bearing away. */ moveM: number;
      course: number;
    };

export function drive(
  start: { ts: number; lat: number; lon: number; alt: number },
  legs: Leg[],
): Position[] {
  const ruler = new CheapRuler(start.lat, "meters");
  const out: Position[] = [];
  let ts = start.ts;
  let at: [number, number] = [start.lon, start.lat];
  let alt = start.alt;
  const push = (speed: number, course: number, where: [number, number]) =>
    out.push({
      ts,
      lat: Number(where[1].toFixed(7)),
      lon: Number(where[0].toFixed(7)),
      speed,
      course,
      alt: Math.round(alt * 10) / 10,
      accuracy: 5,
    });
  for (const leg of legs) {
    if (leg.kind === "gap") {
      ts += leg.minutes * 60_000;
      at = ruler.destination(at, leg.moveM, leg.course);
      continue;
    }
    const steps = Math.round((leg.minutes * 60) / leg.everyS);
    for (let i = 0; i < steps; i++) {
      if (leg.kind === "drive") {
        const swing = (leg.wiggleDeg ?? 0) * Math.sin((2 * Math.PI * i * leg.everyS) / 60);
        const course = (leg.course + swing + 360) % 360;
        push(leg.speed, Math.round(course), at);
        at = ruler.destination(at, leg.speed * leg.everyS, course);
        alt += Math.sin(out.length / 40) * 2;
      } else {
        // Parked: a few metres of jitter around the spot, speed 0.
        const jitter = ruler.destination(at, (i % 3) * 1.5, (i * 97) % 360);
        push(0, 0, jitter);
      }
      ts += leg.everyS * 1000;
    }
  }
  return out;
}

/** Where the drive puts the vehicle at `t`: linear between the fixes around it. */
export function positionAt(fixes: readonly Position[], t: number): { lat: number; lon: number } {
  let i = 0;
  while (i + 1 < fixes.length && fixes[i + 1]!.ts <= t) i++;
  const a = fixes[i]!;
  const b = fixes[i + 1];
  if (!b || t <= a.ts) return a;
  const f = (t - a.ts) / (b.ts - a.ts);
  return { lat: a.lat + (b.lat - a.lat) * f, lon: a.lon + (b.lon - a.lon) * f };
}

export function metresBetween(
  a: { lat: number; lon: number },
  b: { lat: number; lon: number },
): number {
  return new CheapRuler(a.lat, "meters").distance([a.lon, a.lat], [b.lon, b.lat]);
}
