import type {
  Delivery,
  NewRule,
  NotificationRule,
  Webhook,
  WebhookTestResult,
} from "../../../../protocol/notifications.ts";
import { request } from "../api.ts";

/** `/api/webhooks` and `/api/rules` (docs/webhooks.md): the signed-in user's own, whoever they are. */

export async function fetchWebhooks(): Promise<Webhook[]> {
  return (await request<{ webhooks: Webhook[] }>("/api/webhooks")).webhooks;
}

/** The reply carries the signing secret: the only time it is shown. */
export function addWebhook(url: string): Promise<Webhook> {
  return request<Webhook>("/api/webhooks", { method: "POST", body: { url } });
}

/** Its rules stop naming it; its pending deliveries go. */
export function removeWebhook(id: number): Promise<void> {
  return request<void>(`/api/webhooks/${id}`, { method: "DELETE" });
}

/** A signed test body sent now (not queued, not retried): what came back. */
export function testWebhook(id: number): Promise<WebhookTestResult> {
  return request<WebhookTestResult>(`/api/webhooks/${id}/test`, { method: "POST", body: {} });
}

/** The newest `limit` attempts' records, newest first. */
export async function fetchDeliveries(id: number, limit: number): Promise<Delivery[]> {
  const reply = await request<{ deliveries: Delivery[] }>(
    `/api/webhooks/${id}/deliveries?limit=${limit}`,
  );
  return reply.deliveries;
}

export async function fetchRules(): Promise<NotificationRule[]> {
  return (await request<{ rules: NotificationRule[] }>("/api/rules")).rules;
}

/** The groups a rule of this user may name (those they see). */
export async function fetchRuleGroups(): Promise<string[]> {
  return (await request<{ groups: string[] }>("/api/rules/groups")).groups;
}

export function createRule(body: NewRule): Promise<NotificationRule> {
  return request<NotificationRule>("/api/rules", { method: "POST", body });
}

/** Every field given, as the form has them (the API also takes only some). */
export function updateRule(id: number, body: NewRule): Promise<NotificationRule> {
  return request<NotificationRule>(`/api/rules/${id}`, { method: "PATCH", body });
}

export function removeRule(id: number): Promise<void> {
  return request<void>(`/api/rules/${id}`, { method: "DELETE" });
}
