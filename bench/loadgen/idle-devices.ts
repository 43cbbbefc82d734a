import { parseArgs } from "node:util";
import { io, type Socket } from "socket.io-client";
import type { DeviceClientToServer, DeviceServerToClient } from "../../protocol/index.ts";
import { rssMb } from "../lib/proc.ts";
import { connectAll, waitForGo } from "./common.ts";

/**
 * Load generator: N real socket.io device clients that connect on `go` and then say nothing.
 * Prints `{ready}` at once, one line when all are connected (with when that started and ended,
 * so the scenario can time several processes together), and stays until it is stopped.
 */
const { values } = parseArgs({
  options: {
    url: { type: "string" },
    devices: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "100" },
    prefix: { type: "string", default: "idle-" },
  },
});
console.log(JSON.stringify({ ready: true }));
await waitForGo();

type DeviceSocket = Socket<DeviceServerToClient, DeviceClientToServer>;
const { sockets, connectErrors, startedAt, endedAt } = await connectAll(
  Number(values.devices),
  Number(values.concurrency),
  (i): DeviceSocket =>
    io(`${values.url}/device`, {
      transports: ["websocket"],
      forceNew: true,
      auth: { deviceId: `${values.prefix}${i}` },
    }),
);
let disconnects = 0;
for (const s of sockets) s.on("disconnect", () => disconnects++);
console.log(
  JSON.stringify({
    connected: sockets.filter((s) => s.connected).length,
    connectErrors,
    startedAt,
    endedAt,
    clientRssMb: Math.round(rssMb(process.pid)),
  }),
);
// Idle until stopped; report drops on the way out so a silent disconnect cannot go unseen.
process.on("SIGTERM", () => {
  console.log(JSON.stringify({ disconnects }));
  process.exit(0);
});
