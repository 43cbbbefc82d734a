import express, { Router, type Request } from "express";
import type { PushService } from "../../services/push.ts";
import { idParam } from "./notifications.ts";
import { currentUser } from "./session.ts";

/**
 * `/api/push`, mounted behind requireUser: the server's VAPID public key, and each user's own
 * browser subscriptions (someone else's answer 404, like none). See docs/push.md.
 */
export function pushRouter(deps: { push: PushService }): Router {
  const { push } = deps;
  const router = Router();
  router.use("/push", express.json({ limit: "16kb" }));

  router.get("/push/key", (_req, res) => {
    res.json({ publicKey: push.publicKey() });
  });

  router.get("/push/subscriptions", async (_req, res) => {
    res.json({ subscriptions: await push.subscriptions(currentUser(res)) });
  });

  router.post("/push/subscriptions", async (req, res) => {
    const user = currentUser(res);
    res.status(201).json(await push.subscribe(user, req.body, req.get("user-agent")));
  });

  router.delete("/push/subscriptions/:id", async (req: Request<{ id: string }>, res) => {
    await push.unsubscribe(currentUser(res), idParam(req.params.id, "push subscription"));
    res.status(204).end();
  });

  return router;
}
