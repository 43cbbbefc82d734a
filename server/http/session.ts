import express, { Router, type RequestHandler } from "express";
import { z } from "zod";
import type { ErrorReply, SessionReply } from "../../protocol/index.ts";
import { SESSION_COOKIE, type Access } from "../access/access.ts";
import type { Clock } from "../clock.ts";
import type { RateLimiter } from "../ingest/rate-limit.ts";
import type { User } from "../store/user-store.ts";
import { BadRequest } from "./params.ts";

const loginSchema = z.strictObject({
  username: z.string().min(1).max(64),
  password: z.string().min(1).max(256),
});

const publicUser = (user: User): SessionReply => ({ user: { name: user.name, role: user.role } });

/** The signed-in user of this request (set by `requireUser`). */
export function currentUser(res: { locals: Record<string, unknown> }): User {
  return res.locals.user as User;
}

export function requireUser(access: Access): RequestHandler {
  return (req, res, next) => {
    const user = access.identify(req.headers);
    if (!user) {
      const reply: ErrorReply = { error: { code: "unauthorized", message: "sign in first" } };
      res.status(401).json(reply);
      return;
    }
    res.locals.user = user;
    next();
  };
}

export const requireAdmin: RequestHandler = (_req, res, next) => {
  if (currentUser(res).role === "admin") return next();
  const reply: ErrorReply = { error: { code: "forbidden", message: "only admins may do this" } };
  res.status(403).json(reply);
};

/** `/api/session`: sign in (rate limited per address and per name), who am I, sign out. */
export function sessionRouter(deps: {
  access: Access;
  limiter: RateLimiter;
  clock: Clock;
}): Router {
  const { access, limiter, clock } = deps;
  const router = Router();

  router.post("/", express.json({ limit: "4kb" }), async (req, res) => {
    const parsed = loginSchema.safeParse(req.body);
    if (!parsed.success)
      throw new BadRequest("body", "must be { username, password } as JSON strings");
    const { username, password } = parsed.data;
    const now = clock.now();
    // Both keys are charged, so neither many names from one address nor one name from many
    // addresses gets more than a handful of guesses a minute.
    const byAddress = limiter.take(`ip:${req.ip}`, now);
    const byName = limiter.take(`user:${username}`, now);
    if (!byAddress || !byName) {
      const wait = Math.max(
        limiter.retryAfterMs(`ip:${req.ip}`),
        limiter.retryAfterMs(`user:${username}`),
      );
      const reply: ErrorReply = {
        error: {
          code: "rate_limited",
          message: `too many sign-in attempts; try again in ${Math.ceil(wait / 1000)} s`,
        },
      };
      res.status(429).json(reply);
      return;
    }
    const session = await access.login(username, password);
    if (!session) {
      const reply: ErrorReply = {
        error: { code: "invalid_credentials", message: "wrong user name or password" },
      };
      res.status(401).json(reply);
      return;
    }
    res.cookie(SESSION_COOKIE, session.token, {
      httpOnly: true,
      sameSite: "strict",
      secure: req.secure,
      path: "/",
      expires: new Date(session.expiresAt),
    });
    res.json(publicUser(session.user));
  });

  router.get("/", requireUser(access), (_req, res) => {
    res.json(publicUser(currentUser(res)));
  });

  router.delete("/", (req, res) => {
    access.logout(req.headers);
    res.clearCookie(SESSION_COOKIE, { path: "/" });
    res.status(204).end();
  });

  return router;
}
