import { io } from "socket.io-client";
import { describe, expect, it } from "vitest";
import { makePosition, report, useTestBed, waitFor } from "../support/locus.ts";

const bed = useTestBed();

describe("live fan-out to dashboards", () => {
  it("sends at most one batch per tick, carrying every new fix of each changed device once", async () => {
    await bed.start({ tickMs: 100 });
    const watcher = bed.dashboard();
    await waitFor(() => watcher.snapshots.length === 1, { what: "snapshot" });
    const devices = await Promise.all(Array.from({ length: 20 }, (_, i) => bed.device(`d${i}`)));

    // 20 devices × 10 reports, sent as fast as acks allow: 200 positions in well under a second.
    const last = new Map<string, number>();
    const sent = new Map<string, number[]>();
    const start = Date.now() - 60_000;
    await Promise.all(
      devices.map(async (socket, i) => {
        for (let n = 0; n < 10; n++) {
          const fix = makePosition({ ts: start + n * 1000, lat: 52 + i / 100, lon: 13 + n / 1e4 });
          await report(socket, fix);
          last.set(`d${i}`, fix.ts);
          sent.set(`d${i}`, [...(sent.get(`d${i}`) ?? []), fix.ts]);
        }
      }),
    );
    await waitFor(() => [...last].every(([id, ts]) => watcher.latest(id)?.ts === ts), {
      what: "every device's last fix on the dashboard",
    });

    const times = watcher.batches.map((b) => b.at);
    expect(watcher.batches.length).toBeLessThan(200 / 4);
    for (let i = 1; i < times.length; i++) {
      expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(50);
    }
    for (const { batch } of watcher.batches) {
      const ids = batch.devices.map((d) => d.id);
      expect(new Set(ids).size).toBe(ids.length);
    }
    // Fewer batches than reports, yet every fix reached the dashboard, in order, exactly once.
    for (const [id, times] of sent) expect(watcher.deliveredTimes(id)).toEqual(times);
  });

  it("ticks from the commit path when the tick timer cannot fire", async () => {
    // A saturated server can go seconds without running timers; a tick timer of a minute
    // stands in for that here, and the clock decides when a tick is due.
    let now = Date.now();
    const clock = { now: () => now };
    await bed.start({ tickMs: 60_000, offlineAfterMs: 600_000 }, { clock });
    const watcher = bed.dashboard();
    await waitFor(() => watcher.snapshots.length === 1, { what: "snapshot" });
    const van = await bed.device("van");
    const first = makePosition({ ts: now - 2000 });
    await report(van, first);
    expect(watcher.batches).toHaveLength(0);

    now += 60_000;
    const second = makePosition({ ts: now - 1000 });
    await report(van, second);
    await waitFor(() => watcher.latest("van")?.ts === second.ts, {
      what: "batch",
      timeoutMs: 2000,
    });
    expect(watcher.deliveredTimes("van")).toEqual([first.ts, second.ts]);
  });

  it("gives a reconnecting dashboard a fresh snapshot with what it missed", async () => {
    await bed.start({ tickMs: 50 });
    const watcher = bed.dashboard();
    const truck = await bed.device("truck-1");
    await report(truck, makePosition());
    await waitFor(() => watcher.snapshots.length === 1);

    watcher.socket.io.engine.close(); // the link drops; socket.io reconnects by itself
    const missed = makePosition({ lat: 52.5203 });
    await report(truck, missed);

    const second = await waitFor(() => watcher.snapshots[1], { what: "snapshot after reconnect" });
    expect(second.devices.find((d) => d.id === "truck-1")?.position).toEqual(missed);
  });

  it("serves a dashboard that starts on HTTP long-polling, as browsers do by default", async () => {
    const server = await bed.start();
    const socket = io(`${server.url}/live`, {
      forceNew: true,
      transports: ["polling"],
      extraHeaders: { cookie: server.adminCookie },
    });
    bed.track(socket);
    const snapshot = await new Promise((resolve) => socket.once("fleet:snapshot", resolve));
    expect(snapshot).toMatchObject({ devices: [] });
    // The HTTP side kept working next to socket.io's own requests.
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
  });

  it("never moves a device back to an older fix when a backlog arrives late", async () => {
    const server = await bed.start({ tickMs: 50 });
    const watcher = bed.dashboard();
    const car = await bed.device("car");
    const older = makePosition({ lat: 52.5201 });
    const newer = makePosition({ lat: 52.5202 });
    await report(car, newer);
    await waitFor(() => watcher.latest("car")?.ts === newer.ts);

    expect(await report(car, older)).toMatchObject({ accepted: 1 });
    await new Promise((r) => setTimeout(r, 150));

    expect(watcher.latest("car")).toEqual(newer);
    const history = await server.fetch("/api/devices/car/positions").then((r) => r.json());
    expect(history.positions.map((p: { ts: number }) => p.ts)).toEqual([older.ts, newer.ts]);
  });

  it("pushes moving, stopped and offline as they change", async () => {
    let now = Date.now();
    const clock = { now: () => now };
    const server = await bed.start({ tickMs: 50, offlineAfterMs: 60_000 }, { clock });
    const watcher = bed.dashboard();
    const bus = await bed.device("bus");
    const statusOf = () =>
      watcher.batches.at(-1)?.batch.devices.find((d) => d.id === "bus")?.status;

    await report(bus, makePosition({ speed: 9 }));
    await waitFor(() => statusOf() === "moving", { what: "moving" });
    await report(bus, makePosition({ speed: 0 }));
    await waitFor(() => statusOf() === "stopped", { what: "stopped" });
    // Without speed, the displacement between fixes decides: 10 m in 1 s is moving.
    const a = makePosition({ speed: undefined });
    await report(bus, [a, { ...a, ts: a.ts + 1000, lat: a.lat + 0.00009 }]);
    await waitFor(() => statusOf() === "moving", { what: "moving from displacement" });

    now += 61_000; // silence for longer than offlineAfterMs
    await waitFor(() => statusOf() === "offline", { what: "offline", timeoutMs: 3000 });
    const devices = await server.fetch("/api/devices").then((r) => r.json());
    expect(devices.devices).toEqual([expect.objectContaining({ id: "bus", status: "offline" })]);
  });
});
