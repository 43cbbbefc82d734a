import { describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { openDatabase } from "../../server/stores/sqlite/database.ts";
import { makePosition, report, useTestBed, waitFor } from "../support/locus.ts";

const bed = useTestBed();
const device = (id: string) => bed.device(id);
const history = (id: string, query = "") =>
  bed.server.fetch(`/api/devices/${id}/positions?${query}`).then((r) => r.json());

describe("implausible fixes", () => {
  it("stores them with a reason but keeps them out of history lines and the live map", async () => {
    await bed.start({ maxAccuracyM: 200, maxImpliedSpeed: 80, tickMs: 50 });
    const watcher = bed.dashboard();
    const car = await device("car");
    const good1 = makePosition();
    const island = makePosition({ lat: 0, lon: 0 });
    const blurry = makePosition({ accuracy: 1500 });
    const teleport = makePosition({ lat: good1.lat + 0.1 }); // 11 km in 3 s
    const good2 = makePosition({ lat: good1.lat + 0.0002 }); // 22 m in 4 s

    const ack = await report(car, [good1, island, blurry, teleport, good2]);

    expect(ack).toMatchObject({ ok: true, accepted: 5, rejected: [] });
    const shown = await history("car");
    expect(shown.positions).toEqual([good1, good2]);
    const all = await history("car", "flagged=include");
    expect(all.positions.map((p: { flag?: string }) => p.flag ?? "ok")).toEqual([
      "ok",
      "null_island",
      "inaccurate",
      "implied_speed",
      "ok",
    ]);
    await waitFor(() => watcher.latest("car")?.ts === good2.ts);
    const late = makePosition({ lat: 0, lon: 0 });
    await report(car, late);
    await new Promise((r) => setTimeout(r, 150));
    expect(watcher.latest("car")).toEqual(good2);
  });

  it("re-anchors after a device keeps reporting from a new place", async () => {
    await bed.start({ maxImpliedSpeed: 80 });
    const truck = await device("ferry-truck");
    const before = makePosition();
    const moved = [1, 2, 3, 4].map((i) => makePosition({ lat: before.lat + 0.5 + i * 0.0001 }));
    await report(truck, [before, ...moved]);
    const all = await history("ferry-truck", "flagged=include");
    expect(all.positions.map((p: { flag?: string }) => p.flag ?? "ok")).toEqual([
      "ok",
      "implied_speed",
      "implied_speed",
      "ok",
      "ok",
    ]);
  });

  it("rejects a bad ?flagged value naming the parameter", async () => {
    await bed.start();
    await report(await device("x"), makePosition());
    const reply = await history("x", "flagged=maybe");
    expect(reply.error.message).toBe("flagged: must be one of exclude, include");
  });
});

describe("per-device rate limit", () => {
  it("answers a flood with rate_limited while other devices are served", async () => {
    await bed.start({ rateLimit: 5, rateBurst: 10 });
    const flood = await device("flood");
    const calm = await device("calm");
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => report(flood, makePosition())),
    );
    const limited = answers.filter((a) => !a.ok && a.error.code === "rate_limited");
    expect(answers.filter((a) => a.ok)).toHaveLength(10);
    expect(limited).toHaveLength(20);
    expect(limited[0]).toMatchObject({
      error: { message: expect.stringMatching(/retry in \d+ ms/) },
    });
    expect(await report(calm, makePosition())).toMatchObject({ ok: true, accepted: 1 });
  });
});

describe("durability", () => {
  it.each([
    ["normal", 1],
    ["full", 2],
  ] as const)("--durability %s sets synchronous=%i on a WAL database", (mode, level) => {
    const db = openDatabase(":memory:", { durability: mode });
    expect(db.pragma("synchronous", { simple: true })).toBe(level);
    db.close();
  });

  it("opens the file in WAL mode", async () => {
    const server = await bed.start({ durability: "full" });
    await report(await device("d"), makePosition());
    const db = new Database(server.db, { readonly: true });
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });
});
