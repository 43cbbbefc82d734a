import type { Access } from "../access/access.ts";
import type { LiveNamespace } from "./hub.ts";

/**
 * Dashboards must be signed in: the browser's session cookie rides on the socket.io handshake,
 * scripts pass an API token as `auth.token`. The user is kept on the socket so the hub sends
 * each dashboard only the devices granted to its user.
 */
export function attachLiveAuth(nsp: LiveNamespace, access: Access): void {
  nsp.use((socket, next) => {
    const user = access.identify(socket.handshake.headers, socket.handshake.auth?.token);
    if (!user) {
      const err = Object.assign(new Error("unauthorized"), {
        data: { code: "unauthorized", message: "sign in first" },
      });
      return next(err);
    }
    socket.data.user = user;
    next();
  });
}
