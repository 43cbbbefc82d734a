import { timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import argon2 from "argon2";
import { parse as parseCookies } from "cookie";
import { deviceIdSchema, type Role } from "../../protocol/index.ts";
import type { Clock } from "../clock.ts";
import type { UserRecord, UserStore } from "../stores/ports.ts";
import type { DeviceService } from "./devices.ts";
import { forbidden, LocusError, notFound } from "./errors.ts";
import type { FeedEnd } from "./people.ts";
import { hash, newSecret } from "./secrets.ts";

export const SESSION_COOKIE = "locus_session";

/** A signed-in person: who, what they may do, and which devices they may see. */
export interface User {
  id: number;
  name: string;
  role: Role;
  grant: {
    /** Every device (always so for admins). */
    all: boolean;
    devices: ReadonlySet<string>;
    /** Groups whose members, present and future, they see. */
    groups: ReadonlySet<string>;
  };
}

export function toUser({ id, name, role, grant }: UserRecord): User {
  return {
    id,
    name,
    role,
    grant: {
      all: role === "admin" || grant.all,
      devices: new Set(grant.devices),
      groups: new Set(grant.groups),
    },
  };
}

/**
 * How a user's access changed between when a feed started and now (`now` null: their credentials
 * no longer identify anyone), or null when it did not: the answer PeopleService gives when it makes
 * the change itself, for a node that has to find out by asking again.
 */
export function accessChange(before: User, now: User | null): FeedEnd | null {
  if (!now) return "signed_out";
  const same = (a: ReadonlySet<string>, b: ReadonlySet<string>) =>
    a.size === b.size && [...a].every((x) => b.has(x));
  const unchanged =
    before.role === now.role &&
    before.grant.all === now.grant.all &&
    same(before.grant.devices, now.grant.devices) &&
    same(before.grant.groups, now.grant.groups);
  return unchanged ? null : "access_changed";
}

/**
 * Who is asking, and what they may see. A browser session (HttpOnly cookie) or a script's API
 * token (`Authorization: Bearer lca_…`, or socket.io `auth.token`): HTTP, socket.io and the plain
 * WebSocket ask the same way. `canSee` is the one answer to "may this user see this device", for
 * every route, feed and channel.
 */
export class AccessService {
  /** Compared against when a name is unknown, so a wrong name costs as long as a wrong password. */
  private readonly decoyHash = argon2.hash("decoy password");

  constructor(
    private readonly users: UserStore,
    private readonly devices: DeviceService,
    private readonly clock: Clock,
    private readonly sessionTtlMs: number,
    /** `--metrics-token`: lets Prometheus scrape without a user; empty: admins only. */
    private readonly metricsToken = "",
  ) {}

  async identify(headers: IncomingHttpHeaders, authToken?: unknown): Promise<User | null> {
    const bearer = /^Bearer (\S+)$/.exec(headers.authorization ?? "")?.[1];
    const apiToken = bearer ?? (typeof authToken === "string" ? authToken : undefined);
    if (apiToken) return this.userOf(await this.users.apiTokenUser(hash(apiToken)));
    const session = this.sessionToken(headers);
    if (!session) return null;
    return this.userOf(await this.users.sessionUser(hash(session), this.clock.now()));
  }

  /**
   * `/metrics` shows how the whole fleet is doing, so it is for admins (a session or an API
   * token), or for Prometheus with the scrape token as its Bearer. Throws unauthorized without
   * any of these, forbidden for a signed-in non-admin.
   */
  async checkMetricsReader(headers: IncomingHttpHeaders): Promise<void> {
    const bearer = /^Bearer (\S+)$/.exec(headers.authorization ?? "")?.[1];
    if (bearer && this.metricsToken && sameSecret(bearer, this.metricsToken)) return;
    const user = await this.identify(headers);
    if (!user) throw new LocusError("unauthorized", "sign in as an admin or send the scrape token");
    if (user.role !== "admin") throw forbidden("only admins and the scrape token may read metrics");
  }

  sessionToken(headers: IncomingHttpHeaders): string | undefined {
    return headers.cookie ? parseCookies(headers.cookie)[SESSION_COOKIE] : undefined;
  }

  /** A new session if the password is right, else null; takes as long either way. */
  async login(
    name: string,
    password: string,
  ): Promise<{ user: User; token: string; expiresAt: number } | null> {
    const record = await this.users.byName(name);
    const ok = await argon2
      .verify(record ? record.passwordHash : await this.decoyHash, password)
      .catch(() => false);
    if (!record || !ok) return null;
    const now = this.clock.now();
    await this.users.deleteExpiredSessions(now);
    const expiresAt = now + this.sessionTtlMs;
    const token = newSecret("lcs_");
    await this.users.createSession(record.id, hash(token), expiresAt);
    return { user: toUser(record), token, expiresAt };
  }

  async logout(headers: IncomingHttpHeaders): Promise<void> {
    const token = this.sessionToken(headers);
    if (token) await this.users.deleteSession(hash(token));
  }

  /** Whether the user may see the device: granted all, by id, or by one of its groups. */
  canSee(user: User, deviceId: string): boolean {
    const { grant } = user;
    if (grant.all || grant.devices.has(deviceId)) return true;
    if (grant.groups.size === 0) return false;
    return this.devices.groupsOf(deviceId).some((g) => grant.groups.has(g));
  }

  /** As `canSee`, for a device with the given groups (before or after a change). */
  canSeeIn(user: User, deviceId: string, groups: readonly string[]): boolean {
    const { grant } = user;
    return grant.all || grant.devices.has(deviceId) || groups.some((g) => grant.groups.has(g));
  }

  /**
   * The device named by a request, if it exists and the user may see it. Not granted answers
   * exactly like unknown, so a viewer cannot probe which devices exist. A registered device that
   * never reported exists.
   */
  async visibleDevice(user: User, deviceId: string): Promise<string> {
    const exists =
      deviceIdSchema.safeParse(deviceId).success && (await this.devices.find(deviceId)) !== null;
    if (!exists || !this.canSee(user, deviceId)) {
      throw notFound(`no device "${String(deviceId).slice(0, 64)}"`);
    }
    return deviceId;
  }

  /** A user by name, or null: for the CLI, which acts as a named user without a session. */
  async userNamed(name: string): Promise<User | null> {
    return this.userOf(await this.users.byName(name));
  }

  private userOf(record: UserRecord | null): User | null {
    return record ? toUser(record) : null;
  }
}

/** Constant-time comparison (of hashes, so the lengths match and leak nothing either). */
function sameSecret(given: string, expected: string): boolean {
  return timingSafeEqual(Buffer.from(hash(given), "hex"), Buffer.from(hash(expected), "hex"));
}
