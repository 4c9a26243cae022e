import { mkdirSync } from 'node:fs';
import path from 'node:path';
import knexPkg from 'knex';
import type { Knex } from 'knex';
import pg from 'pg';
import type { Config } from '../core/config.js';
import { DIALECTS, type Dialect } from './dialect.js';
import { makeStatements, type Statements } from './statements.js';

const { knex } = knexPkg;

export type { Dialect } from './dialect.js';

// pg returns DATE as a local-time Date and TIMESTAMPTZ as a Date; the API speaks strings.
pg.types.setTypeParser(1082, (v: string) => v);
pg.types.setTypeParser(1184, (v: string) => new Date(v).toISOString());
pg.types.setTypeParser(1114, (v: string) => new Date(`${v}Z`).toISOString());
pg.types.setTypeParser(20, (v: string) => Number(v));

/**
 * knex prepares every better-sqlite3 statement anew; the engine issues the same few SQL shapes
 * over and over, so reuse them, keeping the most recently used. Safe because better-sqlite3 runs
 * each statement synchronously.
 */
function cachePreparedStatements(conn: { prepare(sql: string): unknown }): void {
  const prepare = conn.prepare.bind(conn);
  const cache = new Map<string, unknown>();
  conn.prepare = (sql: string) => {
    let stmt = cache.get(sql);
    if (stmt) {
      cache.delete(sql);
    } else {
      stmt = prepare(sql);
      if (cache.size >= 500) cache.delete(cache.keys().next().value as string);
    }
    cache.set(sql, stmt);
    return stmt;
  };
}

export interface Database {
  knex: Knex;
  dialect: Dialect;
  /** The engine's own SQL on the driver's connection, for the hot paths. */
  statements: Statements;
  /** How this process learns of commits made by other connections (processes, the CLI). */
  commits: CommitSignal;
  close(): Promise<void>;
}

/**
 * SQLite: `PRAGMA data_version` changes whenever another connection commits to the file (one
 * number for all tables). PostgreSQL: committed writes are announced with NOTIFY on a channel per
 * schema, and a dedicated connection LISTENs, counting announcements per table.
 */
export interface CommitSignal {
  /** A value that changes when another connection commits to the table, or null when unknown. */
  version(table: string): Promise<string | null>;
  /** Tells other connections that this one committed to these tables. */
  announce(tables: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * `dataVersion` reads the pragma straight from better-sqlite3's one connection, synchronously (it
 * is asked on every request); the sqlite3 driver goes through knex.
 */
function sqliteCommits(k: Knex, dataVersion: () => number | undefined): CommitSignal {
  return {
    async version() {
      const direct = dataVersion();
      if (direct !== undefined) return String(direct);
      const rows = await k.raw('pragma data_version');
      return String(rows[0]?.data_version ?? 0);
    },
    announce: async () => {},
    close: async () => {},
  };
}

function postgresCommits(k: Knex, url: string, schema: string): CommitSignal {
  const channel = `emr_commits_${schema}`.replace(/[^a-z0-9_]/gi, '_').slice(0, 63);
  const counts = new Map<string, number>();
  let listening = false;
  let closed = false;
  let client: pg.Client | undefined;
  const connect = async () => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', (msg) => {
      if (msg.payload) counts.set(msg.payload, (counts.get(msg.payload) ?? 0) + 1);
    });
    // A lost listener means announcements may be missed: report "unknown" until it is back.
    c.on('error', () => {
      listening = false;
      c.end().catch(() => {});
      if (!closed) setTimeout(() => void connect().catch(() => {}), 1000).unref();
    });
    await c.connect();
    await c.query(`listen "${channel}"`);
    client = c;
    listening = true;
  };
  const ready = connect().catch(() => {
    listening = false;
  });
  return {
    async version(table) {
      await ready;
      return listening ? String(counts.get(table) ?? 0) : null;
    },
    async announce(tables) {
      // One statement for all the tables of a write.
      await k.raw(`select ${tables.map(() => 'pg_notify(?, ?)').join(', ')}`, tables.flatMap((t) => [channel, t]));
    },
    async close() {
      closed = true;
      await ready;
      await client?.end().catch(() => {});
    },
  };
}

/** Opens the configured database: an SQLite file (WAL, one connection) or a PostgreSQL pool. */
export function openDatabase(config: Config['database']): Database {
  if (config.kind === 'sqlite') {
    // Set once better-sqlite3's connection is open (the pool holds exactly one).
    let readDataVersion: () => number | undefined = () => undefined;
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
          // SQLite's own page cache (2 MiB by default) holds the upper levels of every index: at
          // 100,000 patients and more, a write touches ~20 B-trees and misses it several times.
          const cacheKib = (config.cacheMb ?? 16) * 1024;
          const pragmas = ['journal_mode = WAL', 'synchronous = NORMAL', 'busy_timeout = 5000', 'foreign_keys = ON', `cache_size = -${cacheKib}`];
          if (typeof conn.pragma === 'function') {
            for (const p of pragmas) conn.pragma(p);
            const statement = conn.prepare('pragma data_version').pluck();
            readDataVersion = () => (conn.open ? (statement.get() as number) : undefined);
            cachePreparedStatements(conn);
            done(null, conn);
          } else {
            conn.exec(pragmas.map((p) => `PRAGMA ${p};`).join(' '), (err: Error | null) => done(err, conn));
          }
        },
      },
    });
    return { knex: k, dialect: DIALECTS.sqlite, statements: makeStatements(config.driver === 'sqlite3' ? 'sqlite3' : 'better-sqlite3'), commits: sqliteCommits(k, () => readDataVersion()), close: () => k.destroy() };
  }
  const k = knex({
    client: 'pg',
    connection: config.url,
    searchPath: config.schema ? [config.schema] : undefined,
    pool: { min: 0, max: 10 },
  });
  const commits = postgresCommits(k, config.url, config.schema ?? 'public');
  return {
    knex: k,
    dialect: DIALECTS.postgres,
    statements: makeStatements('pg'),
    commits,
    async close() {
      await commits.close();
      await k.destroy();
    },
  };
}
