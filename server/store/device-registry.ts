import { timingSafeEqual } from "node:crypto";
import type { AdminDevice } from "../../protocol/index.ts";
import type { Db } from "./database.ts";
import { hash, newSecret } from "./secrets.ts";

export type RegisteredDevice = AdminDevice;

/** How a device's credentials compare with what is registered for it. */
export type Verdict = "match" | "mismatch" | "missing" | "unknown" | "id_only";

/**
 * Device secrets. A token is 32 random bytes shown once and stored only as its SHA-256: a slow
 * password hash (argon2, bcrypt) protects guessable passwords, but a 256-bit random token cannot
 * be guessed, and the fast hash keeps each device handshake cheap.
 */
export class DeviceRegistry {
  private readonly stmt;

  constructor(db: Db) {
    this.stmt = {
      upsert: db.prepare(
        `INSERT INTO devices (uid, created_at, token_hash) VALUES (?, ?, ?)
         ON CONFLICT (uid) DO UPDATE SET token_hash = excluded.token_hash`,
      ),
      setIdOnly: db.prepare(
        `INSERT INTO devices (uid, created_at, id_only) VALUES (?, ?, ?)
         ON CONFLICT (uid) DO UPDATE SET id_only = excluded.id_only`,
      ),
      credentials: db.prepare("SELECT token_hash, id_only FROM devices WHERE uid = ?").raw(),
      list: db
        .prepare(
          "SELECT uid, created_at, token_hash IS NOT NULL, id_only FROM devices ORDER BY uid",
        )
        .raw(),
    };
  }

  /** Register a device (or replace its token) and return the new token: the only time it is seen. */
  issueToken(deviceId: string, now = Date.now()): string {
    const token = newSecret("lct_");
    this.stmt.upsert.run(deviceId, now, hash(token));
    return token;
  }

  /**
   * Let a device report by its identifier alone (phone apps that cannot send a secret), or stop
   * it. Registers the device when it is new; a token it has keeps working either way.
   */
  setIdOnly(deviceId: string, allowed: boolean, now = Date.now()): void {
    this.stmt.setIdOnly.run(deviceId, now, allowed ? 1 : 0);
  }

  /**
   * "unknown": never registered, or registered without a token and not allowed by id alone.
   * "id_only": no token was presented (or none was ever issued) and the device may report by id.
   * A token that is presented is always checked: a wrong one is refused even for an id-only device.
   */
  verify(deviceId: string, token: string | undefined): Verdict {
    const row = this.stmt.credentials.get(deviceId) as [string | null, number] | undefined;
    if (!row) return "unknown";
    const [stored, idOnly] = row;
    const presented = token !== undefined && token !== "";
    if (idOnly === 1 && (!presented || !stored)) return "id_only";
    if (!stored) return "unknown";
    if (!presented) return "missing";
    const given = Buffer.from(hash(token), "hex");
    return timingSafeEqual(given, Buffer.from(stored, "hex")) ? "match" : "mismatch";
  }

  list(): RegisteredDevice[] {
    return (this.stmt.list.all() as [string, number, number, number][]).map(
      ([deviceId, createdAt, has, idOnly]) => ({
        deviceId,
        createdAt,
        hasToken: has === 1,
        idOnly: idOnly === 1,
      }),
    );
  }
}
