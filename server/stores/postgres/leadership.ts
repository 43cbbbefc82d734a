import pg from "pg";
import type { Logger } from "../../logger.ts";

/** Any constant shared by every node: the lock of the one node that runs background work. */
const BACKGROUND_LOCK = 0x10c05 + 1;
const RETRY_MS = 2000;

/**
 * Which node runs the work that must run once (level building, partition upkeep): the one holding
 * a session-level advisory lock on its own connection. When that node dies or loses its
 * connection, PostgreSQL releases the lock and another node takes it within RETRY_MS.
 */
export class Leadership {
  private client: pg.Client | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private leading = false;

  constructor(
    private readonly url: string,
    private readonly logger: Logger,
  ) {}

  /** Try once now (so a single node leads from its start), then keep trying while not leading. */
  async start(): Promise<void> {
    await this.attempt();
  }

  get leads(): boolean {
    return this.leading;
  }

  private async attempt(): Promise<void> {
    this.timer = null;
    if (this.closed) return;
    try {
      if (!this.client) {
        const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5000 });
        client.on("error", () => this.lost(client));
        client.on("end", () => this.lost(client));
        await client.connect();
        this.client = client;
      }
      const { rows } = await this.client.query<{ ok: boolean }>(
        "SELECT pg_try_advisory_lock($1) AS ok",
        [BACKGROUND_LOCK],
      );
      if (rows[0]!.ok && !this.leading) this.logger.info("this node runs the background work");
      this.leading = rows[0]!.ok;
    } catch {
      this.leading = false;
    }
    if (!this.leading && !this.closed) this.timer = setTimeout(() => void this.attempt(), RETRY_MS);
  }

  private lost(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = null;
    if (this.leading) this.logger.warn("lost the background-work lock; trying to take it again");
    this.leading = false;
    if (!this.closed && !this.timer) {
      this.timer = setTimeout(() => void this.attempt(), RETRY_MS);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    this.leading = false;
    await client?.end().catch(() => {});
  }
}
