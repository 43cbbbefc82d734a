import type { LoginRequest, SessionUser } from "../../../../protocol/api.ts";
import * as api from "../api.ts";

/**
 * Who is signed in. The session itself is an HttpOnly cookie the page cannot read, so the server
 * is asked once at start (`GET /api/session`); afterwards any 401 — from a REST call or the live
 * socket — means the session is over and the login page comes back.
 */
class Session {
  user = $state<SessionUser | null>(null);
  /** False until the first answer from the server, so neither page flashes up by mistake. */
  checked = $state(false);
  /** Why the login page is showing, when it is not simply a first visit. */
  notice = $state<string | null>(null);

  constructor() {
    api.onUnauthorized(() => this.expired());
    void this.check();
  }

  async check(): Promise<void> {
    try {
      this.user = await api.fetchSession();
    } catch (error) {
      console.warn("Locus: cannot read the session", error);
      this.notice = "Cannot reach the Locus server right now.";
    } finally {
      this.checked = true;
    }
  }

  /** Rejects with an `HttpError` (wrong password, rate limited…) for the login form to show. */
  async login(credentials: LoginRequest): Promise<void> {
    this.user = await api.login(credentials);
    this.notice = null;
  }

  /**
   * Rejects if the server could not be told: the cookie would still be valid, so pretending to
   * be logged out on a shared computer would be worse than saying it failed.
   */
  async logout(): Promise<void> {
    await api.logout();
    this.user = null;
    this.notice = null;
  }

  /** The server no longer accepts the session (expired, revoked, logged out in another tab). */
  expired(): void {
    if (!this.user) return;
    this.user = null;
    this.notice = "Your session has ended. Please sign in again.";
  }
}

export const session = new Session();
