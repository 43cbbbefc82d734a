import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { configSchema, type Config } from "../../server/config.ts";
import { startTestLocus, type TestLocus } from "./locus.ts";
import { startPostgres, type LocalPostgres } from "./postgres.ts";

/**
 * The stores a cluster test runs on. Several nodes share one SQLite file on one machine (WAL);
 * PostgreSQL joins once the server has a setting for it.
 */
export type ClusterStore = "sqlite" | "postgres";
export const CLUSTER_STORES: ClusterStore[] =
  "database" in configSchema.shape ? ["sqlite", "postgres"] : ["sqlite"];

export interface TestCluster {
  nodes: TestLocus[];
  /** Stop every node and remove the store. */
  dispose(): Promise<void>;
}

/** A shared store for a cluster of test nodes, and the settings that point a node at it. */
async function sharedStore(store: ClusterStore) {
  if (store === "postgres") {
    const pg: LocalPostgres = await startPostgres();
    // `database` is the PostgreSQL store's setting (the key is absent before it exists).
    const settings = { database: pg.url } as Partial<Config>;
    return { settings, dbPath: undefined, remove: () => pg.stop() };
  }
  const dir = mkdtempSync(join(tmpdir(), "locus-cluster-"));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  return { settings: {}, dbPath: join(dir, "locus.db"), remove };
}

/**
 * `count` Locus nodes in this process (each a full startLocus: its own HTTP server, socket.io,
 * storage worker), on one shared store, joined through the Redis at `redisUrl`. Started one
 * after the other, so only the first creates the admin.
 */
export async function startCluster(
  count: number,
  options: { store: ClusterStore; redisUrl: string; overrides?: Partial<Config> },
): Promise<TestCluster> {
  const store = await sharedStore(options.store);
  const nodes: TestLocus[] = [];
  const dispose = async () => {
    // dispose() removes only a folder the node made itself, never the shared file.
    for (const node of nodes.splice(0)) await node.dispose().catch(() => {});
    store.remove();
  };
  try {
    for (let i = 0; i < count; i++) {
      const settings = { ...store.settings, redisUrl: options.redisUrl, ...options.overrides };
      nodes.push(await startTestLocus(settings, { dbPath: store.dbPath }));
    }
  } catch (err) {
    await dispose();
    throw err;
  }
  return { nodes, dispose };
}
