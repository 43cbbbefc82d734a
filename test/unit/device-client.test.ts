import { afterEach, describe, expect, it } from "vitest";
import type { DeviceClientError } from "../../simulator/device-client.ts";
import {
  client,
  closeAll,
  position,
  range,
  sleep,
  startServer,
  tsOf,
  type Report,
} from "../support/device-server.ts";

/** The simulator's device client against a real socket.io server made in the test. */

afterEach(closeAll);

describe("device client", () => {
  it("delivers every position once, in order, in batches of at most maxBatch", async () => {
    const sizes: number[] = [];
    const server = await startServer((r) => {
      sizes.push(r.positions.length);
      r.ack(r.store());
    });
    const c = client(server.url, { maxBatch: 500 });
    for (const i of range(0, 1200)) c.push(position(i));
    expect(await c.flush(5_000)).toBe(true);
    for (const i of range(1200, 1300)) c.push(position(i));
    expect(await c.flush(5_000)).toBe(true);

    expect(server.stored.get("dev-1")).toEqual(tsOf(range(0, 1300)));
    expect(Math.max(...sizes)).toBeLessThanOrEqual(500);
    expect(c.stats).toMatchObject({
      pushed: 1300,
      sent: 1300,
      resent: 0,
      acked: 1300,
      accepted: 1300,
      duplicates: 0,
      dropped: 0,
      buffered: 0,
      inFlight: 0,
      connected: true,
    });
    expect(c.stats.maxWaitMs).toBeGreaterThanOrEqual(0);
  });

  it.each([
    ["the server closes the socket", (s: Report["socket"]) => s.disconnect(true)],
    ["the connection drops", (s: Report["socket"]) => s.conn.close()],
  ])(
    "resends the unacknowledged batch after a disconnect (%s), in order, without loss",
    async (_, cut) => {
      // The first report is committed but its ack is lost with the connection.
      const server = await startServer((r) => {
        const ack = r.store();
        if (r.n === 1) cut(r.socket);
        else r.ack(ack);
      });
      const c = client(server.url);
      const events: string[] = [];
      c.on("connect", () => events.push("connect"));
      c.on("disconnect", () => events.push("disconnect"));
      for (const i of range(0, 5)) c.push(position(i));
      await sleep(100);
      for (const i of range(5, 10)) c.push(position(i)); // pushed during the outage
      expect(await c.flush(5_000)).toBe(true);

      expect(server.stored.get("dev-1")).toEqual(tsOf(range(0, 10)));
      expect(events.slice(0, 3)).toEqual(["connect", "disconnect", "connect"]);
      const stats = c.stats;
      expect(stats.resent).toBeGreaterThan(0);
      expect(stats.duplicates).toBe(stats.resent); // the lost batch had been stored
      expect(stats.acked).toBe(10);
      expect(stats.accepted + stats.duplicates).toBe(10);
      expect(stats.dropped).toBe(0);
    },
  );

  it("resends a batch whose ack timed out, and reports the timeout", async () => {
    const server = await startServer((r) => {
      const ack = r.store();
      if (r.n > 1) r.ack(ack); // the first ack never comes
    });
    const c = client(server.url, { ackTimeoutMs: 200 });
    const errors: DeviceClientError[] = [];
    c.on("error", (err) => errors.push(err));
    for (const i of range(0, 3)) c.push(position(i));
    expect(await c.flush(5_000)).toBe(true);
    expect(server.stored.get("dev-1")).toEqual(tsOf(range(0, 3)));
    expect(errors.map((e) => [e.code, e.retrying])).toEqual([["ack_timeout", true]]);
    // The server had stored the batch before its ack went missing.
    expect(c.stats).toMatchObject({ acked: 3, accepted: 0, duplicates: 3, resent: 3, errors: 1 });
  });

  it("retries a batch refused with a retryable code, and drops one refused for good", async () => {
    const server = await startServer((r) => {
      if (r.n === 1) r.ack({ ok: false, error: { code: "rate_limited", message: "slow down" } });
      else if (r.n === 3) r.ack({ ok: false, error: { code: "invalid_payload", message: "bad" } });
      else r.ack(r.store());
    });
    const c = client(server.url);
    const errors: string[] = [];
    c.on("error", (err) => errors.push(`${err.code}:${err.retrying}`));
    c.push(position(0));
    expect(await c.flush(5_000)).toBe(true); // reports 1 (rate limited) and 2 (stored)
    c.push(position(1)); // report 3: refused for good
    c.push(position(2)); // report 4: the client moves on
    expect(await c.flush(5_000)).toBe(true);

    expect(server.stored.get("dev-1")).toEqual(tsOf([0, 2]));
    expect(errors).toEqual(["rate_limited:true", "invalid_payload:false"]);
    expect(c.stats).toMatchObject({ pushed: 3, acked: 3, accepted: 2, rejected: 1, resent: 1 });
  });

  it("keeps the batch and retries when the ack is malformed", async () => {
    const server = await startServer((r) => {
      const ack = r.store();
      if (r.n === 1) (r.ack as (reply: unknown) => void)("thanks");
      else r.ack(ack);
    });
    const c = client(server.url);
    const errors: string[] = [];
    c.on("error", (err) => errors.push(err.code));
    c.push(position(0));
    expect(await c.flush(5_000)).toBe(true);
    expect(errors).toEqual(["invalid_ack"]);
    expect(c.stats).toMatchObject({ acked: 1, duplicates: 1, resent: 1 });
  });

  it("bounds its buffer: drops the oldest, counts the drops and warns once", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const server = await startServer();
    server.io.of("/device").use((_socket, next) => void gate.then(() => next()));
    const c = client(server.url, { maxBuffered: 5 });
    const warnings: string[] = [];
    c.on("warning", (message) => warnings.push(message));
    for (const i of range(0, 12)) c.push(position(i));

    expect(c.stats).toMatchObject({ pushed: 12, dropped: 7, buffered: 5, connected: false });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/buffer full/);
    expect(await c.flush(100)).toBe(false); // nothing can leave yet

    open();
    expect(await c.flush(5_000)).toBe(true);
    expect(server.stored.get("dev-1")).toEqual(tsOf(range(7, 12)));
    expect(c.stats).toMatchObject({ acked: 5, dropped: 7, buffered: 0 });
  });

  it("reconnects after the server restarts and delivers what piled up meanwhile", async () => {
    const first = await startServer();
    const c = client(first.url);
    c.push(position(0));
    expect(await c.flush(5_000)).toBe(true);
    const port = new URL(first.url).port;
    await first.close();
    for (const i of range(1, 20)) c.push(position(i));
    await sleep(50);
    expect(c.stats.connected).toBe(false);

    const received: number[] = [];
    await startServer((r) => {
      received.push(...r.positions.map((p) => p.ts));
      r.ack({ ok: true, accepted: r.positions.length, duplicates: 0, rejected: [] });
    }, Number(port));
    expect(await c.flush(5_000)).toBe(true);
    expect(received).toEqual(tsOf(range(1, 20)));
  });

  it("close() disconnects, and a pending flush resolves false", async () => {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const server = await startServer();
    server.io.of("/device").use((_socket, next) => void gate.then(() => next()));
    const c = client(server.url);
    c.push(position(0));
    const flushed = c.flush(5_000);
    c.close();
    expect(await flushed).toBe(false);
    expect(c.stats).toMatchObject({ connected: false, buffered: 1 });
    expect(() => c.push(position(1))).toThrow(/closed/);
    open();
  });
});
