import argon2 from "argon2";
import {
  effectiveGrant,
  userNameSchema,
  userRequestSchemas,
  type AddUserReply,
  type AdminUser,
  type DeviceGrant,
  type ResetPasswordReply,
  type Role,
} from "../../protocol/index.ts";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { GrantRecord, UserRecord, UserStore } from "../stores/ports.ts";
import type { DeviceService } from "./devices.ts";
import { badRequest, conflict, notFound, parseRequest } from "./errors.ts";
import type { Origin } from "./origin.ts";
import { generatePassword, hash, newSecret } from "./secrets.ts";

export const FIRST_ADMIN = "admin";

/** Why a user's open feeds end early: their access was withdrawn, or it changed. */
export type FeedEnd = "signed_out" | "access_changed";

/**
 * Who acts: a signed-in admin (by name), or the CLI, which runs with the database file's owner's
 * authority and has no user of its own.
 */
export type Actor = { user: string } | "cli";

function toAdminUser({ name, role, grant }: UserRecord): AdminUser {
  return {
    name,
    role,
    devices: grant.all || role === "admin" ? "all" : grant.devices,
    groups: role === "admin" ? [] : grant.groups,
  };
}

function grantOf(role: Role, devices: DeviceGrant, groups: readonly string[] = []): GrantRecord {
  const effective = effectiveGrant(role, devices);
  return effective === "all"
    ? { all: true, devices: [], groups: [] }
    : { all: false, devices: [...new Set(effective)], groups: [...new Set(groups)] };
}

/**
 * People: adding, changing and removing users, with every rule about them in one place, for the
 * admin API and the CLI alike. Names follow one rule; at least one admin always remains; nobody
 * demotes or removes themselves (another admin must). Withdrawn or changed access ends the user's
 * open feeds at once (`onFeedsEnd`); HTTP requests follow it from the next one.
 */
export class PeopleService {
  private readonly listeners = new Set<(userName: string, why: FeedEnd, origin: Origin) => void>();

  constructor(
    private readonly users: UserStore,
    private readonly devices: DeviceService,
    private readonly clock: Clock,
  ) {}

  onFeedsEnd(listener: (userName: string, why: FeedEnd, origin: Origin) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Another node of the cluster decided that a user's feeds end: they end on this node too. */
  adoptPeerFeedsEnd(userName: string, why: FeedEnd): void {
    for (const listener of this.listeners) listener(userName, why, "peer");
  }

  /**
   * On first run (no users at all) create the `admin` user, with the configured password or a
   * random one printed once: no default credentials ever exist.
   */
  async ensureFirstAdmin(password: string, logger: Logger): Promise<void> {
    if ((await this.users.count()) > 0) return;
    const chosen = password || generatePassword();
    await this.add("cli", { name: FIRST_ADMIN, role: "admin", devices: "all", password: chosen });
    if (password) {
      logger.warn({ user: FIRST_ADMIN }, "created the first admin with LOCUS_ADMIN_PASSWORD");
      return;
    }
    logger.warn({ user: FIRST_ADMIN }, "created the first admin; its password is on stderr, once");
    // Plain text on stderr, not in the JSON log: a person must read it, log shippers should not.
    process.stderr.write(
      `\n  Locus, first run: sign in as "${FIRST_ADMIN}" with password ${chosen}\n` +
        "  It is shown only now. (Set LOCUS_ADMIN_PASSWORD before the first run to choose it.)\n\n",
    );
  }

  async list(): Promise<AdminUser[]> {
    return (await this.users.list()).map(toAdminUser);
  }

  /** Add a user; without a password one is generated and returned this once. */
  async add(_actor: Actor, request: unknown): Promise<AddUserReply> {
    const body = parseRequest(userRequestSchemas.add, request);
    await this.checkGroups(body.groups);
    const password = body.password ?? generatePassword();
    const grant = grantOf(body.role, body.devices, body.groups);
    const passwordHash = await argon2.hash(password, { type: argon2.argon2id });
    const record = { name: body.name, role: body.role, grant, passwordHash };
    if (!(await this.users.create(record, this.clock.now()))) {
      throw conflict(`a user named "${body.name}" already exists`);
    }
    return { ...toAdminUser({ id: 0, ...record }), password };
  }

  /** Replace a user's role and grants; their open feeds reconnect under the new ones. */
  async setAccess(actor: Actor, name: string, request: unknown): Promise<AdminUser> {
    const target = await this.existing(name);
    const body = parseRequest(userRequestSchemas.setAccess, request);
    if (body.role !== "admin" && target.role === "admin") {
      if (actor !== "cli" && actor.user === name) {
        throw conflict("you cannot take away your own admin role");
      }
      await this.checkNotLastAdmin(name, "demoted");
    }
    await this.checkGroups(body.groups);
    const grant = grantOf(body.role, body.devices, body.groups);
    await this.users.setAccess(name, { role: body.role, grant });
    this.endFeeds(name, "access_changed");
    return toAdminUser({ ...target, role: body.role, grant });
  }

  /**
   * A new password (or a generated one, returned this once). Every browser session of the user
   * ends (a reset usually means the old one leaked); API tokens are credentials of their own.
   */
  async resetPassword(_actor: Actor, name: string, request: unknown): Promise<ResetPasswordReply> {
    await this.existing(name);
    const body = parseRequest(userRequestSchemas.resetPassword, request ?? {});
    const password = body.password ?? generatePassword();
    const passwordHash = await argon2.hash(password, { type: argon2.argon2id });
    if (!(await this.users.setPasswordHash(name, passwordHash))) {
      throw notFound(`no user named "${name}"`);
    }
    this.endFeeds(name, "signed_out");
    return { name, password };
  }

  /** Remove a user with their grants, sessions and API tokens. */
  async remove(actor: Actor, name: string): Promise<void> {
    const target = await this.existing(name);
    if (actor !== "cli" && actor.user === name) {
      throw conflict("you cannot remove yourself; ask another admin");
    }
    if (target.role === "admin") await this.checkNotLastAdmin(name, "removed");
    await this.users.remove(name);
    this.endFeeds(name, "signed_out");
  }

  /** A long-lived bearer token for scripts, acting as the user. Shown once. */
  async createApiToken(name: string): Promise<string> {
    const user = await this.existing(name);
    const token = newSecret("lca_");
    await this.users.createApiToken(user.id, hash(token), this.clock.now());
    return token;
  }

  /** The user named by a request, or 404 (a name no user can have names no user). */
  private async existing(name: string): Promise<UserRecord> {
    const record = userNameSchema.safeParse(name).success ? await this.users.byName(name) : null;
    if (!record) throw notFound(`no user named "${String(name).slice(0, 64)}"`);
    return record;
  }

  private async checkNotLastAdmin(name: string, what: "demoted" | "removed"): Promise<void> {
    const admins = (await this.users.list()).filter((u) => u.role === "admin");
    if (admins.length === 1 && admins[0]!.name === name) {
      throw conflict(`"${name}" is the last admin and cannot be ${what}; add another admin first`);
    }
  }

  private async checkGroups(groups: readonly string[] | undefined): Promise<void> {
    if (!groups?.length) return;
    const existing = await this.devices.groupNames();
    const missing = groups.find((g) => !existing.has(g));
    if (missing !== undefined) throw badRequest("groups", `no group named "${missing}"`);
  }

  private endFeeds(userName: string, why: FeedEnd): void {
    for (const listener of this.listeners) listener(userName, why, "here");
  }
}
