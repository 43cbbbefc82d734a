import { parseArgs } from "node:util";
import { io, type Socket } from "socket.io-client";
import type {
  DeviceClientToServer,
  DeviceServerToClient,
  ReportAck,
} from "../../protocol/index.ts";
import { connectAll, Histogram, loopDelay, sleepUntil, waitForGo } from "./common.ts";

/**
 * Load generator: N device sockets each reporting one fix every 1/rate seconds, staggered evenly
 * over the period. Open loop: a fix goes out on schedule whether or not the previous ack came
 * back, so a slow server shows up as latency instead of silently lowering the load. The fix's
 * `ts` is its send time, which the dashboards load generator turns into end-to-end latency.
 *
 * Prints `{ready}` once connected, waits for `go <epoch ms>`, sends for warmup + duration, then
 * prints one result line. Several processes share a load with --phase k/P.
 */
const { values } = parseArgs({
  options: {
    url: { type: "string" },
    devices: { type: "string", default: "1000" },
    "rate-hz": { type: "string", default: "1" },
    phase: { type: "string", default: "0" },
    prefix: { type: "string", default: "lat-" },
    concurrency: { type: "string", default: "200" },
    "duration-ms": { type: "string", default: "15000" },
    "warmup-ms": { type: "string", default: "5000" },
  },
});
const n = Number(values.devices);
const periodMs = 1000 / Number(values["rate-hz"]);
const phase = Number(values.phase);
const durationMs = Number(values["duration-ms"]);
const warmupMs = Number(values["warmup-ms"]);

type DeviceSocket = Socket<DeviceServerToClient, DeviceClientToServer>;
const { sockets, connectErrors, startedAt, endedAt } = await connectAll(
  n,
  Number(values.concurrency),
  (i): DeviceSocket =>
    io(`${values.url}/device`, {
      transports: ["websocket"],
      forceNew: true,
      auth: { deviceId: `${values.prefix}${i}` },
    }),
);
const connected = sockets.filter((s) => s.connected).length;
console.log(
  JSON.stringify({ ready: true, connected, connectErrors, connectMs: endedAt - startedAt }),
);
let disconnects = 0;
for (const s of sockets) s.on("disconnect", () => disconnects++);

const start = await waitForGo();
const delay = loopDelay();
const from = start + warmupMs;
const end = from + durationMs;
const acks = new Histogram();
/** Acks of each device's first report, which registers it (open registration): a one-off cost. */
const firstAcks = new Histogram();
const scheduleLag = new Histogram();
let sent = 0;
let acked = 0;
let errors = 0;
let outstanding = 0;

function send(k: number, due: number): void {
  const d = k % n;
  const socket = sockets[d]!;
  const now = Date.now();
  const counted = now >= from && now < end;
  if (counted) {
    sent++;
    scheduleLag.add(now - due);
  }
  outstanding++;
  const round = Math.floor(k / n);
  const first = round === 0;
  // Small steps (~1 m) along a line per device: plausible, never a duplicate ts.
  const fix = { ts: now, lat: 52.4 + d / 20_000, lon: 13.3 + round * 1e-5, speed: 10, course: 90 };
  socket.emit("position:report", [fix], (ack: ReportAck) => {
    outstanding--;
    if (!ack.ok) errors++;
    if (ack.ok && first) firstAcks.add(Date.now() - now);
    if (ack.ok && counted) {
      acked++;
      acks.add(Date.now() - now);
    }
  });
}

// Send k (device k % n, round k / n) is due at start + (k + phase) × period / n.
let k = 0;
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const now = Date.now();
    for (;;) {
      const due = start + ((k + phase) * periodMs) / n;
      if (due > now) break;
      if (due >= end) {
        clearInterval(timer);
        return resolve();
      }
      send(k++, due);
    }
  }, 2);
});
// Acks still on the way are given a few seconds; what never comes back is reported.
const drainUntil = Date.now() + 5000;
while (outstanding > 0 && Date.now() < drainUntil) await sleepUntil(Date.now() + 50);
console.log(
  JSON.stringify({
    sent,
    acked,
    errors,
    unacked: outstanding,
    disconnects,
    acks: acks.toJSON(),
    firstAcks: firstAcks.toJSON(),
    scheduleLagP99Ms: scheduleLag.percentile(0.99),
    loopDelayP99Ms: delay.p99Ms(),
    loopDelayMaxMs: delay.maxMs(),
  }),
);
process.exit(0);
