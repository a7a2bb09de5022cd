import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type GantryProcess, startGantry } from '../helpers/gantry-process.js';

/** More than Node's own default backlog keeps (511 + 1), fewer than a default file limit (1024). */
const BURST = 560;

/** Opens a TCP connection, or resolves undefined when the handshake does not complete in time. */
function tryConnect(port: number, timeoutMs: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

/** Sends GET /health on an open socket and resolves with the status line of the answer. */
function statusLine(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.once('end', () => resolve(text.split('\r\n')[0] ?? ''));
    socket.once('error', reject);
    socket.write('GET /health HTTP/1.1\r\nHost: gantry\r\nConnection: close\r\n\r\n');
  });
}

/**
 * With the process stopped (SIGSTOP: an event loop that cannot accept, as in a long stall), opens
 * connections one after another: the kernel completes handshakes only while the accept queue has
 * room, so the count that connect is what server.listen_backlog allowed. Then lets the process
 * run again and checks that every queued connection is served.
 */
async function queuedWhileStopped(gantry: GantryProcess, attempts: number): Promise<number> {
  gantry.child.kill('SIGSTOP');
  const sockets: Socket[] = [];
  try {
    for (let attempt = 0; attempt < attempts; attempt++) {
      // A SYN the full queue dropped is retried by the kernel after a second; 600 ms is before that.
      const socket = await tryConnect(gantry.port, 600);
      if (!socket) break;
      sockets.push(socket);
    }
  } finally {
    gantry.child.kill('SIGCONT');
  }
  const statuses = await Promise.all(sockets.map(statusLine));
  expect(statuses).toEqual(sockets.map(() => 'HTTP/1.1 200 OK'));
  return sockets.length;
}

describe('server.listen_backlog: connections held while the event loop cannot accept (real process)', () => {
  let gantry: GantryProcess | undefined;
  afterEach(async () => {
    gantry?.child.kill('SIGCONT');
    await gantry?.stop();
    gantry = undefined;
  });

  it('holds no more than the configured backlog (Linux keeps backlog + 1), and serves them all after', async () => {
    gantry = await startGantry({ env: { LISTEN_BACKLOG: '3' } });
    expect(await queuedWhileStopped(gantry, 12)).toBe(4);
  });

  it(`holds a burst of ${BURST} by default (4096, where Node alone would keep 511 + 1)`, async () => {
    gantry = await startGantry();
    expect(await queuedWhileStopped(gantry, BURST)).toBe(BURST);
  });

  it('refuses a backlog of 0 at startup, naming the setting', async () => {
    gantry = await startGantry({ env: { LISTEN_BACKLOG: '0' }, noWait: true });
    expect(await gantry.exited).not.toBe(0);
    expect(gantry.output()).toMatch(/server\.listen_backlog/);
  });
});
