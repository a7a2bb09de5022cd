import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';

/**
 * A TCP proxy to a real server that a test can cut, hold and restore: "down" resets every open
 * connection and every new one, as a database that went away would look to its clients; "held"
 * accepts new connections and leaves them waiting, unanswered, until `up()` (a server that is slow to
 * answer, so that a client's connection attempt is still under way).
 */
export async function startTcpProxy(target: { host: string; port: number }) {
  let mode: 'down' | 'held' | 'up' = 'down';
  const sockets = new Set<Socket>();
  const waiting: Socket[] = [];
  const forward = (client: Socket) => {
    const upstream = createConnection(target);
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
    client.resume();
  };
  const server = createServer((client) => {
    if (mode === 'down') {
      client.destroy();
      return;
    }
    sockets.add(client);
    client.on('error', () => client.destroy()).on('close', () => sockets.delete(client));
    if (mode === 'up') forward(client);
    else {
      client.pause();
      waiting.push(client);
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    port,
    /** Connections accepted from now on wait, unanswered, until `up()`. */
    hold() {
      mode = 'held';
    },
    up() {
      mode = 'up';
      for (const client of waiting.splice(0)) if (!client.destroyed) forward(client);
    },
    down() {
      mode = 'down';
      waiting.length = 0;
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
