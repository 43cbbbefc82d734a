import express, { Router, type Request } from "express";
import type {
  AddDeviceReply,
  AdminDeviceDetail,
  AdminDevicesReply,
  AdminGroupsReply,
  AdminUsersReply,
  RemoveDeviceReply,
} from "../../../protocol/index.ts";
import { toAdminDevice } from "../../services/device-shapes.ts";
import type { DeviceService } from "../../services/devices.ts";
import type { PeopleService } from "../../services/people.ts";
import { currentUser } from "./session.ts";

/**
 * `/api/admin`: devices, groups and users, each route one call to the service that owns the
 * rules. Mounted behind requireUser + requireAdmin.
 */
export function adminRouter(deps: { devices: DeviceService; people: PeopleService }): Router {
  const { devices, people } = deps;
  const router = Router();
  router.use(express.json({ limit: "256kb" }));
  const actor = (res: Parameters<typeof currentUser>[0]) => ({ user: currentUser(res).name });

  router.get("/devices", async (_req, res) => {
    const reply: AdminDevicesReply = { devices: (await devices.list()).map(toAdminDevice) };
    res.json(reply);
  });

  router.post("/devices", async (req, res) => {
    const { device, token } = await devices.register(req.body);
    const reply: AddDeviceReply = { ...toAdminDevice(device), token };
    res.status(201).json(reply);
  });

  router.get("/devices/:id", async (req: Request<{ id: string }>, res) => {
    const reply: AdminDeviceDetail = await devices.detail(req.params.id);
    res.json(reply);
  });

  // Rename, regroup, or let a phone app that cannot send a token report by its id alone.
  router.patch("/devices/:id", async (req: Request<{ id: string }>, res) => {
    res.json(toAdminDevice(await devices.change(req.params.id, req.body)));
  });

  router.delete("/devices/:id", async (req: Request<{ id: string }>, res) => {
    const deviceId = req.params.id;
    const reply: RemoveDeviceReply = { deviceId, positionsRemoved: await devices.remove(deviceId) };
    res.json(reply);
  });

  router.get("/groups", async (_req, res) => {
    const reply: AdminGroupsReply = { groups: await devices.groups() };
    res.json(reply);
  });

  router.post("/groups", async (req, res) => {
    res.status(201).json(await devices.addGroup(req.body));
  });

  router.delete("/groups/:name", async (req: Request<{ name: string }>, res) => {
    await devices.removeGroup(req.params.name);
    res.status(204).end();
  });

  router.get("/users", async (_req, res) => {
    const reply: AdminUsersReply = { users: await people.list() };
    res.json(reply);
  });

  router.post("/users", async (req, res) => {
    res.status(201).json(await people.add(actor(res), req.body));
  });

  router.patch("/users/:name", async (req: Request<{ name: string }>, res) => {
    res.json(await people.setAccess(actor(res), req.params.name, req.body));
  });

  // Set a new password (or generate one, returned this once); the user's sessions end.
  router.post("/users/:name/password", async (req: Request<{ name: string }>, res) => {
    res.json(await people.resetPassword(actor(res), req.params.name, req.body));
  });

  router.delete("/users/:name", async (req: Request<{ name: string }>, res) => {
    await people.remove(actor(res), req.params.name);
    res.status(204).end();
  });

  return router;
}
