import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";

/**
 * The transport's ceiling: a bare socket.io server that acks every report at once and
 * re-broadcasts the latest fix per device to /live every 100 ms. No validation, no storage.
 */
const http = createServer();
const io = new Server(http, { serveClient: false, maxHttpBufferSize: 4e6 });
const latest = new Map<string, unknown>();
const live = io.of("/live");

io.of("/device").on("connection", (socket) => {
  const id = String(socket.handshake.auth.deviceId);
  socket.on("position:report", (batch: unknown[], ack: (r: unknown) => void) => {
    latest.set(id, batch.at(-1));
    ack({ ok: true, accepted: batch.length, duplicates: 0, rejected: [] });
  });
});
setInterval(() => {
  if (latest.size === 0) return;
  const devices = [...latest].map(([id, position]) => ({ id, position }));
  latest.clear();
  live.emit("fleet:updated", { serverTime: Date.now(), devices });
}, 100);

http.listen(0, "127.0.0.1", () => {
  const { port } = http.address() as AddressInfo;
  console.log(JSON.stringify({ url: `http://127.0.0.1:${port}` }));
});
process.on("SIGTERM", () => process.exit(0));
