import { timingSafeEqual } from "node:crypto";
import type { Db } from "./database.ts";
import { hash, newSecret } from "./secrets.ts";

export interface RegisteredDevice {
  deviceId: string;
  createdAt: number;
  hasToken: boolean;
}

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
      tokenHash: db.prepare("SELECT token_hash FROM devices WHERE uid = ?").raw(),
      exists: db.prepare("SELECT 1 FROM devices WHERE uid = ?").pluck(),
      list: db
        .prepare("SELECT uid, created_at, token_hash IS NOT NULL FROM devices ORDER BY uid")
        .raw(),
    };
  }

  /** Register a device (or replace its token) and return the new token: the only time it is seen. */
  issueToken(deviceId: string, now = Date.now()): string {
    const token = newSecret("lct_");
    this.stmt.upsert.run(deviceId, now, hash(token));
    return token;
  }

  /** "unknown": never registered or no token issued; otherwise whether the token matches. */
  verify(
    deviceId: string,
    token: string | undefined,
  ): "match" | "mismatch" | "missing" | "unknown" {
    const row = this.stmt.tokenHash.get(deviceId) as [string | null] | undefined;
    const stored = row?.[0];
    if (!stored) return "unknown";
    if (token === undefined || token === "") return "missing";
    const given = Buffer.from(hash(token), "hex");
    return timingSafeEqual(given, Buffer.from(stored, "hex")) ? "match" : "mismatch";
  }

  /** Whether the device is known: registered here, or created by its first report. */
  exists(deviceId: string): boolean {
    return this.stmt.exists.get(deviceId) !== undefined;
  }

  list(): RegisteredDevice[] {
    return (this.stmt.list.all() as [string, number, number][]).map(
      ([deviceId, createdAt, has]) => ({
        deviceId,
        createdAt,
        hasToken: has === 1,
      }),
    );
  }
}
