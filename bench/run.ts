import { record, type ScenarioResult } from "./lib/report.ts";
import { connections } from "./scenarios/connections.ts";
import { dashboard } from "./scenarios/dashboard.ts";
import { history } from "./scenarios/history.ts";
import { ingest } from "./scenarios/ingest.ts";
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

const wanted = process.argv.slice(2).filter((a) => a !== "--");
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
