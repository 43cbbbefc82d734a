import { parseArgs } from "node:util";
import { io, type Socket } from "socket.io-client";
import {
  TRAIL_STRIDE,
  type LiveClientToServer,
  type LiveServerToClient,
} from "../../protocol/index.ts";

/**
 * Load generator: N dashboard clients on /live counting what they receive: device updates (one
 * per changed device per batch) and fixes (every position, trails included).
 */
const { values } = parseArgs({
  options: {
    url: { type: "string" },
    dashboards: { type: "string", default: "10" },
    "duration-ms": { type: "string", default: "10000" },
    "warmup-ms": { type: "string", default: "2000" },
    /** Session cookie: Locus's live feed needs a signed-in user (the bare relay ignores it). */
    cookie: { type: "string" },
  },
});
const count = Number(values.dashboards);
const durationMs = Number(values["duration-ms"]);
const warmupMs = Number(values["warmup-ms"]);

const sockets: Socket<LiveServerToClient, LiveClientToServer>[] = [];
let updates = 0;
let fixes = 0;
let messages = 0;
let counting = false;
for (let i = 0; i < count; i++) {
  const socket: Socket<LiveServerToClient, LiveClientToServer> = io(`${values.url}/live`, {
    transports: ["websocket"],
    forceNew: true,
    extraHeaders: values.cookie ? { cookie: values.cookie } : {},
  });
  socket.on("fleet:updated", (batch) => {
    if (!counting) return;
    messages++;
    updates += batch.devices.length;
    for (const d of batch.devices) {
      if (d.position) fixes += 1 + (d.trail?.length ?? 0) / TRAIL_STRIDE;
    }
  });
  sockets.push(socket);
}
await Promise.all(
  sockets.map((s) => new Promise<void>((resolve) => s.once("connect", () => resolve()))),
);
console.log(JSON.stringify({ ready: true, dashboards: count }));
// Wait for the "go" line on stdin so the window lines up with the devices' window.
process.stdin.once("data", () => {
  setTimeout(() => (counting = true), warmupMs);
  setTimeout(() => {
    counting = false;
    console.log(
      JSON.stringify({
        updatesPerDashboardPerSecond: updates / count / (durationMs / 1000),
        fixesPerDashboardPerSecond: fixes / count / (durationMs / 1000),
        messagesPerDashboardPerSecond: messages / count / (durationMs / 1000),
      }),
    );
    for (const s of sockets) s.close();
    process.exit(0);
  }, warmupMs + durationMs);
});
