import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knexPkg from 'knex';
import type { Knex } from 'knex';
import pg from 'pg';
import type { Config } from '../core/config.js';

const { knex } = knexPkg;

export type Dialect = 'sqlite' | 'postgres';

// pg returns DATE as a local-time Date and TIMESTAMPTZ as a Date; the API speaks strings.
pg.types.setTypeParser(1082, (v: string) => v);
pg.types.setTypeParser(1184, (v: string) => new Date(v).toISOString());
pg.types.setTypeParser(1114, (v: string) => new Date(`${v}Z`).toISOString());
pg.types.setTypeParser(20, (v: string) => Number(v));

/**
 * knex prepares every better-sqlite3 statement anew; the engine issues the same few SQL shapes
 * over and over, so reuse them. Safe because better-sqlite3 runs each statement synchronously.
 */
function cachePreparedStatements(conn: { prepare(sql: string): unknown }): void {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, unknown>();
  conn.prepare = (sql: string) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = prepare(sql);
      if (cache.size >= 500) cache.delete(cache.keys().next().value as string);
      cache.set(sql, stmt);
    }
    return stmt;
  };
}

export interface Database {
  knex: Knex;
  dialect: Dialect;
  close(): Promise<void>;
}

/** Opens the configured database: an SQLite file (WAL, one connection) or a PostgreSQL pool. */
export function openDatabase(config: Config['database']): Database {
  if (config.kind === 'sqlite') {
    if (config.file !== ':memory:') mkdirSync(path.dirname(config.file), { recursive: true });
    const k = knex({
      client: config.driver === 'sqlite3' ? 'sqlite3' : 'better-sqlite3',
      connection: { filename: config.file },
      useNullAsDefault: true,
      // One writer connection: SQLite serializes writes anyway, and one connection keeps
      // transactions from waiting on SQLITE_BUSY.
      pool: {
        min: 1,
        max: 1,
        afterCreate(conn: any, done: (err: Error | null, conn: unknown) => void) {
          const pragmas = ['journal_mode = WAL', 'synchronous = NORMAL', 'busy_timeout = 5000', 'foreign_keys = ON'];
          if (typeof conn.pragma === 'function') {
            for (const p of pragmas) conn.pragma(p);
            cachePreparedStatements(conn);
            done(null, conn);
          } else {
            conn.exec(pragmas.map((p) => `PRAGMA ${p};`).join(' '), (err: Error | null) => done(err, conn));
          }
        },
      },
    });
    return { knex: k, dialect: 'sqlite', close: () => k.destroy() };
  }
  const k = knex({
    client: 'pg',
    connection: config.url,
    searchPath: config.schema ? [config.schema] : undefined,
    pool: { min: 0, max: 10 },
  });
  return { knex: k, dialect: 'postgres', close: () => k.destroy() };
}
