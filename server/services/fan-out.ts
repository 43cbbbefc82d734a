import type { FleetEvent } from "../../protocol/geofence.ts";
import type {
  Channel,
  NewOutboxRow,
  NotificationStore,
  PushSubscriptionRecord,
  UserStore,
} from "../stores/ports.ts";
import { toUser, type AccessService, type User } from "./access.ts";
import type { DeviceService } from "./devices.ts";
import { ruleMatches, webhookBody } from "./notifications.ts";
import { pushPayload, type PushService } from "./push.ts";

/**
 * The outbox rows of a run of events: one per event and target (a webhook a matching rule names,
 * or a browser of the rule's owner when the rule pushes). Access is asked here, of the rule's
 * owner as the store says it is now, once for every channel: a user only ever hears of devices
 * they may see.
 */
export async function outboxRows(
  events: readonly FleetEvent[],
  deps: {
    store: NotificationStore;
    users: UserStore;
    devices: DeviceService;
    access: AccessService;
    push: PushService;
  },
): Promise<NewOutboxRow[]> {
  const { store, devices, access } = deps;
  const rules = await store.rules();
  if (rules.length === 0) return [];
  const users = new Map<number, User>((await deps.users.list()).map((u) => [u.id, toUser(u)]));
  const hooks = new Map((await store.webhooks()).map((w) => [w.id, w]));
  const browsers = new Map<number, PushSubscriptionRecord[]>();
  if (rules.some((r) => r.push)) {
    for (const sub of await deps.push.everySubscription()) {
      browsers.set(sub.userId, [...(browsers.get(sub.userId) ?? []), sub]);
    }
  }
  // Devices another process registered since this one loaded its directory.
  for (const deviceId of new Set(events.map((e) => e.deviceId))) {
    if (!devices.known(deviceId)) await devices.find(deviceId);
  }
  const groupsOf = (deviceId: string) => devices.groupsOf(deviceId);
  const rows: NewOutboxRow[] = [];
  for (const event of events) {
    const targets = new Map<string, { channel: Channel; targetId: number }>();
    const add = (channel: Channel, targetId: number) =>
      targets.set(`${channel}:${targetId}`, { channel, targetId });
    for (const rule of rules) {
      const owner = users.get(rule.userId);
      if (!owner || !access.canSee(owner, event.deviceId)) continue;
      if (!ruleMatches(rule, event, groupsOf)) continue;
      for (const id of rule.webhooks) {
        if (hooks.get(id)?.userId === rule.userId) add("webhook", id);
      }
      if (rule.push) for (const sub of browsers.get(rule.userId) ?? []) add("push", sub.id);
    }
    if (targets.size === 0) continue;
    const name = devices.known(event.deviceId)?.name ?? null;
    const bodies: Record<Channel, () => string> = {
      webhook: () => webhookBody(event, { id: event.deviceId, name }),
      push: () => JSON.stringify(pushPayload(event, { name })),
    };
    const made = new Map<Channel, string>();
    for (const { channel, targetId } of targets.values()) {
      if (!made.has(channel)) made.set(channel, bodies[channel]());
      rows.push({
        channel,
        targetId,
        eventId: event.id,
        eventType: event.type,
        deviceId: event.deviceId,
        body: made.get(channel)!,
      });
    }
  }
  return rows;
}
