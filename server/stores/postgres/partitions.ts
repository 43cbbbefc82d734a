import type pg from "pg";

/** Partition name and bounds (epoch ms, UTC) of the month holding `ts`. */
export function monthOf(ts: number): { name: string; from: number; to: number } {
  const d = new Date(ts);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  const name = `positions_${year}_${String(month + 1).padStart(2, "0")}`;
  return { name, from: Date.UTC(year, month, 1), to: Date.UTC(year, month + 1, 1) };
}

/**
 * Create the monthly partitions of `positions` from the month of `from` through `monthsAhead`
 * months after `now`, those missing only. The server runs this at start and daily, so a fix never
 * finds no partition; fixes outside (an old import) get theirs created before they are written.
 */
export async function ensurePartitions(
  pool: pg.Pool,
  from: number,
  now: number,
  monthsAhead = 2,
): Promise<string[]> {
  const last = monthOf(now);
  const end = new Date(last.from);
  end.setUTCMonth(end.getUTCMonth() + monthsAhead);
  const created: string[] = [];
  for (let month = monthOf(from); month.from <= end.getTime(); month = monthOf(month.to)) {
    // Bounds are integers we computed: no user input reaches this text.
    const result = await pool.query(`SELECT to_regclass($1) IS NULL AS missing`, [month.name]);
    if (!result.rows[0].missing) continue;
    await pool.query(
      `CREATE TABLE IF NOT EXISTS ${month.name} PARTITION OF positions
         FOR VALUES FROM (${month.from}) TO (${month.to})`,
    );
    created.push(month.name);
  }
  return created;
}
