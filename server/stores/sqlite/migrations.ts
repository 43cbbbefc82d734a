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
  // 6: level-of-detail tracks (server/history/levels.ts). Per device and hour ("chunk" = ts / 1 h):
  // the track simplified to a ladder of tolerances, a summary of each hour (its box, its counts)
  // for planning reads, and the hours whose fixes changed since they were last summarised.
  `
  CREATE TABLE track_levels (
    device INTEGER NOT NULL,
    level  INTEGER NOT NULL,
    ts     INTEGER NOT NULL,
    lat    REAL NOT NULL,
    lon    REAL NOT NULL,
    speed  REAL,
    alt    REAL,
    course REAL,
    brk    INTEGER NOT NULL,          -- 1: the raw fixes have a gap just before this vertex
    PRIMARY KEY (device, level, ts)
  ) WITHOUT ROWID;
  CREATE TABLE track_chunks (
    device INTEGER NOT NULL,
    chunk  INTEGER NOT NULL,
    south  REAL NOT NULL,             -- box of the hour's fixes and the fix before them
    north  REAL NOT NULL,
    west   REAL NOT NULL,
    east   REAL NOT NULL,
    counts TEXT NOT NULL,             -- JSON [raw fixes, vertices at level 0, level 1, …]
    PRIMARY KEY (device, chunk)
  ) WITHOUT ROWID;
  CREATE TABLE track_dirty (
    device INTEGER NOT NULL,
    chunk  INTEGER NOT NULL,
    PRIMARY KEY (device, chunk)
  ) WITHOUT ROWID;
  CREATE INDEX track_dirty_by_chunk ON track_dirty (chunk);
  CREATE TABLE track_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  -- Fixes stored before this version get their levels built in the background.
  INSERT INTO track_dirty (device, chunk) SELECT DISTINCT device, ts / 3600000 FROM positions;
  `,
  // 7: device management. A display name per device, and groups of devices that grants can name:
  // a viewer granted a group sees its members, present and future. Memberships and grants name
  // devices by their public id, as user_devices does. Devices can now be removed, so their keys
  // become AUTOINCREMENT: a key is never given to another device, and a fix still on its way for a
  // removed device (another process removed it) can never land in a newcomer's history.
  `
  CREATE TABLE devices_v7 (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    uid        TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    token_hash TEXT,
    id_only    INTEGER NOT NULL DEFAULT 0,
    name       TEXT
  );
  INSERT INTO devices_v7 (id, uid, created_at, token_hash, id_only)
    SELECT id, uid, created_at, token_hash, id_only FROM devices;
  DROP TABLE devices;
  ALTER TABLE devices_v7 RENAME TO devices;
  CREATE TABLE groups (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  );
  CREATE TABLE device_groups (
    group_id   INTEGER NOT NULL,
    device_uid TEXT NOT NULL,
    PRIMARY KEY (group_id, device_uid)
  ) WITHOUT ROWID;
  CREATE INDEX device_groups_by_device ON device_groups (device_uid);
  CREATE TABLE user_groups (
    user_id  INTEGER NOT NULL,
    group_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, group_id)
  ) WITHOUT ROWID;
  `,
  // 8: geofences, the events devices give rise to, and what the rule engine remembers per device.
  // Fences and events are AUTOINCREMENT: an event names its fence by id, so a removed fence's id
  // must never name another one, and events are paged newest first by id, so a new event must
  // never take the id of a deleted one. Events name devices by their public id, as grants do.
  `
  CREATE TABLE geofences (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    color       TEXT NOT NULL,            -- #rrggbb
    shape       TEXT NOT NULL,            -- JSON: the FenceShape of protocol/geofence.ts
    speed_limit REAL,                     -- m/s; NULL: the global limit applies
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
  );
  -- (device_uid, type, ts, geofence) is the duplicate check: a replay after a crash finds the
  -- events it already stored. geofence is 0 for none, not NULL, because NULLs never conflict.
  CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    device_uid TEXT NOT NULL,
    type       TEXT NOT NULL,             -- geofence_enter, geofence_exit, overspeed
    ts         INTEGER NOT NULL,          -- when it happened, epoch ms
    lat        REAL NOT NULL,
    lon        REAL NOT NULL,
    geofence   INTEGER NOT NULL DEFAULT 0,
    details    TEXT NOT NULL,             -- JSON object
    UNIQUE (device_uid, type, ts, geofence)
  );
  -- Newest first per device, and per fence.
  CREATE INDEX events_by_device ON events (device_uid, id);
  CREATE INDEX events_by_geofence ON events (geofence, id);
  CREATE TABLE rule_state (
    device_uid TEXT PRIMARY KEY,
    ts         INTEGER NOT NULL,          -- the newest fix the state has taken in
    state      TEXT NOT NULL              -- the engine's own JSON
  ) WITHOUT ROWID;
  `,
  // 9: notifications (issue #14). Webhooks and rules belong to a user; rules name devices by id,
  // groups by name and fences and webhooks by id, as JSON lists. The outbox holds one row per
  // event and webhook, its body stored once so every retry sends (and signs) the same bytes;
  // (webhook_id, event_id) is the duplicate check. fanout_cursor holds the newest event id fanned
  // out into it, moved in the transaction that adds its rows. AUTOINCREMENT: a removed webhook's
  // id never names another one, and outbox ids keep the order events were fanned out in.
  `
  CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,             -- the HMAC key: kept as is, it signs every body
    created_at INTEGER NOT NULL
  );
  CREATE INDEX webhooks_by_user ON webhooks (user_id);
  CREATE TABLE rules (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL,
    name       TEXT NOT NULL,
    types      TEXT NOT NULL,             -- JSON list of event types; [] any
    devices    TEXT NOT NULL,             -- JSON list of device ids
    groups     TEXT NOT NULL,             -- JSON list of group names
    geofences  TEXT NOT NULL,             -- JSON list of fence ids; [] any
    hours      TEXT,                      -- JSON RuleHours, NULL always
    webhooks   TEXT NOT NULL,             -- JSON list of webhook ids
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX rules_by_user ON rules (user_id);
  CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id   INTEGER NOT NULL,
    event_id     INTEGER NOT NULL,
    event_type   TEXT NOT NULL,
    device_uid   TEXT NOT NULL,
    body         TEXT NOT NULL,           -- the exact JSON sent and signed
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    last_error   TEXT,
    last_status  INTEGER,
    created_at   INTEGER NOT NULL,
    delivered_at INTEGER,
    UNIQUE (webhook_id, event_id)
  );
  -- The lanes' heads: pending rows per (webhook, device), oldest first.
  CREATE INDEX outbox_pending ON outbox (webhook_id, device_uid, id) WHERE status = 'pending';
  CREATE INDEX outbox_by_webhook ON outbox (webhook_id, id);
  CREATE INDEX outbox_by_created ON outbox (created_at);
  CREATE INDEX outbox_pending_by_created ON outbox (created_at) WHERE status = 'pending';
  CREATE TABLE fanout_cursor (
    name     TEXT PRIMARY KEY,
    event_id INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // 10: browser Web Push (issue #14). The server's VAPID key pair, made once and shared by every
  // process of the database (a new pair would orphan every subscription). Push subscriptions
  // belong to a user, one row per browser endpoint. A rule may send to its owner's browsers
  // (push). The outbox's target becomes a channel and an id (a webhook's or a subscription's), so
  // push gets the same persisted retries as webhooks; the table is rebuilt because SQLite cannot
  // change a UNIQUE constraint, and its AUTOINCREMENT counter is carried over so ids keep rising.
  `
  CREATE TABLE server_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE push_subscriptions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL,
    endpoint   TEXT NOT NULL UNIQUE,
    p256dh     TEXT NOT NULL,             -- the browser's ECDH public key, base64url
    auth       TEXT NOT NULL,             -- the browser's auth secret, base64url
    label      TEXT NOT NULL,             -- which browser, from its User-Agent
    created_at INTEGER NOT NULL
  );
  CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id);
  ALTER TABLE rules ADD COLUMN push INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE outbox_v10 (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    channel      TEXT NOT NULL CHECK (channel IN ('webhook', 'push')),
    target_id    INTEGER NOT NULL,        -- webhooks.id or push_subscriptions.id
    event_id     INTEGER NOT NULL,
    event_type   TEXT NOT NULL,
    device_uid   TEXT NOT NULL,
    body         TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    last_error   TEXT,
    last_status  INTEGER,
    created_at   INTEGER NOT NULL,
    delivered_at INTEGER,
    UNIQUE (channel, target_id, event_id)
  );
  INSERT INTO outbox_v10 (id, channel, target_id, event_id, event_type, device_uid, body, attempts,
                          next_at, status, last_error, last_status, created_at, delivered_at)
    SELECT id, 'webhook', webhook_id, event_id, event_type, device_uid, body, attempts, next_at,
           status, last_error, last_status, created_at, delivered_at FROM outbox;
  DELETE FROM sqlite_sequence WHERE name = 'outbox_v10';
  UPDATE sqlite_sequence SET name = 'outbox_v10' WHERE name = 'outbox';
  DROP TABLE outbox;
  ALTER TABLE outbox_v10 RENAME TO outbox;
  CREATE INDEX outbox_pending ON outbox (channel, target_id, device_uid, id) WHERE status = 'pending';
  CREATE INDEX outbox_by_target ON outbox (channel, target_id, id);
  CREATE INDEX outbox_by_created ON outbox (created_at);
  CREATE INDEX outbox_pending_by_created ON outbox (created_at) WHERE status = 'pending';
  `,
  // 11: a speed limit per device (m/s; NULL: the global limit applies), for the overspeed rule.
  `ALTER TABLE devices ADD COLUMN speed_limit REAL;`,
];
