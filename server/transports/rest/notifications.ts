import express, { Router, type Request } from "express";
import { DELIVERIES_MAX_LIMIT } from "../../../protocol/notifications.ts";
import { badRequest } from "../../services/errors.ts";
import type { NotificationService } from "../../services/notifications.ts";
import { intParam } from "./params.ts";
import { currentUser } from "./session.ts";

/**
 * `/api/webhooks` and `/api/rules`, mounted behind requireUser: each user's own notification
 * webhooks and rules (someone else's answer 404, like none). See docs/webhooks.md.
 */
export function notificationsRouter(deps: { notifications: NotificationService }): Router {
  const { notifications } = deps;
  const router = Router();
  router.use(["/webhooks", "/rules"], express.json({ limit: "64kb" }));

  router.get("/webhooks", async (_req, res) => {
    res.json({ webhooks: await notifications.webhooks(currentUser(res)) });
  });

  router.post("/webhooks", async (req, res) => {
    res.status(201).json(await notifications.createWebhook(currentUser(res), req.body));
  });

  router.delete("/webhooks/:id", async (req: Request<{ id: string }>, res) => {
    await notifications.removeWebhook(currentUser(res), idParam(req.params.id, "webhook"));
    res.status(204).end();
  });

  router.post("/webhooks/:id/test", async (req: Request<{ id: string }>, res) => {
    res.json(await notifications.testWebhook(currentUser(res), idParam(req.params.id, "webhook")));
  });

  // ?limit=
  router.get("/webhooks/:id/deliveries", async (req: Request<{ id: string }>, res) => {
    const limit = intParam(req.query, "limit", {
      fallback: 100,
      min: 1,
      max: DELIVERIES_MAX_LIMIT,
    });
    const id = idParam(req.params.id, "webhook");
    res.json({ deliveries: await notifications.deliveries(currentUser(res), id, limit) });
  });

  // The groups a rule may name: /api/admin/groups is for admins, rules are for everyone.
  router.get("/rules/groups", async (_req, res) => {
    res.json({ groups: await notifications.groups(currentUser(res)) });
  });

  router.get("/rules", async (_req, res) => {
    res.json({ rules: await notifications.rules(currentUser(res)) });
  });

  router.post("/rules", async (req, res) => {
    res.status(201).json(await notifications.createRule(currentUser(res), req.body));
  });

  router.patch("/rules/:id", async (req: Request<{ id: string }>, res) => {
    const id = idParam(req.params.id, "rule");
    res.json(await notifications.updateRule(currentUser(res), id, req.body));
  });

  router.delete("/rules/:id", async (req: Request<{ id: string }>, res) => {
    await notifications.removeRule(currentUser(res), idParam(req.params.id, "rule"));
    res.status(204).end();
  });

  return router;
}

export function idParam(raw: string, what: string): number {
  if (!/^\d{1,15}$/.test(raw) || Number(raw) < 1) throw badRequest("id", `must be a ${what} id`);
  return Number(raw);
}
