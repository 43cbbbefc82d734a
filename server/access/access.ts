import type { IncomingHttpHeaders } from "node:http";
import { parse as parseCookies } from "cookie";
import type { Clock } from "../clock.ts";
import type { User, UserStore } from "../store/user-store.ts";

export const SESSION_COOKIE = "locus_session";

/**
 * Who is asking: a browser session (HttpOnly cookie) or a script's API token
 * (`Authorization: Bearer lca_…`, or socket.io `auth.token`). HTTP and socket.io ask the same way.
 */
export class Access {
  constructor(
    private readonly users: UserStore,
    private readonly clock: Clock,
    private readonly sessionTtlMs: number,
  ) {}

  identify(headers: IncomingHttpHeaders, authToken?: unknown): User | null {
    const bearer = /^Bearer (\S+)$/.exec(headers.authorization ?? "")?.[1];
    const apiToken = bearer ?? (typeof authToken === "string" ? authToken : undefined);
    if (apiToken) return this.users.apiTokenUser(apiToken);
    const session = this.sessionToken(headers);
    return session ? this.users.sessionUser(session, this.clock.now()) : null;
  }

  sessionToken(headers: IncomingHttpHeaders): string | undefined {
    return headers.cookie ? parseCookies(headers.cookie)[SESSION_COOKIE] : undefined;
  }

  async login(
    name: string,
    password: string,
  ): Promise<{ user: User; token: string; expiresAt: number } | null> {
    const user = await this.users.verifyPassword(name, password);
    if (!user) return null;
    const now = this.clock.now();
    this.users.deleteExpiredSessions(now);
    const expiresAt = now + this.sessionTtlMs;
    return { user, token: this.users.createSession(user.id, expiresAt), expiresAt };
  }

  logout(headers: IncomingHttpHeaders): void {
    const token = this.sessionToken(headers);
    if (token) this.users.deleteSession(token);
  }
}
