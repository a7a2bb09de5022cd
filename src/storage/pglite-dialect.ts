import {
  CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
} from 'kysely';
import type { EmbeddedDatabase } from './pglite-worker-client.js';

/**
 * Kysely over an embedded PGlite. PGlite is one connection, so the driver hands it out to one
 * caller at a time: a transaction (or an advisory-lock holder) owns it until released.
 */
export function pgliteDialect(database: EmbeddedDatabase): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => pgliteDriver(database),
    createIntrospector: (db: Kysely<unknown>) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  };
}

function pgliteDriver(database: EmbeddedDatabase): Driver {
  let queue: Promise<void> = Promise.resolve();
  let release: (() => void) | undefined;
  const connection: DatabaseConnection = {
    async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
      // Parameterless text may hold several statements (migrations); the extended protocol takes one.
      if (compiled.parameters.length === 0) {
        // The thread answers with the last statement's result.
        const last = await database.exec(compiled.sql);
        return { rows: last.rows as R[], numAffectedRows: toBigInt(last.affectedRows) };
      }
      const result = await database.query(compiled.sql, compiled.parameters as unknown[]);
      return { rows: result.rows as R[], numAffectedRows: toBigInt(result.affectedRows) };
    },
    // biome-ignore lint/correctness/useYield: streaming is not supported; Kysely needs the member.
    async *streamQuery() {
      throw new Error('streaming queries are not supported on PGlite');
    },
  };
  const run = (sql: string) => connection.executeQuery(CompiledQuery.raw(sql));
  return {
    async init() {},
    async acquireConnection() {
      const previous = queue;
      let unlock!: () => void;
      queue = new Promise((resolve) => {
        unlock = resolve;
      });
      await previous;
      release = unlock;
      return connection;
    },
    async beginTransaction() {
      await run('begin');
    },
    async commitTransaction() {
      await run('commit');
    },
    async rollbackTransaction() {
      await run('rollback');
    },
    async releaseConnection() {
      const unlock = release;
      release = undefined;
      unlock?.();
    },
    async destroy() {
      await queue;
      if (!database.closed) await database.close();
    },
  };
}

function toBigInt(value: number | undefined): bigint | undefined {
  return value === undefined ? undefined : BigInt(value);
}
