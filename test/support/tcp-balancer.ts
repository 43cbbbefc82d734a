import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A load balancer in front of several nodes, as HAProxy or nginx would stand in a deployment
 * (docs/scaling.md), reduced to what the cluster tests need: each new TCP connection goes to the
 * next node in turn, skipping nodes that refuse it, and lives and dies with that node's side. A
 * device whose node is killed reconnects through it and lands on a node that is up.
 */
export interface TcpBalancer {
  url: string;
  close(): Promise<void>;
}

export async function startTcpBalancer(ports: readonly number[]): Promise<TcpBalancer> {
  let next = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    open.add(client);
    client.on("close", () => open.delete(client));
    client.on("error", () => client.destroy());
    client.pause();
    const tryNode = (attempt: number) => {
      if (attempt >= ports.length) return client.destroy();
      const port = ports[next++ % ports.length]!;
      const upstream = connect(port, "127.0.0.1");
      upstream.once("connect", () => {
        // The client may have gone while this side was connecting: no upstream left behind.
        if (client.destroyed) return upstream.destroy();
        open.add(upstream);
        upstream.on("close", () => {
          open.delete(upstream);
          client.destroy();
        });
        upstream.on("error", () => upstream.destroy());
        client.on("close", () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.once("error", () => {
        if (!upstream.readyState.startsWith("open")) tryNode(attempt + 1);
      });
    };
    tryNode(0);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
