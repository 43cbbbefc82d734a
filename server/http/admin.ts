import express, { Router } from "express";
import { z } from "zod";
import {
  deviceIdSchema,
  effectiveGrant,
  type AddDeviceReply,
  type AddUserReply,
  type AdminUser,
  type AdminDevicesReply,
  type AdminUsersReply,
  type ResetPasswordReply,
} from "../../protocol/index.ts";
import { describeIssue } from "../../protocol/validate.ts";
import type { DeviceRegistry } from "../store/device-registry.ts";
import { generatePassword } from "../store/secrets.ts";
import type { FeedEnd } from "../live/hub.ts";
import { DuplicateUser, type UserStore } from "../store/user-store.ts";
import { NotFound } from "./api.ts";
import { HttpError } from "./errors.ts";
import { BadRequest } from "./params.ts";
import { currentUser } from "./session.ts";

const addDeviceSchema = z.strictObject({ deviceId: deviceIdSchema });
const updateDeviceSchema = z.strictObject({
  idOnly: z.boolean({ error: "must be true or false" }),
});
const userNameSchema = z
  .string()
  .regex(/^[\w.@-]{1,64}$/, { error: "must be 1–64 letters, digits, _ . @ -" });
const passwordSchema = z
  .string()
  .min(10, { error: "must be at least 10 characters" })
  .max(256, { error: "must be at most 256 characters" });
const addUserSchema = z.strictObject({
  name: userNameSchema,
  role: z.enum(["admin", "viewer"], { error: 'must be "admin" or "viewer"' }),
  devices: z.union([z.literal("all"), z.array(deviceIdSchema).max(10_000)], {
    error: 'must be "all" or a list of device ids',
  }),
  password: passwordSchema.optional(),
});
const resetPasswordSchema = z.strictObject({ password: passwordSchema.optional() });
const setAccessSchema = addUserSchema.pick({ role: true, devices: true });

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const parsed = schema.safeParse(body, { reportInput: true });
  if (parsed.success) return parsed.data;
  const { field, message } = describeIssue(parsed.error.issues[0]);
  throw new BadRequest(field || "body", message);
}

/** The `:name` of a user route, or 404 (a name no user can have names no user). */
function existingUser(users: UserStore, name: string): string {
  if (!userNameSchema.safeParse(name).success || users.idOf(name) === null) {
    throw new NotFound(`no user named "${name.slice(0, 64)}"`);
  }
  return name;
}

/**
 * `/api/admin`: devices and users. Mounted behind requireUser + requireAdmin. `endFeeds` ends the
 * named user's live feeds (dashboards, plain WebSocket viewers) when their access is withdrawn or
 * changed: HTTP requests follow the change from the next one, but an open socket would otherwise
 * go on streaming under the old access.
 */
export function adminRouter(deps: {
  registry: DeviceRegistry;
  users: UserStore;
  endFeeds: (userName: string, why: FeedEnd) => void;
}): Router {
  const { registry, users, endFeeds } = deps;
  const router = Router();
  router.use(express.json({ limit: "256kb" }));

  router.get("/devices", (_req, res) => {
    const reply: AdminDevicesReply = { devices: registry.list() };
    res.json(reply);
  });

  router.post("/devices", (req, res) => {
    const { deviceId } = parse(addDeviceSchema, req.body);
    const reply: AddDeviceReply = { deviceId, token: registry.issueToken(deviceId) };
    res.status(201).json(reply);
  });

  // Let a phone app that cannot send a token report by its identifier alone, or stop it.
  router.patch("/devices/:id", (req, res) => {
    const id = deviceIdSchema.safeParse(req.params.id);
    if (!id.success) throw new BadRequest("id", describeIssue(id.error.issues[0]).message);
    const deviceId = id.data;
    const { idOnly } = parse(updateDeviceSchema, req.body);
    registry.setIdOnly(deviceId, idOnly);
    const reply = registry.list().find((d) => d.deviceId === deviceId);
    res.json(reply);
  });

  router.get("/users", (_req, res) => {
    const reply: AdminUsersReply = { users: users.list() };
    res.json(reply);
  });

  router.post("/users", async (req, res) => {
    const body = parse(addUserSchema, req.body);
    const password = body.password ?? generatePassword();
    const devices = effectiveGrant(body.role, body.devices);
    try {
      await users.create({ ...body, devices, password });
    } catch (err) {
      if (err instanceof DuplicateUser) throw new HttpError(409, "conflict", err.message);
      throw err;
    }
    const reply: AddUserReply = { name: body.name, role: body.role, devices, password };
    res.status(201).json(reply);
  });

  // Replace the user's role and device grants.
  router.patch("/users/:name", (req, res) => {
    const name = existingUser(users, req.params.name);
    const body = parse(setAccessSchema, req.body);
    // Also what keeps at least one admin: the one asking stays one.
    if (name === currentUser(res).name && body.role !== "admin") {
      throw new HttpError(409, "conflict", "you cannot take away your own admin role");
    }
    const devices = effectiveGrant(body.role, body.devices);
    users.setAccess(name, { role: body.role, devices });
    endFeeds(name, "access_changed");
    const reply: AdminUser = { name, role: body.role, devices };
    res.json(reply);
  });

  // Set a new password (or generate one, returned this once); the user's sessions end.
  router.post("/users/:name/password", async (req, res) => {
    const name = existingUser(users, req.params.name);
    const password = parse(resetPasswordSchema, req.body ?? {}).password ?? generatePassword();
    if (!(await users.setPassword(name, password))) throw new NotFound(`no user named "${name}"`);
    endFeeds(name, "signed_out");
    const reply: ResetPasswordReply = { name, password };
    res.json(reply);
  });

  router.delete("/users/:name", (req, res) => {
    const name = existingUser(users, req.params.name);
    // Also what keeps at least one admin: the one asking stays.
    if (name === currentUser(res).name) {
      throw new HttpError(409, "conflict", "you cannot remove yourself; ask another admin");
    }
    users.remove(name);
    endFeeds(name, "signed_out");
    res.status(204).end();
  });

  return router;
}
