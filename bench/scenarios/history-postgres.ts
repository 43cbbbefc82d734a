import { copyStore } from "../../server/stores/copy-store.ts";
import { startPostgres } from "../../scripts/services/postgres.ts";
import { historyDb } from "../lib/history-db.ts";
import type { ScenarioResult } from "../lib/report.ts";
import { Children, sessionCookie, startLocus, urlOf, waitForQuiet } from "./common.ts";
import { DAYS, measure, p50p99, percentile, queriesOf, REQUESTS, type Timed } from "./history.ts";

/**
 * `npm run bench -- history --store postgres`: the history scenario's year, day and week asked of
 * Locus on PostgreSQL, beside Locus on the SQLite file the same data came from (same run). The
 * PostgreSQL database is made by `locus copy-store` from the cached SQLite one, levels included.
 */
export async function historyPostgres(): Promise<ScenarioResult> {
  console.log(`  database: one car, ${DAYS} days at 1 Hz (cached after the first run)…`);
  const made = await historyDb(DAYS);
  const q = queriesOf(made);
  const postgres = await startPostgres();
  const children = new Children();
  try {
    console.log(`  copy-store into PostgreSQL (${q.totalRows.toLocaleString("en")} fixes)…`);
    const t0 = performance.now();
    let shown = 0;
    const copied = await copyStore({
      from: made.file,
      to: postgres.url,
      onProgress: ({ copied, total }) => {
        if (copied - shown < total / 10) return;
        shown = copied;
        console.log(`    ${Math.round((copied / total) * 100)} %`);
      },
    });
    const copyS = (performance.now() - t0) / 1000;

    const ask = async (db: string) => {
      const server = await startLocus(children, db);
      const url = urlOf(server);
      const cookie = await sessionCookie(url);
      await waitForQuiet([server.child.pid!], 60_000);
      const out: Record<"year" | "day" | "week", Timed> = {
        year: await measure(url, cookie, q.paths.year),
        day: await measure(url, cookie, q.paths.day),
        week: await measure(url, cookie, q.paths.week),
      };
      await children.stopAll();
      return out;
    };
    console.log("  asking Locus on PostgreSQL…");
    const pg = await ask(postgres.url);
    console.log("  asking Locus on SQLite…");
    const lite = await ask(made.file);

    const yearMs = percentile(pg.year.serverMs, 0.5);
    return {
      scenario: `history on PostgreSQL (one car, ${DAYS} days at 1 Hz = ${q.rows.toLocaleString("en")} fixes among ${q.totalRows.toLocaleString("en")}; ${REQUESTS} requests each)`,
      figures: {
        [`year, zoom ${q.whole.zoom} + view bbox: server ms p50 / p99`]: p50p99(pg.year.serverMs),
        "year: client wall ms p50 / p99": p50p99(pg.year.wallMs),
        "year: vertices / segments": `${pg.year.vertices} / ${pg.year.segments}`,
        "day raw (tolerance=0): server ms p50 / p99": p50p99(pg.day.serverMs),
        "week, zoom 12: server ms p50 / p99": p50p99(pg.week.serverMs),
        "target: year < 300 ms server p50": yearMs < 300 ? "met" : "MISSED",
        "Server-Timing of the last year request": pg.year.timing,
        "copy-store: rows / seconds": `${copied.copied.toLocaleString("en")} / ${copyS.toFixed(0)}`,
      },
      baseline: {
        "Locus on SQLite, year: server ms p50 / p99": p50p99(lite.year.serverMs),
        "Locus on SQLite, year: vertices / segments": `${lite.year.vertices} / ${lite.year.segments}`,
        "Locus on SQLite, day raw: server ms p50 / p99": p50p99(lite.day.serverMs),
        "Locus on SQLite, week: server ms p50 / p99": p50p99(lite.week.serverMs),
      },
      ratio: yearMs / percentile(lite.year.serverMs, 0.5),
      notes:
        "Same queries as `history`, same data (copied with levels), PostgreSQL 15 on the same 2 cores " +
        "with default memory settings (shared_buffers 128 MB). Ratio: year server p50, PostgreSQL / SQLite.",
    };
  } finally {
    await children.stopAll();
    postgres.stop();
  }
}
