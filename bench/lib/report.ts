import { execSync } from "node:child_process";
import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { REPO } from "./proc.ts";

export interface ScenarioResult {
  scenario: string;
  /** What was measured, in display order, with units in the keys. */
  figures: Record<string, number | string>;
  /** The same-run baseline it is compared with. */
  baseline: Record<string, number | string>;
  /** Headline ratio: Locus / baseline. */
  ratio: number;
  notes: string;
}

const RESULTS = join(REPO, "bench", "RESULTS.md");

function machine() {
  let commit = "unknown";
  try {
    commit = execSync("git rev-parse --short HEAD", { cwd: REPO }).toString().trim();
  } catch {
    // not a git checkout: keep "unknown"
  }
  return {
    date: new Date().toISOString(),
    commit,
    node: process.version,
    cpu: `${cpus()[0]?.model ?? "unknown"} × ${cpus().length}`,
  };
}

const fmt = (v: number | string) =>
  typeof v === "number" ? (Number.isInteger(v) ? v.toLocaleString("en") : v.toFixed(2)) : v;

/** Print a result as a table and one JSON line, and append it to bench/RESULTS.md. */
export function record(result: ScenarioResult): void {
  const meta = machine();
  const rows = [
    ...Object.entries(result.figures).map(([k, v]) => `| ${k} | ${fmt(v)} |`),
    ...Object.entries(result.baseline).map(([k, v]) => `| baseline: ${k} | ${fmt(v)} |`),
    `| ratio (Locus / baseline) | ${result.ratio.toFixed(2)} |`,
  ];
  const table = ["| figure | value |", "|---|---|", ...rows].join("\n");
  console.log(`\n## ${result.scenario}\n${table}\n${result.notes}`);
  console.log(JSON.stringify({ ...meta, ...result }));
  if (!existsSync(RESULTS))
    writeFileSync(RESULTS, "# Benchmark results\n\nAppended by `npm run bench`.\n");
  appendFileSync(
    RESULTS,
    `\n### ${result.scenario} — ${meta.date.slice(0, 16).replace("T", " ")} UTC, ${meta.commit}, Node ${meta.node}, ${meta.cpu}\n\n${table}\n\n${result.notes}\n`,
  );
}
