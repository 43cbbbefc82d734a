import { record, type ScenarioResult } from "./lib/report.ts";
import { connections } from "./scenarios/connections.ts";
import { dashboard } from "./scenarios/dashboard.ts";
import { history } from "./scenarios/history.ts";
import { ingest } from "./scenarios/ingest.ts";
import { ingestGeofences } from "./scenarios/ingest-geofences.ts";
import { historyPostgres } from "./scenarios/history-postgres.ts";
import { ingestPostgres } from "./scenarios/ingest-postgres.ts";
import { latencyCluster } from "./scenarios/latency-cluster.ts";
import { latency } from "./scenarios/latency.ts";
import { simulator } from "./scenarios/simulator.ts";

/** `npm run bench [-- scenario ...]`: run the named scenarios (all by default) and record them. */
const SCENARIOS: Record<string, () => Promise<ScenarioResult>> = {
  ingest,
  simulator,
  latency,
  connections,
  dashboard,
  history,
};

/**
 * Variants chosen by options: `ingest --store postgres` (PostgreSQL beside SQLite in the same run).
 */
const VARIANTS: Record<string, () => Promise<ScenarioResult>> = {
  "ingest --store postgres": ingestPostgres,
  "history --store postgres": historyPostgres,
  "latency --nodes 2": latencyCluster,
  "ingest --geofences 10000 --rules 100": ingestGeofences,
};

const args = process.argv.slice(2).filter((a) => a !== "--");
const options: string[] = [];
const wanted: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i]!.startsWith("--")) options.push(`${args[i]} ${args[++i] ?? ""}`.trim());
  else wanted.push(args[i]!);
}
if (options.length > 0) {
  const variant = `${wanted.join(" ")} ${options.join(" ")}`;
  const run = VARIANTS[variant];
  if (!run) {
    console.error(`unknown variant "${variant}"; choose from ${Object.keys(VARIANTS).join(", ")}`);
    process.exit(2);
  }
  console.log(`\nrunning ${variant}…`);
  record(await run());
  process.exit(0);
}
const unknown = wanted.filter((w) => !(w in SCENARIOS));
if (unknown.length > 0) {
  console.error(
    `unknown scenario ${unknown.join(", ")}; choose from ${Object.keys(SCENARIOS).join(", ")}`,
  );
  process.exit(2);
}
for (const name of wanted.length > 0 ? wanted : Object.keys(SCENARIOS)) {
  console.log(`\nrunning ${name}…`);
  record(await SCENARIOS[name]!());
}
