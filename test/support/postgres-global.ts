import { startPostgres, type LocalPostgres } from "./postgres.ts";

/**
 * Global set-up of the `postgres` test project: one throwaway PostgreSQL for the run, named to
 * every test file by LOCUS_TEST_POSTGRES (each test server then makes a database of its own).
 */
let server: LocalPostgres | undefined;

export async function setup(): Promise<void> {
  server = await startPostgres();
  process.env.LOCUS_TEST_POSTGRES = server.url;
}

export function teardown(): void {
  server?.stop();
}
