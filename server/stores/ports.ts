import type { Bbox } from "../../protocol/geo.ts";
import type { EventType, FleetEvent, Geofence, GeofenceChange } from "../../protocol/geofence.ts";
import type {
  DeliveryStatus,
  NotificationRule,
  RuleChange,
  RuleFields,
  Webhook,
} from "../../protocol/notifications.ts";
import type {
  HistoryPosition,
  ImplausibleReason,
  Position,
  PositionRow,
  Role,
  TrackPoint,
} from "../../protocol/index.ts";

/**
 * The storage ports: what the services need from a database, and nothing about how one is
 * written. `sqlite/` implements them for the embedded default; a networked database implements
 * the same interfaces, which is why every method that could need I/O returns a promise.
 *
 * Stores import nothing above them (no service, no transport, no history algorithm): work that
 * needs a rule, such as building a track's levels, is handed in as a function.
 */

// ---- positions ---------------------------------------------------------------------------

/** A validated position on its way to disk. */
export interface NewPosition {
  deviceId: string;
  position: Position;
  receivedAt: number;
  /** Why the fix is implausible, or null. Flagged fixes are stored but left out of views. */
  flag: ImplausibleReason | null;
}

export interface LatestFix {
  deviceId: string;
  /** The plausible fix with the greatest `ts`, or null for a device that never reported. */
  latest: Position | null;
  /** When the server received that fix (epoch ms). */
  latestReceivedAt: number | null;
}

export interface TimeRange {
  from: number;
  to: number;
}

/** Raised by `append` once the store is closing: the caller answers "retry later". */
export class StoreClosedError extends Error {}

export interface PositionStore {
  /**
   * Store the rows; resolves only once they are committed, with per row true when stored now or
   * false when the device already had a fix with that `ts` (a duplicate, nothing written). Every
   * device named must exist (DeviceStore.ensure). Rejects with StoreClosedError while closing.
   */
  append(rows: readonly NewPosition[]): Promise<boolean[]>;
  /** Fixes with from ≤ ts ≤ to, oldest first, at most `limit`; flagged ones only if asked. */
  page(
    deviceId: string,
    range: TimeRange & { limit: number; withFlagged?: boolean },
  ): Promise<HistoryPosition[]>;
  /**
   * A device's plausible fixes in a range, oldest first, in pages. No cursor stays open between
   * pages, so a consumer may take its time (a slow download) without holding up ingest.
   */
  scan(deviceId: string, range: TimeRange, pageSize?: number): AsyncIterable<PositionRow[]>;
  /** The newest plausible fix of every device: live state after a restart. */
  latest(): Promise<LatestFix[]>;
  /** Commits so far, rows they carried, rows waiting: for /api/health. */
  stats(): { commits: number; rows: number; queued: number };
}

// ---- devices and groups ------------------------------------------------------------------

export interface DeviceRecord {
  deviceId: string;
  /** Display name chosen by an admin; null shows the id. */
  name: string | null;
  createdAt: number;
  /** SHA-256 of the device's token, or null when none was issued. */
  tokenHash: string | null;
  /** May report by its identifier alone (phone apps that cannot send a secret). */
  idOnly: boolean;
  /** Overspeed above this (m/s) instead of the global limit; null: the global limit applies. */
  speedLimit: number | null;
  /** Names of the groups it belongs to, sorted. */
  groups: string[];
}

export interface GroupRecord {
  name: string;
  createdAt: number;
}

export interface DeviceStore {
  get(deviceId: string): Promise<DeviceRecord | null>;
  list(): Promise<DeviceRecord[]>;
  /** Create the device if it does not exist (a first report, an import). */
  ensure(deviceId: string, now: number): Promise<void>;
  /** Create the device if needed, then set the given fields. */
  update(
    deviceId: string,
    fields: Partial<Pick<DeviceRecord, "tokenHash" | "idOnly" | "name" | "speedLimit" | "groups">>,
    now: number,
  ): Promise<DeviceRecord>;
  /** Stored fixes of the device (what removing it would delete). */
  countPositions(deviceId: string): Promise<number>;
  /**
   * Delete the device with all it stored (fixes, levels, grants, memberships, events, rule state). Resolves with the
   * number of fixes deleted, or null when there was no such device.
   */
  remove(deviceId: string): Promise<number | null>;
  groups(): Promise<GroupRecord[]>;
  /** False when a group of that name exists. */
  createGroup(name: string, now: number): Promise<boolean>;
  /** Also removes its memberships and grants. False when there was no such group. */
  removeGroup(name: string): Promise<boolean>;
}

// ---- people ------------------------------------------------------------------------------

/** Which devices a user sees besides what their role implies. */
export interface GrantRecord {
  all: boolean;
  devices: string[];
  groups: string[];
}

export interface UserRecord {
  id: number;
  name: string;
  role: Role;
  grant: GrantRecord;
}

export interface UserStore {
  count(): Promise<number>;
  list(): Promise<UserRecord[]>;
  byName(name: string): Promise<(UserRecord & { passwordHash: string }) | null>;
  /** False when the name is taken. */
  create(
    user: { name: string; role: Role; grant: GrantRecord; passwordHash: string },
    now: number,
  ): Promise<boolean>;
  /** False when there is no such user. */
  setAccess(name: string, access: { role: Role; grant: GrantRecord }): Promise<boolean>;
  /** A new password hash; every browser session of the user ends. False: no such user. */
  setPasswordHash(name: string, passwordHash: string): Promise<boolean>;
  /**
   * With their grants, sessions, API tokens, webhooks (and their outbox rows) and notification
   * rules. False when there was no such user.
   */
  remove(name: string): Promise<boolean>;
  createSession(userId: number, tokenHash: string, expiresAt: number): Promise<void>;
  sessionUser(tokenHash: string, now: number): Promise<UserRecord | null>;
  deleteSession(tokenHash: string): Promise<void>;
  deleteExpiredSessions(now: number): Promise<void>;
  createApiToken(userId: number, tokenHash: string, now: number): Promise<void>;
  apiTokenUser(tokenHash: string): Promise<UserRecord | null>;
}

// ---- level-of-detail tracks --------------------------------------------------------------

/** Levels are kept per device and hour: the unit a changed fix makes stale. */
export const CHUNK_MS = 3_600_000;

export function chunkOf(ts: number): number {
  return Math.floor(ts / CHUNK_MS);
}

/** What the store knows of one hour of a device before reading it. */
export interface ChunkSummary {
  chunk: number;
  /** Its fixes changed since its levels were built: read raw fixes, not levels. */
  dirty: boolean;
  /** Box of its fixes (and the fix before them); null when never summarised. */
  box: Bbox | null;
  /** [raw fixes, vertices at level 0, 1, …]; null when never summarised. */
  counts: number[] | null;
}

/** A line of vertices and, per vertex, 1 where the line breaks just before it. */
export interface BrokenLine {
  points: TrackPoint[];
  breakBefore: Uint8Array;
}

/** Builds an hour's levels (finest first) from its raw fixes and the fix before them. */
export type ChunkLevelBuilder = (raw: TrackPoint[], previous: TrackPoint | null) => BrokenLine[];

/** An opaque handle of a device for a run of track reads. */
export type TrackDevice = number;

export interface TrackStore {
  /** The device's handle, or undefined for a device that stores nothing. */
  device(deviceId: string): Promise<TrackDevice | undefined>;
  /** Hours from `fromChunk` to `toChunk` that hold fixes or may, in order. */
  chunks(device: TrackDevice, fromChunk: number, toChunk: number): Promise<ChunkSummary[]>;
  /** Plausible raw fixes, oldest first, as track points. */
  raw(device: TrackDevice, from: number, to: number): Promise<TrackPoint[]>;
  /** `raw()` as one JSON array text, written by the database. */
  rawJson(device: TrackDevice, from: number, to: number): Promise<string>;
  /** Times of the fixes that follow a gap, from a level's flags (levels keep both gap ends). */
  gapEnds(device: TrackDevice, level: number, from: number, to: number): Promise<number[]>;
  level(device: TrackDevice, level: number, from: number, to: number): Promise<BrokenLine>;
  firstLat(device: TrackDevice, from: number, to: number): Promise<number | undefined>;
  /** Marked hours that ended at or before `maxChunk`, oldest first. */
  due(maxChunk: number, limit: number): Promise<[device: TrackDevice, chunk: number][]>;
  pending(maxChunk?: number): Promise<number>;
  /**
   * Replace each hour's levels with what `build` makes of its raw fixes and clear its mark, each
   * hour as one step no stored fix can slip through (a fix stored meanwhile marks it again).
   * `levelCount` levels are replaced. Works through `hours` in order, at least one, until
   * `budgetMs` is spent: ingest shares the process. Resolves with the hours done and fixes read.
   */
  rebuild(
    hours: readonly [device: TrackDevice, chunk: number][],
    build: ChunkLevelBuilder,
    levelCount: number,
    budgetMs: number,
  ): Promise<{ hours: number; fixes: number }>;
  /**
   * Levels depend on the rules they were built with: when `parameters` differ from the stored
   * ones, drop every level and mark every hour with fixes. True when it did.
   */
  resetIfChanged(parameters: string): Promise<boolean>;
}

// ---- geofences and events ----------------------------------------------------------------

export interface GeofenceStore {
  /** Every fence, by id. */
  list(): Promise<Geofence[]>;
  get(id: number): Promise<Geofence | null>;
  /** Changes whenever a fence is added, changed or removed (by any process). */
  stamp(): Promise<string>;
  /** The stored fence with its new id, or null when the name is taken. */
  create(
    fence: Omit<Geofence, "id" | "createdAt" | "updatedAt">,
    now: number,
  ): Promise<Geofence | null>;
  /**
   * Set the given fields. Resolves with the fence after the change, null when there is no such
   * fence; rejects with NameTakenError when another fence has the new name.
   */
  update(id: number, fields: GeofenceChange, now: number): Promise<Geofence | null>;
  /** False when there was no such fence. Its events stay (they name it by id and in details). */
  remove(id: number): Promise<boolean>;
}

/** Raised by `GeofenceStore.update` when another fence has the name asked for. */
export class NameTakenError extends Error {}

export type NewEvent = Omit<FleetEvent, "id">;

/** What the rule engine remembers of one device between fixes, as the engine serialised it. */
export interface RuleState {
  deviceId: string;
  /** The newest fix the state has taken in (epoch ms): fixes at or before it are not replayed. */
  ts: number;
  /** Opaque JSON of the engine. */
  state: string;
}

export interface EventFilter {
  /** Only these devices; null: every device. An empty list matches nothing. */
  deviceIds: readonly string[] | null;
  types?: readonly EventType[];
  geofenceId?: number;
  /** from ≤ ts ≤ to */
  from?: number;
  to?: number;
  /** Only events with a smaller id: the next page of a newest-first listing. */
  before?: number;
  limit: number;
}

export interface EventStore {
  /**
   * In one transaction: store the events not already stored (the same device, type, ts and
   * geofence make a duplicate, so a replay after a crash stores nothing twice) and save each
   * device's rule state (a state older than the one saved is not saved: two nodes replaying the
   * same device never move it back). Resolves with the events stored now, with ids, in input order.
   */
  record(events: readonly NewEvent[], states: readonly RuleState[]): Promise<FleetEvent[]>;
  /** Newest first (by id), filtered. */
  list(filter: EventFilter): Promise<FleetEvent[]>;
  ruleState(deviceId: string): Promise<RuleState | null>;
  /** Every device's saved state: where replay after a restart starts. */
  ruleStates(): Promise<RuleState[]>;
}

// ---- notifications: webhooks, rules, the outbox ------------------------------------------

export interface WebhookRecord extends Webhook {
  userId: number;
}

export interface RuleRecord extends NotificationRule {
  userId: number;
}

/** Where an outbox row goes: a webhook, or one browser's push subscription. */
export type Channel = "webhook" | "push";

/** One event for one target, as fan-out puts it in the outbox. */
export interface NewOutboxRow {
  channel: Channel;
  /** The webhook's id, or the push subscription's. */
  targetId: number;
  eventId: number;
  eventType: EventType;
  deviceId: string;
  /**
   * Webhook: the exact bytes sent and signed, on every attempt. Push: the payload before its
   * encryption (which is new on every attempt).
   */
  body: string;
}

export interface OutboxRow extends NewOutboxRow {
  id: number;
  status: DeliveryStatus;
  attempts: number;
  nextAt: number;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: number;
  deliveredAt: number | null;
}

/** What an attempt came to. */
export interface AttemptOutcome {
  status: DeliveryStatus;
  /** `pending`: when to try again. */
  nextAt: number;
  lastStatus: number | null;
  lastError: string | null;
  /** `delivered`: when. */
  deliveredAt: number | null;
}

export interface NotificationStore {
  /** A user's webhooks, or every webhook (fan-out), by id. */
  webhooks(userId?: number): Promise<WebhookRecord[]>;
  webhook(id: number): Promise<WebhookRecord | null>;
  createWebhook(
    webhook: { userId: number; url: string; secret: string },
    now: number,
  ): Promise<WebhookRecord>;
  /**
   * With its outbox rows; rules naming it stop naming it. False when there was no such webhook.
   */
  removeWebhook(id: number): Promise<boolean>;
  /** A user's rules, or every rule (fan-out), by id. */
  rules(userId?: number): Promise<RuleRecord[]>;
  rule(id: number): Promise<RuleRecord | null>;
  createRule(rule: RuleFields & { userId: number }, now: number): Promise<RuleRecord>;
  /** The rule after the change, or null when there is no such rule. */
  updateRule(id: number, fields: RuleChange, now: number): Promise<RuleRecord | null>;
  removeRule(id: number): Promise<boolean>;
  /**
   * Events not fanned out yet (id above the cursor), oldest first, at most `limit`. The first call
   * on a database that never fanned out sets the cursor to the newest event: events from before
   * notifications existed are not sent.
   */
  unsentEvents(limit: number): Promise<FleetEvent[]>;
  /**
   * In ONE transaction: add the rows (a (target, event) pair already there is skipped) and move
   * the cursor to `upTo` (never back). A crash leaves both or neither, so fan-out neither loses an
   * event nor sends one twice. Resolves with the rows added.
   */
  enqueue(rows: readonly NewOutboxRow[], upTo: number, now: number): Promise<number>;
  /**
   * The head of each (target, device) lane, the oldest pending row of it, when it is due by
   * `now`: rows behind a head wait for it. Oldest first, at most `limit`.
   */
  due(now: number, limit: number): Promise<OutboxRow[]>;
  /** The earliest `nextAt` of the lanes' heads, or null when no row is pending. */
  nextDue(): Promise<number | null>;
  /** Record attempts, in one transaction: each row's `attempts` grows by one. */
  settle(attempts: readonly { id: number; outcome: AttemptOutcome }[]): Promise<void>;
  /** Give up rows, pending and due or not, without an attempt (their owner lost sight of the device). */
  abandon(ids: readonly number[], reason: string): Promise<void>;
  /**
   * Pending rows created before `createdBefore` become `failed`, `reason` added to their last
   * error; resolves with how many.
   */
  expire(createdBefore: number, reason: string): Promise<number>;
  /** Delete delivered and failed rows created before `createdBefore`. */
  purge(createdBefore: number): Promise<number>;
  /** A webhook's rows, newest first. */
  deliveries(webhookId: number, limit: number): Promise<OutboxRow[]>;
}

// ---- Web Push: the server's keys, the browsers' subscriptions -----------------------------

/** The server's VAPID key pair (the application server key of every subscription), base64url. */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/** One browser a user turned notifications on in. */
export interface PushSubscriptionRecord {
  id: number;
  userId: number;
  /** The push service's URL for this browser: a capability, shown to its owner only. */
  endpoint: string;
  /** The browser's ECDH public key (P-256, uncompressed) and auth secret, base64url. */
  p256dh: string;
  auth: string;
  /** Which browser, from its User-Agent, so a user can tell their subscriptions apart. */
  label: string;
  createdAt: number;
}

export interface PushStore {
  /**
   * The stored key pair; on the first call ever, `made` is stored and returned. Processes of a
   * cluster racing on an empty database all get the one that was stored first.
   */
  vapidKeys(made: VapidKeys): Promise<VapidKeys>;
  /** A user's subscriptions, or every one (fan-out), by id. */
  subscriptions(userId?: number): Promise<PushSubscriptionRecord[]>;
  subscription(id: number): Promise<PushSubscriptionRecord | null>;
  /**
   * Store a subscription. An endpoint already stored (the browser subscribed again, perhaps
   * signed in as someone else) is replaced, with its outbox rows: it gets a new id.
   */
  subscribe(
    sub: Omit<PushSubscriptionRecord, "id" | "createdAt">,
    now: number,
  ): Promise<PushSubscriptionRecord>;
  /** Remove it with its outbox rows; false when there was none. */
  unsubscribe(id: number): Promise<boolean>;
}

// ---- all of them -------------------------------------------------------------------------

/**
 * Told about every group commit, for metrics: the store reports its own timings without knowing
 * who listens (stores import nothing above them).
 */
export interface CommitObserver {
  /** A transaction of `rows` rows committed, `ms` after it was started. */
  committed(rows: number, ms: number): void;
  /** A transaction of `rows` rows failed; its reports were answered `internal`. */
  failed(rows: number, ms: number): void;
}

export interface StoreHealth {
  ok: boolean;
  /** Why the store cannot commit, when it cannot. */
  reason?: string;
}

/** One database behind every port, as the composition root opens it. */
export interface Stores {
  positions: PositionStore;
  devices: DeviceStore;
  users: UserStore;
  tracks: TrackStore;
  geofences: GeofenceStore;
  events: EventStore;
  notifications: NotificationStore;
  push: PushStore;
  /** Whether positions can be committed now: false once a commit failed, until one succeeds. */
  health(): StoreHealth;
  /**
   * Whether this process runs the work that must run once per database (level building, partition
   * upkeep): always for an embedded store, for one node at a time in a cluster.
   */
  leadsBackgroundWork(): boolean;
  /** Call `observer` after every position commit (one observer; a second replaces it). */
  observeCommits(observer: CommitObserver): void;
  /** Refuse new positions and commit what is queued, so those reports are still acknowledged. */
  stopWriting(): Promise<void>;
  /** Stop writing, then let go of the database. */
  close(): Promise<void>;
}
