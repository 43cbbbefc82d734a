import { randomBytes } from "node:crypto";
import type { Logger } from "../logger.ts";
import type { UserStore } from "../store/user-store.ts";

export const FIRST_ADMIN = "admin";

/**
 * On first run (no users at all) create the `admin` user, with LOCUS_ADMIN_PASSWORD or a random
 * password printed once: no default credentials ever exist.
 */
export async function ensureFirstAdmin(
  users: UserStore,
  password: string,
  logger: Logger,
): Promise<void> {
  if (users.count() > 0) return;
  const chosen = password || randomBytes(12).toString("base64url");
  await users.create({ name: FIRST_ADMIN, role: "admin", devices: "all", password: chosen });
  if (password) {
    logger.warn({ user: FIRST_ADMIN }, "created the first admin with LOCUS_ADMIN_PASSWORD");
    return;
  }
  logger.warn({ user: FIRST_ADMIN }, "created the first admin; its password is on stderr, once");
  // Plain text on stderr, not in the JSON log: a person must read it, log shippers should not.
  process.stderr.write(
    `\n  Locus, first run: sign in as "${FIRST_ADMIN}" with password ${chosen}\n` +
      "  It is shown only now. (Set LOCUS_ADMIN_PASSWORD before the first run to choose it.)\n\n",
  );
}
