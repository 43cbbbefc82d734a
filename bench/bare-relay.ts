import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";

/**
 * The transport's ceiling: a bare socket.io server that acks every report at once and
 * re-broadcasts every fix to /live every 100 ms, in the same shape as Locus's batches (the newest
 * fix per device as `position`, the ones before it as a flat `trail`). No validation, no storage.
 */
interface Fix {
  ts: number;
  lat: number;
  lon: number;
}
const http = createServer();
const io = new Server(http, { serveClient: false, maxHttpBufferSize: 4e6 });
const pending = new Map<string, Fix[]>();
const live = io.of("/live");

io.of("/device").on("connection", (socket) => {
  const id = String(socket.handshake.auth.deviceId);
  socket.on("position:report", (batch: Fix[], ack: (r: unknown) => void) => {
    const fixes = pending.get(id);
    if (fixes) fixes.push(...batch);
    else pending.set(id, [...batch]);
    ack({ ok: true, accepted: batch.length, duplicates: 0, rejected: [] });
  });
});
setInterval(() => {
  if (pending.size === 0) return;
  const devices = [...pending].map(([id, fixes]) => ({
    id,
    position: fixes.at(-1),
    trail: fixes.slice(0, -1).flatMap((f) => [f.ts, f.lat, f.lon]),
  }));
  pending.clear();
  live.emit("fleet:updated", { serverTime: Date.now(), devices });
}, 100);

http.listen(0, "127.0.0.1", () => {
  const { port } = http.address() as AddressInfo;
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` }));
});
process.on("SIGTERM", () => process.exit(0));
