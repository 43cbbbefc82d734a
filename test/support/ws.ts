import { WebSocket, type ClientOptions } from "ws";
import type { WsServerFrame } from "../../protocol/ws.ts";
import { waitFor } from "./locus.ts";

/** A plain WebSocket client (the `ws` package, as a command-line client would use) that records every frame. */
export class WsClient {
  readonly frames: WsServerFrame[] = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => this.frames.push(JSON.parse(data.toString()) as WsServerFrame));
    socket.on("close", (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  /** Open `ws://…/ws…`; rejects with the HTTP status when the upgrade is refused. */
  static open(url: string, options: ClientOptions = {}): Promise<WsClient> {
    const socket = new WebSocket(url, options);
    const client = new WsClient(socket);
    return new Promise((resolve, reject) => {
      socket.once("open", () => resolve(client));
      socket.once("unexpected-response", (_req, res) => {
        reject(
          Object.assign(new Error(`upgrade refused: ${res.statusCode}`), {
            status: res.statusCode,
          }),
        );
        socket.terminate();
      });
      socket.once("error", reject);
    });
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The first frame received so far (or later) that matches. */
  frame<T extends WsServerFrame["type"]>(
    type: T,
    match: (f: Extract<WsServerFrame, { type: T }>) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<Extract<WsServerFrame, { type: T }>> {
    return waitFor(
      () =>
        this.frames.find(
          (f): f is Extract<WsServerFrame, { type: T }> =>
            f.type === type && match(f as Extract<WsServerFrame, { type: T }>),
        ),
      { timeoutMs, what: `a ${type} frame` },
    );
  }

  /** Send a report and wait for its ack. */
  async report(id: number, positions: unknown) {
    this.send({ type: "position:report", id, positions });
    return this.frame("ack", (a) => a.id === id);
  }

  waitClosed(timeoutMs = 5000) {
    return waitFor(() => this.closed, { timeoutMs, what: "the socket to close" });
  }

  close(): void {
    this.socket.close();
  }
}

export const wsUrl = (httpUrl: string, query = "") =>
  `${httpUrl.replace(/^http/, "ws")}/ws${query}`;
