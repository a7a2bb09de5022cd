import { type GantryProcess, type StartOptions, startGantry } from '../helpers/gantry-process.js';

export const MASTER_KEY = 'sk-master-test-0123456789abcdef';

/** Starts gantry and waits until /startup says the state services (migrations, connections) are up. */
export async function startStateGantry(options: StartOptions = {}): Promise<GantryProcess> {
  const gantry = await startGantry({
    ...options,
    env: { GANTRY_MASTER_KEY: MASTER_KEY, LOG_LEVEL: 'debug', ...options.env },
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const response = await fetch(`${gantry.url}/startup`).catch(() => undefined);
    if (response?.ok) return gantry;
    if (gantry.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await gantry.stop('SIGKILL');
  throw new Error(`gantry state services did not start:\n${gantry.output()}`);
}

export async function admin(gantry: GantryProcess, method: string, path: string, body?: unknown) {
  const response = await fetch(`${gantry.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${MASTER_KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

export async function chat(gantry: GantryProcess, key: string, extra: Record<string, unknown> = {}) {
  const response = await fetch(`${gantry.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock', messages: [{ role: 'user', content: 'hello there' }], ...extra }),
  });
  return response;
}
