import type { LiveNamespace } from "../../live/hub.ts";
import type { Logger } from "../../logger.ts";
import type { AccessService } from "../../services/access.ts";
import { errorBody } from "../errors.ts";

/**
 * Dashboards must be signed in: the browser's session cookie rides on the socket.io handshake,
 * scripts pass an API token as `auth.token`. The user is kept on the socket so the hub sends
 * each dashboard only the devices granted to its user.
 */
export function attachDashboardAuth(
  nsp: LiveNamespace,
  access: AccessService,
  logger: Logger,
): void {
  nsp.use((socket, next) => {
    access.identify(socket.handshake.headers, socket.handshake.auth?.token).then(
      (user) => {
        if (!user) {
          const data = { code: "unauthorized", message: "sign in first" };
          return next(Object.assign(new Error("unauthorized"), { data }));
        }
        socket.data.user = user;
        next();
      },
      (err: unknown) => {
        const data = errorBody(err, logger, { where: "dashboard handshake" });
        next(Object.assign(new Error(data.message), { data }));
      },
    );
  });
}
