import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy to a real server that a test can cut and restore: "down" resets every open
 * connection and every new one, as a database that went away would look to its clients.
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  let up = false;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    if (!up) {
      client.destroy();
      return;
    }
    const upstream = createConnection(target);
    sockets.add(client);
    sockets.add(upstream);
    const cleanup = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', cleanup).on('close', cleanup);
    upstream.on('error', cleanup).on('close', cleanup);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    port,
    up() {
      up = true;
    },
    down() {
      up = false;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    async close() {
      this.down();
      server.close();
      await once(server, 'close');
    },
  };
}
