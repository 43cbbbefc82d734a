import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Config } from "../../server/config.ts";
import { startTestLocus, type TestLocus } from "./locus.ts";
import { startPostgres, type LocalPostgres } from "./postgres.ts";

/**
 * The stores a cluster test runs on: PostgreSQL, what a cluster runs on, and one SQLite file that
 * several nodes on one machine share (WAL), which is enough to develop delivery across nodes.
 */
export type ClusterStore = "sqlite" | "postgres";
export const CLUSTER_STORES: ClusterStore[] = ["sqlite", "postgres"];

export interface TestCluster {
  nodes: TestLocus[];
  /** Stop every node and remove the store. */
  dispose(): Promise<void>;
}

/** A store for a cluster of test nodes to share: what `--db` takes, and how to remove it. */
async function sharedStore(store: ClusterStore) {
  if (store === "postgres") {
    const pg: LocalPostgres = await startPostgres();
    return { db: pg.url, remove: () => pg.stop() };
  }
  const dir = mkdtempSync(join(tmpdir(), "locus-cluster-"));
  return { db: join(dir, "locus.db"), remove: () => rmSync(dir, { recursive: true, force: true }) };
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
      const settings = { redisUrl: options.redisUrl, ...options.overrides };
      nodes.push(await startTestLocus(settings, { db: store.db }));
    }
  } catch (err) {
    await dispose();
    throw err;
  }
  return { nodes, dispose };
}
