import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MAX_BATCH } from "../../protocol/index.ts";
import {
  connectDevice,
  makePosition,
  report,
  startTestLocus,
  storedRows,
  type DeviceSocket,
  type TestLocus,
} from "../support/locus.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const heapMb = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

/** Deep nesting built without recursion, so the client's encoder is not what gets tested. */
const nested = (depth: number) => JSON.parse("[".repeat(depth) + "]".repeat(depth));
const withOwnKey = (key: string, value: unknown) =>
  JSON.parse(
    `{"ts":${Date.now() - 1000},"lat":1,"lon":1,${JSON.stringify(key)}:${JSON.stringify(value)}}`,
  );

/** Malformed payloads, by kind. Each is invalid for a reason the schema must name. */
const MALFORMED: ((i: number) => unknown)[] = [
  (i) => `not a position ${i}`,
  (i) => i,
  () => true,
  () => null,
  () => [],
  () => [1, 2, 3],
  (i) => ({ ts: String(i), lat: 1, lon: 1 }),
  () => ({ ts: Date.now(), lat: Number.NaN, lon: 1 }), // NaN and Infinity travel as null in JSON
  () => ({ ts: Date.now(), lat: 1, lon: Number.POSITIVE_INFINITY }),
  () => ({ ts: 1.5, lat: 1, lon: 1 }),
  () => ({ ts: Date.now(), lat: 1e308 * 10, lon: 1 }),
  () => ({ ts: Date.now(), lat: 1, lon: 1, speed: -1 }),
  () => ({ ts: Date.now(), lat: 1, lon: 1, battery: 101 }),
  () => ({ ts: Date.now(), lat: 1, lon: 1, attributes: { note: "x".repeat(10_000) } }),
  () => ({
    ts: Date.now(),
    lat: 1,
    lon: 1,
    attributes: Object.fromEntries(Array.from({ length: 100 }, (_, k) => [`k${k}`, k])),
  }),
  () => ({ ts: Date.now(), lat: 1, lon: 1, attributes: { deep: nested(50) } }),
  () => nested(2000),
  () => [nested(500)],
  () => withOwnKey("__proto__", { admin: true }),
  () => withOwnKey("constructor", { prototype: 1 }),
  () => ({ ts: Date.now(), lat: 1, lon: 1, attributes: withOwnKey("__proto__", 1) }),
  () => ({ ts: Date.now(), lat: 1, lon: 1, attributes: { constructor: "x" } }),
  () => Buffer.from([0xde, 0xad, 0xbe, 0xef]),
  () => ({ ts: Date.now(), lat: 1, lon: 1, attributes: { blob: Buffer.alloc(16) } }),
  () => "x".repeat(200_000),
  () => Array.from({ length: MAX_BATCH + 1 }, () => ({})),
  () => Array.from({ length: 3000 }, (_, k) => k),
];

let server: TestLocus;
beforeAll(async () => {
  // The rate limit has its own test; here every message must reach validation.
  server = await startTestLocus({ rateLimit: 1e9, rateBurst: 1e9 });
});
afterAll(() => server.dispose());

describe("fuzzing the device protocol", () => {
  it("answers 10,000+ malformed messages with errors while storing every valid position", async () => {
    const valid = await Promise.all(
      Array.from({ length: 20 }, (_, i) => connectDevice(server.url, `good-${i}`)),
    );
    const fuzzers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => connectDevice(server.url, `fuzz-${i}`)),
    );
    // Warm up (JIT, statement caches, socket buffers) before taking the memory baseline.
    await Promise.all(valid.map((s) => report(s, makePosition({ ts: Date.now() - 7_200_000 }))));
    const baseline = heapMb();

    const expected = new Map<string, number>();
    const sendValid = async (socket: DeviceSocket, id: string) => {
      for (let n = 0; n < 50; n++) {
        const ack = await report(socket, makePosition({ lat: 48 + n / 10_000 }));
        expect(ack).toMatchObject({ ok: true, accepted: 1 });
        expected.set(id, (expected.get(id) ?? 1) + 1);
      }
    };
    let malformedSent = 0;
    let unanswered = 0;
    const sendMalformed = async (socket: DeviceSocket, offset: number) => {
      for (let round = 0; round < 10; round++) {
        const acks = Array.from({ length: 110 }, (_, k) => {
          const i = offset + round * 110 + k;
          malformedSent++;
          if (i % 37 === 0) {
            return socket
              .timeout(5000)
              .emitWithAck("position:forget" as "position:report", {} as never);
          }
          return report(socket, MALFORMED[i % MALFORMED.length]!(i));
        });
        for (const ack of await Promise.all(acks)) {
          const isError = !ack.ok || (ack.accepted === 0 && ack.rejected.length > 0);
          if (!isError) unanswered++;
        }
      }
    };
    await Promise.all([
      ...valid.map((s, i) => sendValid(s, `good-${i}`)),
      ...fuzzers.map((s, i) => sendMalformed(s, i * 10_000)),
    ]);

    expect(malformedSent).toBeGreaterThanOrEqual(10_000);
    expect(unanswered).toBe(0);
    for (const [id, count] of expected) expect(await storedRows(server.db, id)).toHaveLength(count);
    for (let i = 0; i < 10; i++) expect(await storedRows(server.db, `fuzz-${i}`)).toHaveLength(0);
    expect(fuzzers.every((s) => s.connected)).toBe(true);

    for (const s of [...valid, ...fuzzers]) s.close();
    await new Promise((r) => setTimeout(r, 200));
    expect(heapMb() - baseline).toBeLessThan(25);
  });

  it("drops a connection that sends an oversized frame, and only that one", async () => {
    const bully = await connectDevice(server.url, "bully");
    const bystander = await connectDevice(server.url, "bystander");
    const closed = new Promise<string>((resolve) => bully.on("disconnect", resolve));
    bully.emit(
      "position:report",
      { ts: Date.now(), lat: 1, lon: 1, attributes: { a: "x".repeat(5_000_000) } } as never,
      () => {},
    );
    expect(await closed).toMatch(/close/);
    expect(await report(bystander, makePosition())).toMatchObject({ ok: true, accepted: 1 });
    bully.close();
    bystander.close();
  });
});

describe("fuzzing the REST query parameters", () => {
  it("answers every malformed query with a JSON 4xx naming the problem, never a 5xx", async () => {
    const socket = await connectDevice(server.url, "rest-target");
    await report(socket, makePosition());
    socket.close();
    const values = [
      "",
      "-",
      "1e3",
      "0x10",
      "NaN",
      "Infinity",
      "-1",
      "99999999999999999999",
      "%zz",
      "%00",
      "2026-02-30T00:00:00Z",
      "é",
      "x".repeat(5000),
      "[]",
      "{}",
    ];
    const names = [
      "from",
      "to",
      "limit",
      "flagged",
      "from[]",
      "__proto__",
      "constructor[prototype]",
      "limit[$gt]",
    ];
    const ids = ["rest-target", "nobody", "x".repeat(65), "%2e%2e", "a%2Fb", "%zz"];
    let requests = 0;
    for (const id of ids) {
      for (const name of names) {
        for (const value of values) {
          const res = await server.fetch(
            `/api/devices/${id}/positions?${name}=${value}&${name}=${value}`,
          );
          requests++;
          expect(res.status, `${id} ${name}=${value}`).toBeGreaterThanOrEqual(200);
          expect(res.status, `${id} ${name}=${value}`).toBeLessThan(500);
          const body = await res.json();
          if (res.status >= 400) expect(body.error.message).toEqual(expect.any(String));
        }
      }
    }
    expect(requests).toBeGreaterThan(500);
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
  });
});
