import type { TestProject } from "vitest/node";
import { startPostgres, type LocalPostgres } from "./postgres.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The throwaway PostgreSQL of the `postgres` project (no other project gets one). */
    testPostgres: string | undefined;
  }
}

/**
 * Global set-up of the `postgres` test project: one throwaway PostgreSQL for the run, provided to
 * this project's files only (an environment variable would leak into the other projects of the
 * same run), where each test server then makes a database of its own (test-db.ts).
 */
let server: LocalPostgres | undefined;

export async function setup(project: TestProject): Promise<void> {
  server = await startPostgres();
  project.provide("testPostgres", server.url);
}

export function teardown(): void {
  server?.stop();
}
