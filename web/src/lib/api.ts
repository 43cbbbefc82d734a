import type {
  AddDeviceReply,
  AddDeviceRequest,
  AddUserReply,
  AddUserRequest,
  AdminDevice,
  AdminDeviceDetail,
  AdminDevicesReply,
  AdminGroup,
  AdminGroupsReply,
  AdminUser,
  AdminUsersReply,
  ClientConfigReply,
  ErrorReply,
  LoginRequest,
  PositionsReply,
  RemoveDeviceReply,
  SessionReply,
  SessionUser,
  UpdateDeviceRequest,
  ResetPasswordReply,
  SetAccessRequest,
} from "../../../protocol/index.ts";
import type {
  EventPage,
  EventType,
  Geofence,
  GeofenceChange,
  NewGeofence,
} from "../../../protocol/geofence.ts";
import type { Position } from "../../../protocol/position.ts";
import type { PushSubscriptionInfo } from "../../../protocol/push.ts";

/** The REST calls the dashboard makes. Same origin: in development Vite proxies /api. */

export const FALLBACK_CONFIG: Readonly<ClientConfigReply> = {
  tileUrl: "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
  tileAttribution:
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
  tickMs: 100,
  trailMinutes: 15,
};

export class HttpError extends Error {
  readonly status: number;
  /** The server's `error.code` ("invalid_credentials", "rate_limited"…), when it sent one. */
  readonly code: string | undefined;
  /** The request field the server blamed ("shape.ring", "name"), when it named one. */
  readonly field: string | undefined;

  constructor(status: number, message: string, code?: string, field?: string) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

const unauthorizedListeners = new Set<() => void>();

/**
 * Called whenever an authenticated call is refused with 401: the session has ended (expired,
 * logged out elsewhere, server restarted with new secrets), so the app goes back to the login.
 */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export interface RequestOptions {
  method?: "GET" | "POST" | "PATCH" | "DELETE";
  body?: unknown;
  signal?: AbortSignal;
  /** Session calls answer 401 as part of their job (not logged in, wrong password). */
  expect401?: boolean;
}

export async function request<T>(url: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (options.body !== undefined) headers["Content-Type"] = "application/json";
  const res = await fetch(url, {
    method: options.method ?? "GET",
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  if (res.ok) return (res.status === 204 ? undefined : await res.json()) as T;
  // Error bodies are best effort: a proxy in between may answer with HTML.
  const reply = (await res.json().catch(() => null)) as Partial<ErrorReply> | null;
  const message = reply?.error?.message || `${res.status} ${res.statusText} for ${url}`;
  if (res.status === 401 && !options.expect401)
    for (const listener of unauthorizedListeners) listener();
  throw new HttpError(res.status, message, reply?.error?.code, reply?.error?.field);
}

export async function fetchConfig(signal?: AbortSignal): Promise<ClientConfigReply> {
  return {
    ...FALLBACK_CONFIG,
    ...(await request<Partial<ClientConfigReply>>("/api/config", { signal })),
  };
}

/** Cap on pages followed, so a misbehaving `next` cannot loop forever. */
const MAX_PAGES = 100;

/** Every stored fix of a device since `from` (epoch ms), oldest first, following `next` pages. */
export async function fetchPositionsSince(
  deviceId: string,
  from: number,
  signal?: AbortSignal,
): Promise<Position[]> {
  const params = new URLSearchParams({ from: String(Math.floor(from)), limit: "5000" });
  let url: string | null = `/api/devices/${encodeURIComponent(deviceId)}/positions?${params}`;
  const all: Position[] = [];
  for (let page = 0; url && page < MAX_PAGES; page++) {
    const reply: PositionsReply = await request<PositionsReply>(url, { signal });
    for (const p of reply.positions) all.push(p);
    url = reply.next;
  }
  return all;
}

// ---- session ---------------------------------------------------------------------------------

/** Who the session cookie belongs to, or null when there is no valid session. */
export async function fetchSession(): Promise<SessionUser | null> {
  try {
    return (await request<SessionReply>("/api/session", { expect401: true })).user;
  } catch (error) {
    if (error instanceof HttpError && error.status === 401) return null;
    throw error;
  }
}

/** Sets the HttpOnly session cookie on success; rejects with an HttpError otherwise. */
export async function login(credentials: LoginRequest): Promise<SessionUser> {
  const reply = await request<SessionReply>("/api/session", {
    method: "POST",
    body: credentials,
    expect401: true,
  });
  return reply.user;
}

export async function logout(): Promise<void> {
  // 401 here means the session was already gone, which is what logging out wants anyway.
  await request<void>("/api/session", { method: "DELETE", expect401: true }).catch(
    (error: unknown) => {
      if (!(error instanceof HttpError && error.status === 401)) throw error;
    },
  );
}

// ---- administration (admins only; viewers get 403) ------------------------------------------

export function fetchAdminDevices(): Promise<AdminDevicesReply> {
  return request<AdminDevicesReply>("/api/admin/devices");
}

/** Registers a device, or replaces the token of an existing one. The token is shown only now. */
export function addDevice(body: AddDeviceRequest): Promise<AddDeviceReply> {
  return request<AddDeviceReply>("/api/admin/devices", { method: "POST", body });
}

const devicePath = (deviceId: string) => `/api/admin/devices/${encodeURIComponent(deviceId)}`;

/** One device with the number of stored positions removing it would delete. */
export function fetchAdminDevice(deviceId: string): Promise<AdminDeviceDetail> {
  return request<AdminDeviceDetail>(devicePath(deviceId));
}

/** Rename a device (null: show its id), regroup it, or let it report by its id alone. */
export function updateDevice(deviceId: string, body: UpdateDeviceRequest): Promise<AdminDevice> {
  return request<AdminDevice>(devicePath(deviceId), { method: "PATCH", body });
}

/** Remove a device with its whole history; open dashboards drop it at once. */
export function removeDevice(deviceId: string): Promise<RemoveDeviceReply> {
  return request<RemoveDeviceReply>(devicePath(deviceId), { method: "DELETE" });
}

export function fetchGroups(): Promise<AdminGroupsReply> {
  return request<AdminGroupsReply>("/api/admin/groups");
}

export function addGroup(name: string): Promise<AdminGroup> {
  return request<AdminGroup>("/api/admin/groups", { method: "POST", body: { name } });
}

/** Remove a group: its devices stay, grants naming it go. */
export function removeGroup(name: string): Promise<void> {
  return request<void>(`/api/admin/groups/${encodeURIComponent(name)}`, { method: "DELETE" });
}

export function fetchAdminUsers(): Promise<AdminUsersReply> {
  return request<AdminUsersReply>("/api/admin/users");
}

export function addUser(body: AddUserRequest): Promise<AddUserReply> {
  return request<AddUserReply>("/api/admin/users", { method: "POST", body });
}

/** Replace a user's role and device grants; their open dashboards reconnect under the new ones. */
export function setUserAccess(name: string, body: SetAccessRequest): Promise<AdminUser> {
  return request<AdminUser>(`/api/admin/users/${encodeURIComponent(name)}`, {
    method: "PATCH",
    body,
  });
}

/** Give a user a new generated password (shown only now); their sessions end. */
export function resetPassword(name: string): Promise<ResetPasswordReply> {
  return request<ResetPasswordReply>(`/api/admin/users/${encodeURIComponent(name)}/password`, {
    method: "POST",
    body: {},
  });
}

/** Remove a user with their sessions and API tokens. */
export function removeUser(name: string): Promise<void> {
  return request<void>(`/api/admin/users/${encodeURIComponent(name)}`, { method: "DELETE" });
}

// ---- geofences and events (issue #14) --------------------------------------------------------

/** Every fence; any signed-in user may read them (they are drawn on every map). */
export async function fetchGeofences(signal?: AbortSignal): Promise<Geofence[]> {
  return (await request<{ geofences: Geofence[] }>("/api/geofences", { signal })).geofences;
}

/** Admins only. Rejects with the server's "field: rule" message when a rule is broken. */
export function createGeofence(body: NewGeofence): Promise<Geofence> {
  return request<Geofence>("/api/geofences", { method: "POST", body });
}

export function updateGeofence(id: number, body: GeofenceChange): Promise<Geofence> {
  return request<Geofence>(`/api/geofences/${id}`, { method: "PATCH", body });
}

/** Admins only. The fence's past events stay in the log. */
export function deleteGeofence(id: number): Promise<void> {
  return request<void>(`/api/geofences/${id}`, { method: "DELETE" });
}

export interface EventQuery {
  device?: string;
  types?: readonly EventType[];
  geofence?: number;
  /** Epoch ms bounds. */
  from?: number;
  to?: number;
  /** An event id from a previous page's `next`: only older events. */
  before?: number;
  limit?: number;
}

/** A page of events, newest first, of the devices this user may see. */
export function fetchEvents(query: EventQuery = {}, signal?: AbortSignal): Promise<EventPage> {
  const params = new URLSearchParams();
  if (query.device) params.set("device", query.device);
  if (query.types?.length) params.set("type", query.types.join(","));
  for (const key of ["geofence", "from", "to", "before", "limit"] as const) {
    const value = query[key];
    if (value !== undefined) params.set(key, String(Math.floor(value)));
  }
  const search = params.toString();
  return request<EventPage>(`/api/events${search ? `?${search}` : ""}`, { signal });
}

/** The server's VAPID public key, base64url: the application server key browsers subscribe with. */
export async function fetchPushKey(): Promise<string> {
  return (await request<{ publicKey: string }>("/api/push/key")).publicKey;
}

export async function fetchPushSubscriptions(): Promise<PushSubscriptionInfo[]> {
  return (await request<{ subscriptions: PushSubscriptionInfo[] }>("/api/push/subscriptions"))
    .subscriptions;
}

/** `subscription`: what PushSubscription.toJSON() gives. */
export function addPushSubscription(subscription: unknown): Promise<PushSubscriptionInfo> {
  return request("/api/push/subscriptions", { method: "POST", body: subscription });
}

export function removePushSubscription(id: number): Promise<void> {
  return request(`/api/push/subscriptions/${id}`, { method: "DELETE" });
}

/** A sentence for the user: the server's own message when there is one. */
export function describeError(error: unknown): string {
  if (error instanceof HttpError) return error.message;
  // fetch rejects with a TypeError when the request never got an answer.
  if (error instanceof TypeError) return "Cannot reach the Locus server. Check the connection.";
  return error instanceof Error ? error.message : String(error);
}
