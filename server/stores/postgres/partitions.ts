import type pg from "pg";

/** Partition name and bounds (epoch ms, UTC) of the month holding `ts`. */
export function monthOf(ts: number): { name: string; from: number; to: number } {
  const d = new Date(ts);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const name = `positions_${year}_${String(month + 1).padStart(2, "0")}`;
  return { name, from: Date.UTC(year, month, 1), to: Date.UTC(year, month + 1, 1) };
}

/** The error codes of a CREATE that another node won by a hair. */
const ALREADY_CREATED = new Set(["42P07", "23505"]);

/**
 * The monthly partitions of `positions`. The node that leads background work creates this month's
 * and the next ones ahead (ensureAhead), so live fixes never wait for one; a fix outside them (an
 * import of old history) gets its month created before its batch is written (ensureFor). Fixes
 * cannot be older than 2000 (the position schema), which bounds how many months a device can make.
 */
export class Partitions {
  private readonly known = new Set<string>();

  constructor(private readonly pool: pg.Pool) {}

  /** Learn which months exist (at start: other nodes may have created them). */
  async load(): Promise<void> {
    const { rows } = await this.pool.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'positions'::regclass`,
    );
    for (const { name } of rows) this.known.add(name);
  }

  /** Create the months of these fix times that do not exist yet. */
  async ensureFor(times: Iterable<number>): Promise<void> {
    let last = "";
    for (const ts of times) {
      const month = monthOf(ts);
      if (month.name === last || this.known.has(month.name)) continue;
      last = month.name;
      await this.create(month);
    }
  }

  /**
   * The month of `now` and `monthsAhead` after it, those missing only; resolves with the names
   * created.
   */
  async ensureAhead(now: number, monthsAhead = 2): Promise<string[]> {
    const created: string[] = [];
    let month = monthOf(now);
    for (let i = 0; i <= monthsAhead; i++, month = monthOf(month.to)) {
      if (this.known.has(month.name)) continue;
      if (await this.create(month)) created.push(month.name);
    }
    return created;
  }

  private async create(month: { name: string; from: number; to: number }): Promise<boolean> {
    try {
      // Name and bounds are computed from a number: no user text reaches this statement.
      const result = await this.pool.query(`SELECT to_regclass($1) IS NULL AS missing`, [
        month.name,
      ]);
      if (result.rows[0].missing) {
        await this.pool.query(
          `CREATE TABLE ${month.name} PARTITION OF positions
             FOR VALUES FROM (${month.from}) TO (${month.to})`,
        );
        this.known.add(month.name);
        return true;
      }
    } catch (err) {
      if (!ALREADY_CREATED.has((err as { code?: string }).code ?? "")) throw err;
    }
    this.known.add(month.name);
    return false;
  }
}
