import { parseArgs } from "node:util";
import { io, type Socket } from "socket.io-client";
import type { LiveClientToServer, LiveServerToClient } from "../../protocol/index.ts";
import { connectAll, Histogram, loopDelay, sleepUntil, waitForGo } from "./common.ts";

/**
 * Load generator: N dashboards on /live. For every device update received in the window it
 * records `Date.now() - position.ts`: the devices put their send time in `ts` and run on the
 * same machine clock, so this is device send → dashboard receipt, tick wait included.
 */
const { values } = parseArgs({
  options: {
    url: { type: "string" },
    dashboards: { type: "string", default: "50" },
    "duration-ms": { type: "string", default: "15000" },
    "warmup-ms": { type: "string", default: "5000" },
    /** The signed-in session, for a server that requires one. */
    cookie: { type: "string" },
  },
});
const durationMs = Number(values["duration-ms"]);
const warmupMs = Number(values["warmup-ms"]);

const latency = new Histogram();
// The same latency split at the batch's serverTime (same clock): send → tick in the server,
// and tick → receipt (server writes, kernel, this process's own parsing and queueing).
const toTick = new Histogram();
const tickToReceipt = new Histogram();
/** Time between consecutive batches on one dashboard: the server's 100 ms tick, as delivered. */
const tickGaps = new Histogram();
let lastBatchAt = 0;
let messages = 0;
let updates = 0;
let from = Infinity;
let end = Infinity;

type LiveSocket = Socket<LiveServerToClient, LiveClientToServer>;
const { sockets } = await connectAll(Number(values.dashboards), 50, (i): LiveSocket => {
  const socket: LiveSocket = io(`${values.url}/live`, {
    transports: ["websocket"],
    forceNew: true,
    extraHeaders: values.cookie ? { cookie: values.cookie } : {},
  });
  socket.on("fleet:updated", (batch) => {
    const now = Date.now();
    if (now < from || now >= end) return;
    if (i === 0 && lastBatchAt) tickGaps.add(now - lastBatchAt);
    if (i === 0) lastBatchAt = now;
    messages++;
    updates += batch.devices.length;
    for (const d of batch.devices) {
      if (!d.position) continue;
      latency.add(now - d.position.ts);
      toTick.add(batch.serverTime - d.position.ts);
    }
    tickToReceipt.add(now - batch.serverTime);
  });
  return socket;
});
let disconnects = 0;
for (const s of sockets) s.on("disconnect", () => disconnects++);
console.log(JSON.stringify({ ready: true, connected: sockets.filter((s) => s.connected).length }));

const start = await waitForGo();
const delay = loopDelay();
from = start + warmupMs;
end = from + durationMs;
await sleepUntil(end + 500);
const seconds = durationMs / 1000;
console.log(
  JSON.stringify({
    dashboards: sockets.length,
    messages,
    updates,
    updatesPerDashboardPerSecond: updates / sockets.length / seconds,
    disconnects,
    latency: latency.toJSON(),
    tickGaps: tickGaps.toJSON(),
    toTick: toTick.toJSON(),
    tickToReceipt: tickToReceipt.toJSON(),
    loopDelayP99Ms: delay.p99Ms(),
    loopDelayMaxMs: delay.maxMs(),
  }),
);
process.exit(0);
