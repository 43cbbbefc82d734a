import type { Delivery, NotificationRule, Webhook } from "../../../../protocol/notifications.ts";
import { describeError } from "../api.ts";
import * as api from "./api.ts";

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

/**
 * The signed-in user's webhooks and rules and what a rule may name, as the server has them:
 * loaded when the Notifications panel opens and again after each change, so both tabs agree
 * (a rule lists webhooks by their URL; removing a webhook changes rules).
 */
class Notifications {
  webhooks = $state.raw<Webhook[] | null>(null);
  rules = $state.raw<NotificationRule[] | null>(null);
  groups = $state.raw<string[]>([]);
  /** Each webhook's newest delivery record (null: none yet), for the list's status. */
  lastDelivery = $state.raw<ReadonlyMap<number, Delivery | null>>(new Map());
  loadError = $state<string | null>(null);

  async load(): Promise<void> {
    try {
      const [webhooks, rules, groups] = await Promise.all([
        api.fetchWebhooks(),
        api.fetchRules(),
        api.fetchRuleGroups(),
      ]);
      const last = await Promise.all(
        webhooks.map(async (w) => [w.id, (await api.fetchDeliveries(w.id, 1))[0] ?? null] as const),
      );
      this.lastDelivery = new Map(last);
      this.webhooks = webhooks;
      this.rules = rules.sort((a, b) => collator.compare(a.name, b.name) || a.id - b.id);
      this.groups = groups.sort(collator.compare);
      this.loadError = null;
    } catch (error) {
      this.loadError = describeError(error);
    }
  }

  /** Forget them when the panel closes: the next person to sign in here must not see them. */
  reset(): void {
    this.webhooks = null;
    this.rules = null;
    this.groups = [];
    this.lastDelivery = new Map();
    this.loadError = null;
  }

  /** A log just read knows a webhook's newest delivery: the list's status follows it. */
  noteLatest(webhookId: number, newest: Delivery | null): void {
    this.lastDelivery = new Map([...this.lastDelivery, [webhookId, newest]]);
  }

  webhookUrl(id: number): string {
    return this.webhooks?.find((w) => w.id === id)?.url ?? `webhook ${id}`;
  }
}

export const notifications = new Notifications();
