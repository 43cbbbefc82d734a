import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ScenarioResult } from "../lib/report.ts";
import { Children, sessionCookie, startLocus, urlOf } from "./common.ts";
import {
  ackedRate,
  BATCH,
  cpuFigures,
  DASHBOARDS,
  DEVICES,
  drive,
  each,
  median,
  ROUNDS,
  type Run,
} from "./ingest.ts";

const FENCES = 10_000;
const RULES = 100;

/** A seeded PRNG (mulberry32), so every run draws the same fences. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Fences over the area the load's devices report from (lat 52.5 + d / 10,000, lon ≈ 13.4, see
 * bench/loadgen/devices.ts): a third circles, a third octagons, a third corridors, 30 to 300 m
 * across, so many devices are inside one or more of them and every fix asks the index.
 */
function fenceCollection(): unknown {
  const next = random(14);
  const features = [];
  const span = DEVICES / 10_000;
  for (let i = 0; i < FENCES; i++) {
    const lat = 52.5 - 0.01 + next() * (span + 0.02);
    const lon = 13.4 - 0.02 + next() * 0.04;
    const size = 30 + next() * 270;
    const dLat = size / 111_000;
    const dLon = size / 68_000;
    const properties = { name: `fence-${i}`, speedLimit: i % 10 === 0 ? 8 : null };
    if (i % 3 === 0) {
      features.push({
        type: "Feature",
        properties: { ...properties, radius: size },
        geometry: { type: "Point", coordinates: [lon, lat] },
      });
    } else if (i % 3 === 1) {
      const ring = Array.from({ length: 8 }, (_, k) => {
        const a = (k / 8) * 2 * Math.PI;
        return [lon + dLon * Math.cos(a), lat + dLat * Math.sin(a)];
      });
      features.push({
        type: "Feature",
        properties,
        geometry: { type: "Polygon", coordinates: [[...ring, ring[0]]] },
      });
    } else {
      features.push({
        type: "Feature",
        properties: { ...properties, width: 20 },
        geometry: {
          type: "LineString",
          coordinates: [
            [lon - dLon, lat - dLat],
            [lon, lat + dLat],
            [lon + dLon, lat - dLat],
          ],
        },
      });
    }
  }
  return { type: "FeatureCollection", features };
}

async function post(url: string, cookie: string | undefined, path: string, body: unknown) {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${(await res.text()).slice(0, 300)}`);
  return res.json();
}

/**
 * `npm run bench -- ingest --geofences 10000 --rules 100`: the ingest load on a Locus with 10,000
 * fences, 100 notification rules sending to a local webhook sink and a global speed limit, against the same load on a Locus
 * without any, in the same run (rounds interleaved as in `ingest`). Target: ≥ 0.90.
 */
export async function ingestGeofences(): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), "locus-bench-"));
  const children = new Children();
  try {
    const plain = await startLocus(children, join(dir, "plain.db"));
    // Every device reports 10 m/s: over this limit, so overspeed episodes run as well.
    const ruled = await startLocus(children, join(dir, "ruled.db"), {
      LOCUS_SPEED_LIMIT_KMH: "30",
      LOCUS_WEBHOOK_ALLOW_PRIVATE: "true",
    });
    const servers = [plain, ruled].map(urlOf);
    const cookies = await Promise.all(servers.map(sessionCookie));
    const started = performance.now();
    await post(servers[1]!, cookies[1], "/api/geofences/import", fenceCollection());
    const importMs = performance.now() - started;
    const delivered = await addRules(servers[1]!, cookies[1]);
    const rounds: { plain: Run; ruled: Run; ratio: number }[] = [];
    const drivePlain = () => drive(servers[0]!, plain.child.pid!, { cookie: cookies[0] });
    const driveRuled = () => drive(servers[1]!, ruled.child.pid!, { cookie: cookies[1] });
    for (let r = 0; r < ROUNDS; r++) {
      let a: Run, b: Run;
      if (r % 2 === 0) {
        a = await drivePlain();
        b = await driveRuled();
      } else {
        b = await driveRuled();
        a = await drivePlain();
      }
      rounds.push({ plain: a, ruled: b, ratio: ackedRate(b) / ackedRate(a) });
    }
    const events = (await (
      await fetch(`${servers[1]}/api/events?limit=1`, { headers: { cookie: cookies[1] ?? "" } })
    ).json()) as { events: { id: number }[] };
    const mid = median(rounds, (r) => r.ratio);
    const rate = (v: number) => Math.round(v).toLocaleString("en");
    return {
      scenario: `ingest with ${FENCES} geofences and ${RULES} rules (${DEVICES} devices, batches of ${BATCH}, ${DASHBOARDS} dashboards, ${ROUNDS} rounds)`,
      figures: {
        "positions/s acknowledged, median round": Math.round(ackedRate(mid.ruled)),
        "positions/s acknowledged, each round": each(
          rounds.map((r) => ackedRate(r.ruled)),
          rate,
        ),
        "ack p50 / p99 ms": `${mid.ruled.deviceResult.ackP50} / ${mid.ruled.deviceResult.ackP99}`,
        "CPU % of one core: Locus / device load / dashboard load": cpuFigures(mid.ruled.cpu),
        "ratio to Locus without rules, each round": each(
          rounds.map((r) => r.ratio),
          (x) => x.toFixed(2),
        ),
        "events stored (newest id)": events.events[0]?.id ?? 0,
        "fences imported in ms": Math.round(importMs),
        "webhook deliveries received": delivered(),
      },
      baseline: {
        "Locus without fences or rules, positions/s, same round": Math.round(ackedRate(mid.plain)),
        "Locus without, each round": each(
          rounds.map((r) => ackedRate(r.plain)),
          rate,
        ),
        "Locus without, ack p50 / p99 ms": `${mid.plain.deviceResult.ackP50} / ${mid.plain.deviceResult.ackP99}`,
        "Locus without, CPU %": cpuFigures(mid.plain.cpu),
      },
      ratio: mid.ratio,
      notes:
        "Both servers run on the same 2 cores with the load generators. Headline: the median of the " +
        "rounds' ratios (with / without); the target is ≥ 0.90.",
    };
  } finally {
    await children.stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A webhook of the admin's, at a local sink that answers 204 at once, and 100 notification rules
 * sending to it, each for one event type and a slice of the fences. Returns how many events the
 * sink received so far, to read at the end.
 */
async function addRules(url: string, cookie: string | undefined): Promise<() => number> {
  let received = 0;
  const sink = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received++;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
  sink.unref();
  const { port } = sink.address() as AddressInfo;
  const webhook = (await post(url, cookie, "/api/webhooks", {
    url: `http://127.0.0.1:${port}/locus`,
  })) as { id: number };
  const types = ["geofence_enter", "geofence_exit", "overspeed"];
  for (let i = 0; i < RULES; i++) {
    await post(url, cookie, "/api/rules", {
      name: `rule-${i}`,
      types: [types[i % 3]],
      geofences:
        i % 3 === 2 ? [] : Array.from({ length: 50 }, (_, k) => 1 + ((i * 50 + k) % FENCES)),
      webhooks: [webhook.id],
    });
  }
  return () => received;
}
