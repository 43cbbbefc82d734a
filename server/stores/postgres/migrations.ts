/**
 * Numbered schema migrations for PostgreSQL: entry i brings the schema from version i to i + 1,
 * each in one transaction. Append only, as for SQLite (a released migration is never edited).
 * The tables mirror the SQLite schema (server/stores/sqlite/migrations.ts) so that both stores
 * answer the same ports; times are epoch ms in BIGINT, as in SQLite, so rows copy across as they are.
 */
export const PG_MIGRATIONS: readonly string[] = [
  // 1: the whole schema of SQLite version 7.
  `
  CREATE TABLE devices (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- never reused, as in SQLite
    uid        TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    token_hash TEXT,
    id_only    BOOLEAN NOT NULL DEFAULT false,
    name       TEXT
  );

  -- Partitioned by month of the fix time, created ahead by the server (ensurePartitions). The key
  -- (device, ts) is the duplicate check: a resent fix is a conflict, never a second row.
  CREATE TABLE positions (
    device      BIGINT NOT NULL,
    ts          BIGINT NOT NULL,
    lat         DOUBLE PRECISION NOT NULL,
    lon         DOUBLE PRECISION NOT NULL,
    speed       DOUBLE PRECISION,
    course      DOUBLE PRECISION,
    alt         DOUBLE PRECISION,
    accuracy    DOUBLE PRECISION,
    battery     DOUBLE PRECISION,
    attributes  JSON,                        -- kept as sent (JSONB would reorder keys)
    received_at BIGINT NOT NULL,
    flag        TEXT,
    PRIMARY KEY (device, ts)
  ) PARTITION BY RANGE (ts);

  CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'viewer')),
    all_devices   BOOLEAN NOT NULL DEFAULT false,
    created_at    BIGINT NOT NULL
  );
  CREATE TABLE user_devices (
    user_id    BIGINT NOT NULL,
    device_uid TEXT NOT NULL,
    PRIMARY KEY (user_id, device_uid)
  );
  CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    BIGINT NOT NULL,
    created_at BIGINT NOT NULL
  );

  CREATE TABLE track_levels (
    device BIGINT NOT NULL,
    level  SMALLINT NOT NULL,
    ts     BIGINT NOT NULL,
    lat    DOUBLE PRECISION NOT NULL,
    lon    DOUBLE PRECISION NOT NULL,
    speed  DOUBLE PRECISION,
    alt    DOUBLE PRECISION,
    course DOUBLE PRECISION,
    brk    BOOLEAN NOT NULL,
    PRIMARY KEY (device, level, ts)
  );
  CREATE TABLE track_chunks (
    device BIGINT NOT NULL,
    chunk  BIGINT NOT NULL,
    south  DOUBLE PRECISION NOT NULL,
    north  DOUBLE PRECISION NOT NULL,
    west   DOUBLE PRECISION NOT NULL,
    east   DOUBLE PRECISION NOT NULL,
    counts JSONB NOT NULL,
    PRIMARY KEY (device, chunk)
  );
  CREATE TABLE track_dirty (
    device BIGINT NOT NULL,
    chunk  BIGINT NOT NULL,
    PRIMARY KEY (device, chunk)
  );
  CREATE INDEX track_dirty_by_chunk ON track_dirty (chunk);
  CREATE TABLE track_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  CREATE TABLE groups (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE device_groups (
    group_id   BIGINT NOT NULL,
    device_uid TEXT NOT NULL,
    PRIMARY KEY (group_id, device_uid)
  );
  CREATE INDEX device_groups_by_device ON device_groups (device_uid);
  CREATE TABLE user_groups (
    user_id  BIGINT NOT NULL,
    group_id BIGINT NOT NULL,
    PRIMARY KEY (user_id, group_id)
  );
  `,
  // 2: geofences, events and rule state, as SQLite's version 8. JSON, not JSONB: kept as written.
  `
  CREATE TABLE geofences (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,  -- never reused, as in SQLite
    name        TEXT NOT NULL UNIQUE,
    color       TEXT NOT NULL,
    shape       JSON NOT NULL,
    speed_limit DOUBLE PRECISION,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
  );
  CREATE TABLE events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_uid TEXT NOT NULL,
    type       TEXT NOT NULL,
    ts         BIGINT NOT NULL,
    lat        DOUBLE PRECISION NOT NULL,
    lon        DOUBLE PRECISION NOT NULL,
    geofence   BIGINT NOT NULL DEFAULT 0,                        -- 0: none, so the key works
    details    JSON NOT NULL,
    UNIQUE (device_uid, type, ts, geofence)
  );
  CREATE INDEX events_by_device ON events (device_uid, id);
  CREATE INDEX events_by_geofence ON events (geofence, id);
  CREATE TABLE rule_state (
    device_uid TEXT PRIMARY KEY,
    ts         BIGINT NOT NULL,
    state      TEXT NOT NULL
  );
  `,
  // 3: notifications, as SQLite's version 9.
  `
  CREATE TABLE webhooks (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX webhooks_by_user ON webhooks (user_id);
  CREATE TABLE rules (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL,
    name       TEXT NOT NULL,
    types      TEXT NOT NULL,
    devices    TEXT NOT NULL,
    groups     TEXT NOT NULL,
    geofences  TEXT NOT NULL,
    hours      TEXT,
    webhooks   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
  );
  CREATE INDEX rules_by_user ON rules (user_id);
  CREATE TABLE outbox (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id   BIGINT NOT NULL,
    event_id     BIGINT NOT NULL,
    event_type   TEXT NOT NULL,
    device_uid   TEXT NOT NULL,
    body         TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      BIGINT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    last_error   TEXT,
    last_status  INTEGER,
    created_at   BIGINT NOT NULL,
    delivered_at BIGINT,
    UNIQUE (webhook_id, event_id)
  );
  CREATE INDEX outbox_pending ON outbox (webhook_id, device_uid, id) WHERE status = 'pending';
  CREATE INDEX outbox_by_webhook ON outbox (webhook_id, id);
  CREATE INDEX outbox_by_created ON outbox (created_at);
  CREATE INDEX outbox_pending_by_created ON outbox (created_at) WHERE status = 'pending';
  CREATE TABLE fanout_cursor (
    name     TEXT PRIMARY KEY,
    event_id BIGINT NOT NULL
  );
  `,
  // 4: browser Web Push, as SQLite's version 10 (the outbox's columns change in place here).
  `
  CREATE TABLE server_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  CREATE TABLE push_subscriptions (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    BIGINT NOT NULL,
    endpoint   TEXT NOT NULL UNIQUE,
    p256dh     TEXT NOT NULL,
    auth       TEXT NOT NULL,
    label      TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX push_subscriptions_by_user ON push_subscriptions (user_id);
  ALTER TABLE rules ADD COLUMN push BOOLEAN NOT NULL DEFAULT false;
  ALTER TABLE outbox RENAME COLUMN webhook_id TO target_id;
  ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'webhook'
    CHECK (channel IN ('webhook', 'push'));
  ALTER TABLE outbox ALTER COLUMN channel DROP DEFAULT;
  ALTER TABLE outbox DROP CONSTRAINT outbox_webhook_id_event_id_key;
  ALTER TABLE outbox ADD CONSTRAINT outbox_target_event UNIQUE (channel, target_id, event_id);
  DROP INDEX outbox_pending;
  DROP INDEX outbox_by_webhook;
  CREATE INDEX outbox_pending ON outbox (channel, target_id, device_uid, id) WHERE status = 'pending';
  CREATE INDEX outbox_by_target ON outbox (channel, target_id, id);
  `,
  // 5: a speed limit per device, as SQLite's version 11.
  `ALTER TABLE devices ADD COLUMN speed_limit DOUBLE PRECISION;`,
];
