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
];
