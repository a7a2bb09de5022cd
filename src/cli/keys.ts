import { Command, InvalidArgumentError } from 'commander';
import { KEY_LIMIT_MAX } from '../keys/key-store.js';
import { loadConfigOrExit } from './load-config-or-exit.js';
import { withDatabase } from './with-database.js';

interface CreateOptions {
  config?: string;
  name: string;
  models?: string;
  rpm?: number;
  tpm?: number;
  budget?: number;
  period?: 'daily' | 'monthly' | 'total';
  expires?: string;
}

function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) === 0 || Number(value) > KEY_LIMIT_MAX)
    throw new InvalidArgumentError(`expected a positive integer up to ${KEY_LIMIT_MAX}`);
  return Number(value);
}

function amount(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new InvalidArgumentError('expected an amount in USD');
  return parsed;
}

function period(value: string) {
  if (value !== 'daily' && value !== 'monthly' && value !== 'total')
    throw new InvalidArgumentError('expected daily, monthly or total');
  return value;
}

function date(value: string): string {
  if (Number.isNaN(Date.parse(value))) throw new InvalidArgumentError('expected an ISO 8601 date');
  return value;
}

// Loaded on use: the admin routes and key store pull in zod and the database layer.
const keyStoreModule = () => import('../keys/key-store.js');
const keyViewOf = async () => (await import('../server/routes/admin-keys.js')).keyView;

/** `gantry keys create|list|revoke`: manages virtual keys directly in the database. */
export function keysCommand() {
  const keys = new Command('keys').description('manage virtual API keys (directly in the database)');
  const load = (file: string | undefined) => loadConfigOrExit({ env: process.env, file });

  keys
    .command('create')
    .description('create a key and print it (the secret is shown only this once)')
    .requiredOption('--name <name>', 'a name for the key')
    .option('--models <aliases>', 'comma-separated aliases the key may use (default: all)')
    .option('--rpm <n>', 'requests per minute', positiveInteger)
    .option('--tpm <n>', 'tokens per minute', positiveInteger)
    .option('--budget <usd>', 'budget in USD', amount)
    .option('--period <period>', 'budget period: daily, monthly or total (default: total)', period)
    .option('--expires <date>', 'expiry, ISO 8601', date)
    .option('-c, --config <file>', 'YAML configuration file (default: $GANTRY_CONFIG)')
    .action(async (options: CreateOptions) => {
      const [{ createKeyStore }, keyView] = await Promise.all([keyStoreModule(), keyViewOf()]);
      const created = await withDatabase(load(options.config), (db) =>
        createKeyStore(db).create({
          name: options.name,
          allowedModels: options.models ? options.models.split(',').map((alias) => alias.trim()) : null,
          rpm: options.rpm ?? null,
          tpm: options.tpm ?? null,
          budgetUsd: options.budget ?? null,
          budgetPeriod: options.budget === undefined ? null : (options.period ?? 'total'),
          expiresAt: options.expires ? new Date(options.expires) : null,
        }),
      );
      process.stdout.write(`${JSON.stringify({ ...keyView(created.record), key: created.key }, null, 2)}\n`);
      process.stderr.write('store the key now: it cannot be shown again\n');
    });

  keys
    .command('list')
    .description('list keys (never their secrets)')
    .option('--all', 'include revoked keys')
    .option('-c, --config <file>', 'YAML configuration file (default: $GANTRY_CONFIG)')
    .action(async (options: { config?: string; all?: boolean }) => {
      const [{ createKeyStore }, keyView] = await Promise.all([keyStoreModule(), keyViewOf()]);
      const records = await withDatabase(load(options.config), (db) =>
        createKeyStore(db).list({ includeRevoked: options.all === true }),
      );
      process.stdout.write(
        `${JSON.stringify(
          records.map((record) => keyView(record)),
          null,
          2,
        )}\n`,
      );
    });

  keys
    .command('revoke <id>')
    .description('revoke a key by its id (gk-<id>-…); running gateways stop accepting it within seconds')
    .option('-c, --config <file>', 'YAML configuration file (default: $GANTRY_CONFIG)')
    .action(async (id: string, options: { config?: string }) => {
      const publicId = id.replace(/^gk-/, '').split('-')[0]!;
      const [{ createKeyStore }, keyView] = await Promise.all([keyStoreModule(), keyViewOf()]);
      const record = await withDatabase(load(options.config), (db) => createKeyStore(db).revoke(publicId));
      if (!record) {
        process.stderr.write(`gantry: no key with id ${publicId}\n`);
        process.exit(1);
      }
      process.stdout.write(`${JSON.stringify(keyView(record), null, 2)}\n`);
    });
  return keys;
}
