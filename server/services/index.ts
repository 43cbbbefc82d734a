import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import { thresholdsFrom } from "../history/analysis.ts";
import type { Logger } from "../logger.ts";
import type { LatestFix, Stores } from "../stores/ports.ts";
import { HttpWebhookSender, type WebhookSender } from "../webhooks/http-sender.ts";
import { AccessService } from "./access.ts";
import { DeviceService } from "./devices.ts";
import { EventRules } from "./event-rules.ts";
import { EventService } from "./events.ts";
import { GeofenceService } from "./geofences.ts";
import { HistoryService } from "./history.ts";
import { PushService } from "./push.ts";
import { NotificationService } from "./notifications.ts";
import { OfflineWatch } from "./offline-watch.ts";
import { PeopleService } from "./people.ts";
import { PlausibilityCheck } from "./plausibility.ts";
import { PositionService, type IngestObserver } from "./positions.ts";
import { RateLimiter } from "./rate-limit.ts";
import { WebhookDelivery } from "./webhook-delivery.ts";

/** Every rule of Locus, over one set of stores: what the server and the CLI both run. */
export interface Services {
  devices: DeviceService;
  access: AccessService;
  people: PeopleService;
  positions: PositionService;
  history: HistoryService;
  geofences: GeofenceService;
  events: EventService;
  notifications: NotificationService;
  /** Web Push: the VAPID keys and each user's browsers. */
  push: PushService;
  /** Fan-out and delivery of webhooks: started by the server (start.ts), not by the CLI. */
  webhookDelivery: WebhookDelivery;
  /** The offline sweep: started by the server (start.ts), not by the CLI. */
  offline: OfflineWatch;
}

/**
 * Build the services over the stores and load what they keep in memory (the device directory).
 * Picks no implementation: the caller chose the stores.
 */
export async function createServices(
  stores: Stores,
  config: Readonly<Config>,
  options: {
    clock: Clock;
    logger: Logger;
    /** Each device's newest fix, the live plausibility chain's start (the CLI reports nothing). */
    latest?: readonly LatestFix[];
    /** Told how reports end (metrics); the CLI has none. */
    ingest?: IngestObserver;
    /** Where webhooks are sent; by default over HTTP, with `--webhook-allow-private`'s policy. */
    webhookSender?: WebhookSender;
  },
): Promise<Services> {
  const { clock, logger, latest = [], ingest } = options;
  const devices = new DeviceService(stores.devices, clock, {
    openRegistration: config.openRegistration,
  });
  await devices.load();
  const access = new AccessService(
    stores.users,
    devices,
    clock,
    config.sessionTtlHours * 3_600_000,
    config.metricsToken,
  );
  const people = new PeopleService(stores.users, devices, clock);
  const rules = {
    maxFutureMs: config.maxFutureMs,
    maxAccuracyM: config.maxAccuracyM,
    maxImpliedSpeed: config.maxImpliedSpeed,
  };
  const positions = new PositionService({
    store: stores.positions,
    devices,
    limiter: new RateLimiter({ rate: config.rateLimit, burst: config.rateBurst }),
    plausibility: new PlausibilityCheck(rules, latest),
    rules,
    clock,
    logger,
    observer: ingest,
  });
  const history = new HistoryService({
    positions: stores.positions,
    tracks: stores.tracks,
    access,
    thresholds: thresholdsFrom(config),
    gaps: gapRuleFrom(config),
  });
  const geofences = new GeofenceService(stores.geofences, clock);
  await geofences.load();
  const eventRules = new EventRules(
    geofences,
    {
      speedLimit: config.speedLimitKmh / 3.6,
      overspeedMs: config.overspeedSeconds * 1000,
      hysteresisM: config.geofenceHysteresisM,
      maxGapMs: config.gapMinutes * 60_000,
      lowBatteryPercent: config.lowBatteryPercent,
      stays: thresholdsFrom(config),
    },
    (deviceId) => devices.known(deviceId)?.speedLimit ?? null,
  );
  // A device's new limit counts from its next fix (here, or on the node that heard of the change).
  devices.onChange((change) => {
    if (change.type === "updated" && change.device.speedLimit !== change.before.speedLimit) {
      eventRules.limitChanged(change.device.deviceId);
    }
  });
  const events = new EventService({
    store: stores.events,
    positions: stores.positions,
    devices,
    access,
    rules: eventRules,
    logger,
  });
  // Events come from what this process committed; fixes another node committed make what this
  // one remembers of the device stale (that node derives their events).
  const offline = new OfflineWatch({
    events: stores.events,
    positions: stores.positions,
    record: (made) => events.recordDirect(made),
    clock,
    leads: () => stores.leadsBackgroundWork(),
    logger,
    offlineMs: config.offlineMinutes * 60_000,
  });
  offline.seed(latest);
  positions.onStored((deviceId, plausible, _receivedAt, origin) => {
    if (origin === "here") events.take(deviceId, plausible);
    else events.forget(deviceId);
    offline.saw(deviceId, plausible);
  });
  devices.onChange((change) => {
    if (change.type === "removed") offline.forget(change.deviceId);
  });
  const sender =
    options.webhookSender ??
    new HttpWebhookSender({
      allowPrivate: config.webhookAllowPrivate,
      userAgent: "Locus-Webhooks/1",
    });
  const notifications = new NotificationService({
    store: stores.notifications,
    devices,
    geofences,
    access,
    sender,
    clock,
  });
  const push = new PushService({
    store: stores.push,
    sender,
    clock,
    subject: config.vapidSubject,
    allowPrivate: config.webhookAllowPrivate,
  });
  await push.load();
  const webhookDelivery = new WebhookDelivery(
    {
      store: stores.notifications,
      users: stores.users,
      devices,
      access,
      sender,
      push,
      clock,
      logger,
    },
    { retryBaseMs: config.webhookRetryBaseMs, leads: () => stores.leadsBackgroundWork() },
  );
  // Events stored here go out at once; those of other nodes within the worker's poll.
  events.onEvent(() => webhookDelivery.kick());
  return {
    devices,
    access,
    people,
    positions,
    history,
    geofences,
    events,
    notifications,
    push,
    webhookDelivery,
    offline,
  };
}

/** When two fixes are too far apart to join with a line, from the settings. */
export function gapRuleFrom(config: Readonly<Config>) {
  return { maxGapMs: config.gapMinutes * 60_000, maxJumpM: config.gapKm * 1000 };
}
