/**
 * Numbered schema migrations. Entry i brings the database from `user_version` i to i + 1.
 * Append only: a released migration is never edited, because databases in the field already ran it.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: devices and their positions.
  `
  CREATE TABLE devices (
    id         INTEGER PRIMARY KEY,
    uid        TEXT NOT NULL UNIQUE,   -- the public device id, e.g. "truck-17"
    created_at INTEGER NOT NULL        -- epoch ms
  );

  -- WITHOUT ROWID clustered on (device, ts): a device's history is contiguous on disk, so a time
  -- range is one sequential read, and the key doubles as the duplicate check (same device + ts).
  -- No FOREIGN KEY clause: enforcing it would cost a lookup per inserted row, and only the store
  -- writes here, always with an id it just resolved.
  CREATE TABLE positions (
    device      INTEGER NOT NULL,
    ts          INTEGER NOT NULL,      -- fix time, epoch ms UTC
    lat         REAL NOT NULL,
    lon         REAL NOT NULL,
    speed       REAL,                  -- m/s
    course      REAL,                  -- degrees clockwise from north
    alt         REAL,                  -- metres
    accuracy    REAL,                  -- metres
    battery     REAL,                  -- percent
    attributes  TEXT,                  -- JSON object, NULL when absent
    received_at INTEGER NOT NULL,      -- server clock at ingest, epoch ms
    PRIMARY KEY (device, ts)
  ) WITHOUT ROWID;
  `,
  // 2: implausible fixes are kept but flagged with a reason (NULL = plausible).
  `ALTER TABLE positions ADD COLUMN flag TEXT;`,
  // 3: device secrets, stored only as SHA-256 hashes (NULL: no token issued yet).
  `ALTER TABLE devices ADD COLUMN token_hash TEXT;`,
  // 4: people. Passwords as argon2id hashes; sessions and API tokens as SHA-256 hashes of random
  // secrets. Grants name devices by their public id, so a grant may precede the device's first fix.
  `
  CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
    all_devices   INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
  );
  CREATE TABLE user_devices (
    user_id    INTEGER NOT NULL,
    device_uid TEXT NOT NULL,
    PRIMARY KEY (user_id, device_uid)
  ) WITHOUT ROWID;
  CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 5: phone apps (OsmAnd, Traccar Client, OwnTracks…) often cannot send a secret: an admin may let
  // one device report by its identifier alone. Off by default.
  `ALTER TABLE devices ADD COLUMN id_only INTEGER NOT NULL DEFAULT 0;`,
];
