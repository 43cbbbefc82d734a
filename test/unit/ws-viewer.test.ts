import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import type { LiveBatch, LiveDevice, LiveSnapshot } from "../../protocol/index.ts";
import { WS_CLOSE } from "../../protocol/ws.ts";
import { systemClock } from "../../server/clock.ts";
import { WsViewer } from "../../server/transports/ws/viewer.ts";
import type { User } from "../../server/services/access.ts";
import { waitFor } from "../support/locus.ts";

/**
 * A viewer that stops reading must not make the server queue without bound. Real sockets on
 * loopback: the client's TCP socket is paused, so the server's send buffer really fills.
 */
const admin: User = {
  id: 1,
  name: "admin",
  role: "admin",
  grant: { all: true, devices: new Set(), groups: new Set() },
};
const LAG_BYTES = 256 * 1024;

function bigBatch(n: number): LiveBatch {
  // ~200 KB: enough to fill loopback buffers in a few dozen ticks.
  const devices: LiveDevice[] = Array.from({ length: 1500 }, (_, i) => ({
    id: `device-${i}`,
    status: "moving",
    lastSeen: n,
    position: { ts: n, lat: 52 + i / 1e4, lon: 13, speed: 8, attributes: { note: "x".repeat(40) } },
  }));
  return { serverTime: n, devices };
}

const snapshotOf = (): LiveSnapshot => ({ serverTime: 0, tickMs: 100, devices: [] });

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

async function pair(maxLagMs: number) {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise((r) => wss.once("listening", r));
  const serverSide = new Promise<WebSocket>((r) => wss.once("connection", r));
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const received: { type: string }[] = [];
  let closeCode: number | null = null;
  client.on("message", (d) => received.push(JSON.parse(d.toString()) as { type: string }));
  client.on("close", (code) => (closeCode = code));
  await new Promise((r) => client.once("open", r));
  const socket = await serverSide;
  const viewer = new WsViewer(admin, socket, snapshotOf, systemClock, {
    lagBytes: LAG_BYTES,
    maxLagMs,
  });
  cleanup.push(() => {
    client.terminate();
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  });
  // The test reaches into the client's TCP socket to stop reading, as a stalled phone would.
  const tcp = (client as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  return { viewer, socket, tcp, received, closed: () => closeCode };
}

describe("slow plain-WebSocket viewers", () => {
  it("skips batches while a viewer lags, then repairs it with a snapshot once it catches up", async () => {
    const { viewer, socket, tcp, received } = await pair(60_000);
    tcp.pause();
    let sent = 0;
    while (socket.bufferedAmount <= LAG_BYTES && sent < 500) viewer.batch(bigBatch(++sent));
    expect(socket.bufferedAmount).toBeGreaterThan(LAG_BYTES);
    const queued = socket.bufferedAmount;
    for (let i = 0; i < 50; i++) viewer.batch(bigBatch(++sent));
    // Skipped, not queued: a stalled viewer costs at most one batch beyond the limit.
    expect(socket.bufferedAmount).toBe(queued);

    tcp.resume();
    await waitFor(() => received.at(-1)?.type === "snapshot", {
      what: "the snapshot after catching up",
      timeoutMs: 10_000,
    });
    const batches = received.filter((f) => f.type === "batch").length;
    expect(batches).toBeLessThan(sent);
    // Back to normal: the next batch is sent.
    viewer.batch(bigBatch(sent + 1));
    await waitFor(() => received.at(-1)?.type === "batch", { what: "a batch after catching up" });
  });

  it("closes a viewer that stays behind too long", async () => {
    const { viewer, socket, tcp, closed } = await pair(300);
    tcp.pause();
    let sent = 0;
    while (socket.bufferedAmount <= LAG_BYTES && sent < 500) viewer.batch(bigBatch(++sent));
    viewer.batch(bigBatch(sent + 1));
    await waitFor(() => socket.readyState === WebSocket.CLOSING, {
      what: "the server to close the viewer",
      timeoutMs: 3000,
    });
    tcp.resume();
    await waitFor(() => closed() === WS_CLOSE.tooSlow, { what: "the client to hear why" });
  });
});
