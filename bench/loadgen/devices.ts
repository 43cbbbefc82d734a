import { parseArgs } from "node:util";
import { io, type Socket } from "socket.io-client";
import type { DeviceClientToServer, DeviceServerToClient, Position } from "../../protocol/index.ts";

/**
 * Load generator: N real socket.io device clients, each sending a batch as soon as the previous
 * one is acknowledged. Prints `{ready}` once all are connected, then one JSON result line.
 */
const { values } = parseArgs({
  options: {
    url: { type: "string" },
    devices: { type: "string", default: "2000" },
    batch: { type: "string", default: "10" },
    "duration-ms": { type: "string", default: "10000" },
    "warmup-ms": { type: "string", default: "2000" },
    prefix: { type: "string", default: "bench-" },
  },
});
const devices = Number(values.devices);
const batchSize = Number(values.batch);
const durationMs = Number(values["duration-ms"]);
const warmupMs = Number(values["warmup-ms"]);

type DeviceSocket = Socket<DeviceServerToClient, DeviceClientToServer>;
const sockets: DeviceSocket[] = [];
for (let i = 0; i < devices; i++) {
  sockets.push(
    io(`${values.url}/device`, {
      transports: ["websocket"],
      forceNew: true,
      auth: { deviceId: `${values.prefix}${i}` },
    }),
  );
}
await Promise.all(
  sockets.map((s) => new Promise<void>((resolve) => s.once("connect", () => resolve()))),
);
console.log(JSON.stringify({ ready: true, devices }));

const start = Date.now();
const countFrom = start + warmupMs;
const end = start + warmupMs + durationMs;
let acked = 0;
let errors = 0;
const ackLatencies: number[] = [];
// Live fixes, as a fleet sends them: each ts unique per device, a millisecond apart, starting a
// second ago, so at tens of fixes per device per second they stay in the past. (Fixes a day old
// land in an hour that has settled, so the level builder would keep re-summarising it while it
// is written, which no live fleet makes it do.)
const base = Date.now() - 1000;

await Promise.all(
  sockets.map(async (socket, d) => {
    let seq = 0;
    while (Date.now() < end) {
      const batch: Position[] = [];
      for (let k = 0; k < batchSize; k++) {
        seq++;
        batch.push({
          ts: base + seq,
          lat: 52.5 + d / 10_000,
          lon: 13.4 + seq / 1e7,
          speed: 10,
          course: 90,
        });
      }
      const sent = Date.now();
      const ack = await socket
        .timeout(30_000)
        .emitWithAck("position:report", batch)
        .catch(() => null);
      const now = Date.now();
      if (!ack || !ack.ok) errors++;
      else if (now >= countFrom && now < end) {
        acked += ack.accepted + ack.duplicates;
        if (ackLatencies.length < 200_000) ackLatencies.push(now - sent);
      }
    }
  }),
);
ackLatencies.sort((a, b) => a - b);
const pct = (p: number) => ackLatencies[Math.floor((ackLatencies.length - 1) * p)] ?? 0;
console.log(
  JSON.stringify({
    acked,
    perSecond: acked / (durationMs / 1000),
    errors,
    ackP50: pct(0.5),
    ackP99: pct(0.99),
  }),
);
for (const s of sockets) s.close();
process.exit(0);
