import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { SETTINGS } from "../../server/config.ts";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "locus-help-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The entry point as `npm start` / `npm run demo` run it. A server that started would never exit, so
 * the timeout fails the test; the database file it would have created is checked too.
 */
async function help(entry: string, ...args: string[]) {
  const db = join(dir, `${args.join("")}.db`);
  const { stdout, stderr } = await run(
    process.execPath,
    ["--import", "tsx", entry, "--db", db, ...args],
    // A bad PORT: help must not depend on a valid configuration.
    { timeout: 15_000, env: { ...process.env, PORT: "not-a-port" } },
  );
  expect(existsSync(db)).toBe(false);
  expect(stderr).toBe("");
  return stdout;
}

function expectEverySetting(stdout: string) {
  for (const s of SETTINGS) {
    expect(stdout).toContain(`  --${s.flag}`);
    expect(stdout).toContain(`env ${s.env} `);
  }
}

describe("--help", () => {
  it("npm start -- --help lists every setting and exits 0 without starting", async () => {
    const stdout = await help("server/main.ts", "--build-if-stale", "--help");
    expect(stdout).toMatch(/^usage: npm start -- \[flags\]/);
    expectEverySetting(stdout);
    expect(stdout).toContain("env PORT · default 3000 · an integer ≥ 0");
    expect(stdout).toContain("env LOCUS_ADMIN_PASSWORD · default random, printed once");
  });

  it("-h is the same", async () => {
    expectEverySetting(await help("server/main.ts", "-h"));
  });

  it("npm run demo -- --help lists the demo's flags, then the server's", async () => {
    const stdout = await help("server/demo.ts", "--vehicles", "3", "--help");
    expect(stdout).toMatch(/^usage: npm run demo -- /);
    const demoFlags = stdout.indexOf("Demo flags:");
    const settings = stdout.indexOf("Server settings:");
    expect(demoFlags).toBeGreaterThan(0);
    expect(settings).toBeGreaterThan(demoFlags);
    expect(stdout.slice(demoFlags, settings)).toMatch(/--vehicles N .*\n\s+--dev /s);
    expectEverySetting(stdout);
  });
});
