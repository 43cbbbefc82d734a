import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server, type Socket as ServerSocket } from "socket.io";
import type {
  DeviceClientToServer,
  DeviceServerToClient,
  Position,
  ReportAck,
} from "../../protocol/index.ts";
import {
  createDeviceClient,
  type DeviceClient,
  type DeviceClientOptions,
} from "../../simulator/device-client.ts";

/**
 * A socket.io server made in the test, speaking the device protocol, for the simulator's device
 * client and fleet runner: it stores like Locus does ((device, ts) unique) unless a test answers
 * reports its own way. Call closeAll() after each test.
 */

export const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);

export interface Report {
  socket: ServerSocket<DeviceClientToServer, DeviceServerToClient>;
  positions: Position[];
  /** 1-based count of reports this server has received. */
  n: number;
  /** Store the positions like Locus does ((device, ts) unique) and build the ok ack. */
  store: () => ReportAck;
  ack: (result: ReportAck) => void;
}

export interface TestServer {
  url: string;
  io: Server<DeviceClientToServer, DeviceServerToClient>;
  /** Stored timestamps per device, in the order they were first stored. */
  stored: Map<string, number[]>;
  close: () => Promise<void>;
}

const servers: TestServer[] = [];
const clients: DeviceClient[] = [];

export async function closeAll(): Promise<void> {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((s) => s.close()));
}

export async function startServer(
  handle: (report: Report) => void = (r) => r.ack(r.store()),
  /** A fixed port: a server "restarted" where the client knows to find it. */
  listenPort = 0,
): Promise<TestServer> {
  const http = createServer();
  const io = new Server<DeviceClientToServer, DeviceServerToClient>(http);
  const stored = new Map<string, number[]>();
  let n = 0;
  let closed: Promise<void> | undefined;
  io.of("/device").on("connection", (socket) => {
    const deviceId = String(socket.handshake.auth.deviceId);
    socket.on("position:report", (payload, ack) => {
      const positions = Array.isArray(payload) ? payload : [payload];
      const store = (): ReportAck => {
        const list = stored.get(deviceId) ?? [];
        stored.set(deviceId, list);
        let duplicates = 0;
        for (const p of positions) {
          if (list.includes(p.ts)) duplicates++;
          else list.push(p.ts);
        }
        return { ok: true, accepted: positions.length - duplicates, duplicates, rejected: [] };
      };
      handle({ socket, positions, n: ++n, store, ack });
    });
  });
  await new Promise<void>((resolve) => http.listen(listenPort, "127.0.0.1", resolve));
  const { port } = http.address() as AddressInfo;
  const server: TestServer = {
    url: `http://127.0.0.1:${port}`,
    io,
    stored,
    // Once, whether a test closed it first or not.
    close: () => (closed ??= new Promise<void>((resolve) => void io.close(() => resolve()))),
  };
  servers.push(server);
  return server;
}

export function client(url: string, options: Partial<DeviceClientOptions> = {}): DeviceClient {
  const c = createDeviceClient({
    url,
    deviceId: "dev-1",
    ackTimeoutMs: 2_000,
    ...options,
    // Fast reconnects keep the tests quick.
    ioOptions: { reconnectionDelay: 20, reconnectionDelayMax: 50, ...options.ioOptions },
  });
  clients.push(c);
  return c;
}

export const position = (i: number): Position => ({ ts: T0 + i * 1000, lat: 52.5, lon: 13.4 });
export const range = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, k) => from + k);
export const tsOf = (is: number[]) => is.map((i) => position(i).ts);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
