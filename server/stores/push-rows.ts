import type { PushSubscriptionRecord } from "./ports.ts";

/** push_subscriptions rows as both stores read them, and the record made of one. */
export interface SubscriptionColumns {
  id: number;
  user_id: number;
  endpoint: string;
  p256dh: string;
  auth: string;
  label: string;
  created_at: number;
}

export const SUBSCRIPTION_COLUMNS = "id, user_id, endpoint, p256dh, auth, label, created_at";

export const toSubscription = (r: SubscriptionColumns): PushSubscriptionRecord => ({
  id: r.id,
  userId: r.user_id,
  endpoint: r.endpoint,
  p256dh: r.p256dh,
  auth: r.auth,
  label: r.label,
  createdAt: r.created_at,
});

/** The server_keys rows of the VAPID pair. */
export const VAPID_PUBLIC = "vapid_public";
export const VAPID_PRIVATE = "vapid_private";
