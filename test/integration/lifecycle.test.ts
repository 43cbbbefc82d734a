import { connect } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import {
  connectDevice,
  Dashboard,
  makePosition,
  report,
  startTestLocus,
  storedRows,
  waitFor,
  type TestLocus,
} from "../support/locus.ts";

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe("server lifecycle", () => {
  it("keeps every position across a restart on the same database file", async () => {
    const first = await startTestLocus();
    const truck = await connectDevice(first.url, "truck-17");
    const fixes = [makePosition(), makePosition(), makePosition({ lat: 52.5201 })];
    await report(truck, fixes);
    truck.close();
    await first.stop();

    const second = await startTestLocus({}, { db: first.db });
    cleanup.push(
      () => first.dispose(),
      () => second.dispose(),
    );
    const history = await second.fetch("/api/devices/truck-17/positions").then((r) => r.json());
    expect(history.positions).toEqual(fixes);
    const watcher = new Dashboard(second.url, second.adminCookie);
    cleanup.push(() => watcher.close());
    const snapshot = await waitFor(() => watcher.snapshots[0], { what: "snapshot" });
    expect(snapshot.devices).toEqual([
      expect.objectContaining({ id: "truck-17", position: fixes[2] }),
    ]);
  });

  it("on shutdown commits and acks the reports still waiting for their group commit", async () => {
    // A long commit delay holds the reports in the queue until close() forces the commit.
    const server: TestLocus = await startTestLocus({ commitDelayMs: 30_000 });
    cleanup.push(() => server.dispose());
    const devices = await Promise.all(["a", "b", "c"].map((id) => connectDevice(server.url, id)));
    cleanup.push(() => devices.forEach((d) => d.close()));
    const acks = devices.map((d) => report(d, makePosition()));
    await waitFor(() => server.locus.stores.positions.stats().queued === 3, {
      what: "3 queued rows",
    });

    const started = Date.now();
    await server.stop();

    expect(await Promise.all(acks)).toEqual(
      devices.map(() => ({ ok: true, accepted: 1, duplicates: 0, rejected: [] })),
    );
    expect(Date.now() - started).toBeLessThan(5000);
    for (const id of ["a", "b", "c"]) expect(await storedRows(server.db, id)).toHaveLength(1);
  });

  it("does not let a peer that never speaks hold the shutdown", async () => {
    // A balancer's idle upstream, or a half-open link: connected, silent, never closing.
    const server: TestLocus = await startTestLocus();
    cleanup.push(() => server.dispose());
    const silent = connect(Number(new URL(server.url).port), "127.0.0.1");
    await new Promise((resolve) => silent.once("connect", resolve));
    const cut = new Promise((resolve) => silent.once("close", resolve));

    const started = Date.now();
    await server.stop();

    await cut;
    // The grace is 3 s; without the cut, Node's HTTP server would wait on it for minutes.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_900);
  });
});
