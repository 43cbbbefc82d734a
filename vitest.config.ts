import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vitest/config";

/** Integration tests whose subject is stored state: they run on SQLite and again on PostgreSQL. */
const STORAGE_FACING = [
  "ingest",
  "lifecycle",
  "devices-admin",
  "device-auth",
  "people",
  "people-admin",
  "history-api",
  "history-analysis",
  "history-export",
  "history-import",
  "history-tools",
  "track",
  "live",
  "plain-ws",
  "osmand-reports",
  "osmand-identity",
  "owntracks",
  "rule-book",
  "fuzz",
  "security",
  "geofence-store",
  "geofence-events",
  "geofence-ground-truth",
  "webhooks",
  "webhooks-crash",
  "webhook-outbox",
];

// Vite's root is web/ (vite.config.ts); tests live at the repo root, so Vitest gets its own config.
export default defineConfig({
  test: {
    projects: [
      {
        // Compiles the dashboard's runes (state/*.svelte.ts) so its state classes are unit-tested.
        plugins: [svelte({ configFile: false })],
        test: {
          name: "unit",
          root: ".",
          include: ["test/unit/**/*.test.ts", "test/integration/**/*.test.ts"],
          environment: "node",
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: "chaos",
          root: ".",
          include: ["test/chaos/**/*.test.ts"],
          environment: "node",
          testTimeout: 180_000,
          // Each file loads the machine on its own (a fleet, a million-point export): one at a time.
          fileParallelism: false,
        },
      },
      {
        test: {
          // Real PostgreSQL (and, next, Redis and several nodes) started by each file on free ports.
          name: "scale",
          root: ".",
          include: ["test/scale/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          // One suite, two stores: the integration tests that store and read, on PostgreSQL.
          name: "postgres",
          root: ".",
          include: STORAGE_FACING.map((name) => `test/integration/${name}.test.ts`),
          globalSetup: ["test/support/postgres-global.ts"],
          environment: "node",
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "browser",
          root: ".",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
