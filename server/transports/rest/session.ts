import express, { Router, type RequestHandler } from "express";
import { z } from "zod";
import type { SessionReply } from "../../../protocol/index.ts";
import type { Clock } from "../../clock.ts";
import { SESSION_COOKIE, type AccessService, type User } from "../../services/access.ts";
import { forbidden, LocusError, parseRequest } from "../../services/errors.ts";
import type { RateLimiter } from "../../services/rate-limit.ts";

const loginSchema = z.strictObject({
  username: z.string({ error: "must be a string" }).min(1).max(64),
  password: z.string({ error: "must be a string" }).min(1).max(256),
});

const publicUser = (user: User): SessionReply => ({ user: { name: user.name, role: user.role } });

/** The signed-in user of this request (set by `requireUser`). */
export function currentUser(res: { locals: Record<string, unknown> }): User {
  return res.locals.user as User;
}

export function requireUser(access: AccessService): RequestHandler {
  return async (req, res, next) => {
    const user = await access.identify(req.headers);
    if (!user) throw new LocusError("unauthorized", "sign in first");
    res.locals.user = user;
    next();
  };
}

export const requireAdmin: RequestHandler = (_req, res, next) => {
  if (currentUser(res).role !== "admin") throw forbidden("only admins may do this");
  next();
};

/** `/api/session`: sign in (rate limited per address and per name), who am I, sign out. */
export function sessionRouter(deps: {
  access: AccessService;
  limiter: RateLimiter;
  clock: Clock;
}): Router {
  const { access, limiter, clock } = deps;
  const router = Router();

  router.post("/", express.json({ limit: "4kb" }), async (req, res) => {
    const { username, password } = parseRequest(loginSchema, req.body);
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
      throw new LocusError(
        "rate_limited",
        `too many sign-in attempts; try again in ${Math.ceil(wait / 1000)} s`,
        { retryAfterMs: wait },
      );
    }
    const session = await access.login(username, password);
    if (!session) throw new LocusError("invalid_credentials", "wrong user name or password");
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

  router.delete("/", async (req, res) => {
    await access.logout(req.headers);
    res.clearCookie(SESSION_COOKIE, { path: "/" });
    res.status(204).end();
  });

  return router;
}
