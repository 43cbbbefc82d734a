import { beforeEach, describe, expect, it } from "vitest";
import { MAX_BATCH } from "../../protocol/index.ts";
import {
  connectDevice,
  makePosition,
  report,
  storedRows,
  useTestBed,
  waitFor,
  type TestLocus,
} from "../support/locus.ts";

const bed = useTestBed();
let server: TestLocus;
beforeEach(async () => {
  server = await bed.start();
});
const device = (id: string) => bed.device(id);

describe("position:report", () => {
  it("acks only after the row is committed, then a dashboard receives it in a batch", async () => {
    const dashboard = bed.dashboard();
    await waitFor(() => dashboard.snapshots.length > 0, { what: "snapshot" });
    const truck = await device("truck-17");
    const fix = makePosition({ lat: 48.1371, lon: 11.5754, speed: 12.5, course: 45, battery: 81 });

    const ack = await report(truck, fix);

    expect(ack).toEqual({ ok: true, accepted: 1, duplicates: 0, rejected: [] });
    // Read through a separate connection the moment the ack arrives: the row is already on disk.
    expect(await storedRows(server.db, "truck-17")).toEqual([{ ts: fix.ts, lat: 48.1371 }]);
    // Registered by its first report, the device may appear a tick before its fix does.
    const batch = await waitFor(
      () =>
        dashboard.batches.find((b) =>
          b.batch.devices.some((d) => d.id === "truck-17" && d.position !== null),
        ),
      { what: "a batch with truck-17's fix" },
    );
    const live = batch.batch.devices.find((d) => d.id === "truck-17")!;
    expect(live.position).toEqual(fix);
    expect(live.status).toBe("moving");
  });

  it("stores a position already stored only once and counts the repeat as a duplicate", async () => {
    const van = await device("van.3");
    const fix = makePosition();
    expect(await report(van, fix)).toMatchObject({ ok: true, accepted: 1, duplicates: 0 });
    expect(await report(van, fix)).toMatchObject({ ok: true, accepted: 0, duplicates: 1 });
    const next = makePosition();
    expect(await report(van, [fix, next, next])).toMatchObject({ accepted: 1, duplicates: 2 });
    expect((await storedRows(server.db, "van.3")).map((r) => r.ts)).toEqual([fix.ts, next.ts]);
  });

  it("treats the same ts from two devices as two positions", async () => {
    const fix = makePosition();
    expect(await report(await device("a"), fix)).toMatchObject({ accepted: 1 });
    expect(await report(await device("b"), fix)).toMatchObject({ accepted: 1 });
  });

  it("rejects bad positions by index, field and rule, and still stores the good ones", async () => {
    const bike = await device("bike:9");
    const good = [makePosition(), makePosition(), makePosition()];
    const payload = [
      good[0],
      { ...makePosition(), lat: 91 },
      good[1],
      { ...makePosition(), lon: "13.4" },
      { ...makePosition(), course: 360 },
      { ...makePosition(), ts: Date.now() + 86_400_000 },
      { ...makePosition(), attributes: { nested: { no: 1 } } },
      { lat: 1, lon: 2 },
      { ...makePosition(), colour: "red" },
      good[2],
    ];

    const ack = await report(bike, payload);

    expect(ack.ok).toBe(true);
    if (!ack.ok) return;
    expect(ack.accepted).toBe(3);
    expect(ack.rejected.map((r) => [r.index, r.field])).toEqual([
      [1, "lat"],
      [3, "lon"],
      [4, "course"],
      [5, "ts"],
      [6, "attributes.nested"],
      [7, "ts"],
      [8, "colour"],
    ]);
    expect(ack.rejected[0]!.message).toMatch(/90/);
    expect(ack.rejected[1]!.message).toBe("must be a finite number (degrees)");
    expect(ack.rejected[5]!.message).toBe("is required");
    expect((await storedRows(server.db, "bike:9")).map((r) => r.ts)).toEqual(good.map((p) => p.ts));
  });

  it.each([
    ["a string", "hello", "invalid_payload"],
    ["null", null, "invalid_payload"],
    ["an empty array", [], "invalid_payload"],
    [
      "a batch over the limit",
      Array.from({ length: MAX_BATCH + 1 }, () => makePosition()),
      "batch_too_large",
    ],
  ])("answers %s with a whole-message error", async (_name, payload, code) => {
    const ack = await report(await device("x"), payload);
    expect(ack).toMatchObject({ ok: false, error: { code } });
  });

  it("accepts a full batch of the maximum size", async () => {
    const batch = Array.from({ length: MAX_BATCH }, () => makePosition());
    expect(await report(await device("bulk"), batch)).toMatchObject({ accepted: MAX_BATCH });
  });

  it("commits reports from many devices together, not one transaction each", async () => {
    const devices = await Promise.all(Array.from({ length: 40 }, (_, i) => device(`fleet-${i}`)));
    const before = server.locus.stores.positions.stats().commits;
    const acks = await Promise.all(devices.map((d) => report(d, makePosition())));
    expect(acks.every((a) => a.ok && a.accepted === 1)).toBe(true);
    const commits = server.locus.stores.positions.stats().commits - before;
    expect(commits).toBeGreaterThan(0);
    expect(commits).toBeLessThan(devices.length / 2);
  });

  it("refuses a handshake with a malformed device id, naming the rule", async () => {
    const attempt = connectDevice(server.url, "bad id with spaces");
    await expect(attempt).rejects.toMatchObject({
      data: { code: "invalid_device_id", message: expect.stringMatching(/deviceId must be 1–64/) },
    });
  });

  it("keeps serving other devices while one sends garbage", async () => {
    const noisy = await device("noisy");
    const calm = await device("calm");
    const garbage = [undefined, 42, "x", { lat: NaN }, [[[]]], { ts: Infinity }].map((p) =>
      report(noisy, p),
    );
    const fix = makePosition();
    expect(await report(calm, fix)).toMatchObject({ ok: true, accepted: 1 });
    const answers = await Promise.all(garbage);
    expect(answers.every((a) => !a.ok || a.rejected.length === 1)).toBe(true);
    expect(await storedRows(server.db, "calm")).toHaveLength(1);
    expect(await storedRows(server.db, "noisy")).toHaveLength(0);
  });
});
