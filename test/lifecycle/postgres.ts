import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The PostgreSQL server the suites use (CI sets DATABASE_URL; the dev machine runs one locally). */
const SERVER_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** A fresh database of its own for one test file, dropped afterwards. */
export async function createDatabase() {
  const name = `gantry_lifecycle_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: SERVER_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(SERVER_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    host: url.hostname,
    port: Number(url.port || 5432),
    withPort(port: number) {
      const other = new URL(url);
      other.port = String(port);
      return other.toString();
    },
    async drop() {
      const client = new pg.Client({ connectionString: SERVER_URL });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}
