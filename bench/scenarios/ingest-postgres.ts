import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres } from "../../scripts/services/postgres.ts";
import type { ScenarioResult } from "../lib/report.ts";
import { Children, sessionCookie, startLocus, urlOf } from "./common.ts";
import {
  ackedRate,
  BATCH,
  cpuFigures,
  DASHBOARDS,
  DEVICES,
  drive,
  each,
  median,
  ROUNDS,
  type Run,
} from "./ingest.ts";

/**
 * `npm run bench -- ingest --store postgres`: the ingest load on Locus over PostgreSQL, against
 * Locus over SQLite in the same run (the same load, rounds interleaved as in `ingest`). PostgreSQL
 * runs on the same two cores, with its durability settings left at their defaults (fsync on,
 * synchronous_commit on): an ack still means "committed".
 */
export async function ingestPostgres(): Promise<ScenarioResult> {
  const dir = mkdtempSync(join(tmpdir(), "locus-bench-"));
  const children = new Children();
  const postgres = await startPostgres({ durable: true });
  try {
    const onSqlite = await startLocus(children, join(dir, "locus.db"));
    const onPostgres = await startLocus(children, postgres.url);
    const servers = [onSqlite, onPostgres].map((s) => ({ s, url: urlOf(s) }));
    const cookies = await Promise.all(servers.map((x) => sessionCookie(x.url)));
    const driveSqlite = () => drive(servers[0]!.url, onSqlite.child.pid!, { cookie: cookies[0] });
    const drivePostgres = () =>
      drive(servers[1]!.url, onPostgres.child.pid!, { cookie: cookies[1] });
    const rounds: { sqlite: Run; postgres: Run; ratio: number }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      let sqlite: Run, pg: Run;
      if (r % 2 === 0) {
        sqlite = await driveSqlite();
        pg = await drivePostgres();
      } else {
        pg = await drivePostgres();
        sqlite = await driveSqlite();
      }
      rounds.push({ sqlite, postgres: pg, ratio: ackedRate(pg) / ackedRate(sqlite) });
    }
    const mid = median(rounds, (r) => ackedRate(r.postgres));
    const rate = (v: number) => Math.round(v).toLocaleString("en");
    const run = mid.postgres;
    return {
      scenario: `ingest on PostgreSQL (${DEVICES} devices, batches of ${BATCH}, ${DASHBOARDS} dashboards, ${ROUNDS} rounds)`,
      figures: {
        "positions/s acknowledged (committed), median round": Math.round(ackedRate(run)),
        "positions/s acknowledged, each round": each(
          rounds.map((r) => ackedRate(r.postgres)),
          rate,
        ),
        "ack p50 / p99 ms": `${run.deviceResult.ackP50} / ${run.deviceResult.ackP99}`,
        "CPU % of one core: Locus / device load / dashboard load": cpuFigures(run.cpu),
        "transactions/s, rows each": run.commits
          ? `${Math.round(run.commits.perSecond)}, ${Math.round(run.commits.rowsEach)}`
          : "n/a",
        "errors, all rounds": rounds.reduce(
          (n, r) => n + (r.postgres.deviceResult.errors as number),
          0,
        ),
        "ratio to SQLite, each round": each(
          rounds.map((r) => r.ratio),
          (x) => x.toFixed(2),
        ),
      },
      baseline: {
        "Locus on SQLite positions/s acknowledged, same round": Math.round(ackedRate(mid.sqlite)),
        "Locus on SQLite positions/s, each round": each(
          rounds.map((r) => ackedRate(r.sqlite)),
          rate,
        ),
        "Locus on SQLite ack p50 / p99 ms": `${mid.sqlite.deviceResult.ackP50} / ${mid.sqlite.deviceResult.ackP99}`,
        "Locus on SQLite CPU %: Locus / device load / dashboard load": cpuFigures(mid.sqlite.cpu),
      },
      ratio: median(rounds, (r) => r.ratio).ratio,
      notes:
        "PostgreSQL 15 runs on the same 2 cores as Locus and the load generators (its CPU is not in the " +
        "Locus figure). Headline: the median of the rounds' ratios PostgreSQL / SQLite; the target is ≥ 0.5.",
    };
  } finally {
    await children.stopAll();
    postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
