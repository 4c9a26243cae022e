import type { Knex } from 'knex';

export type Row = Record<string, unknown>;

/**
 * SQL the engine writes itself, run on the driver's own connection. The hot paths (reading one
 * record, inserting, conditional updates, audit rows) take this way: knex spends about 100 µs
 * building, compiling and dispatching each query, four times what SQLite needs to run a prepared
 * statement. The connection comes from the knex handle given (a transaction's own connection,
 * or one borrowed from the pool and given back at once), so these statements join transactions
 * exactly as knex queries do. SQL uses `?` placeholders on every driver.
 */
export interface Statements {
  /** Rows of a SELECT (or of a statement with RETURNING). */
  all(conn: Knex, sql: string, params: readonly unknown[]): Promise<Row[]>;
  /** Runs a statement; resolves to the number of rows it changed. */
  run(conn: Knex, sql: string, params: readonly unknown[]): Promise<number>;
}

export type DriverName = 'better-sqlite3' | 'sqlite3' | 'pg';

interface KnexClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(conn: unknown): Promise<unknown>;
}

async function withConnection<T>(conn: Knex, work: (raw: any) => Promise<T> | T): Promise<T> {
  const client = (conn as unknown as { client: KnexClient }).client;
  const raw = await client.acquireConnection();
  try {
    return await work(raw);
  } finally {
    await client.releaseConnection(raw);
  }
}

/** better-sqlite3 binds no booleans and refuses undefined. */
const sqliteValue = (v: unknown) => (v === undefined ? null : typeof v === 'boolean' ? (v ? 1 : 0) : v);

function betterSqlite(): Statements {
  // The connection caches prepared statements by their text (connection.ts).
  return {
    all: (conn, sql, params) => withConnection(conn, (raw) => raw.prepare(sql).all(params.map(sqliteValue)) as Row[]),
    run: (conn, sql, params) => withConnection(conn, (raw) => raw.prepare(sql).run(params.map(sqliteValue)).changes as number),
  };
}

function sqlite3(): Statements {
  return {
    all: (conn, sql, params) =>
      withConnection(conn, (raw) => new Promise<Row[]>((resolve, reject) => raw.all(sql, params.map(sqliteValue), (err: Error | null, rows: Row[]) => (err ? reject(err) : resolve(rows))))),
    run: (conn, sql, params) =>
      withConnection(conn, (raw) => new Promise<number>((resolve, reject) => raw.run(sql, params.map(sqliteValue), function (this: { changes: number }, err: Error | null) {
        if (err) reject(err);
        else resolve(this.changes);
      }))),
  };
}

/**
 * PostgreSQL: `?` becomes `$n` once per statement text, and each text gets a name so that every
 * pooled connection parses and plans it once (a named prepared statement) and then only binds.
 */
function postgres(): Statements {
  const texts = new Map<string, { text: string; name?: string }>();
  const MAX_NAMED = 2000;
  const shape = (sql: string) => {
    let s = texts.get(sql);
    if (!s) {
      let n = 0;
      const text = sql.replace(/\?/g, () => `$${++n}`);
      s = { text, name: texts.size < MAX_NAMED ? `emr_${texts.size}` : undefined };
      texts.set(sql, s);
    }
    return s;
  };
  const query = (conn: Knex, sql: string, params: readonly unknown[]) =>
    withConnection(conn, async (raw) => {
      const s = shape(sql);
      const values = params.map((v) => (v === undefined ? null : v));
      try {
        return (await raw.query({ text: s.text, name: s.name, values })) as { rows: Row[]; rowCount: number | null };
      } catch (err) {
        // A table whose columns changed since a connection prepared `select *` on it refuses the
        // old plan ("cached plan must not change result type"): from then on, unnamed. Inside a
        // transaction the error has already aborted it, so only a statement of its own is retried.
        if (!s.name || (err as { code?: string }).code !== '0A000') throw err;
        s.name = undefined;
        if ((conn as { isTransaction?: boolean }).isTransaction) throw err;
        return (await raw.query({ text: s.text, values })) as { rows: Row[]; rowCount: number | null };
      }
    });
  return {
    all: async (conn, sql, params) => (await query(conn, sql, params)).rows,
    run: async (conn, sql, params) => (await query(conn, sql, params)).rowCount ?? 0,
  };
}

export function makeStatements(driver: DriverName): Statements {
  if (driver === 'pg') return postgres();
  return driver === 'sqlite3' ? sqlite3() : betterSqlite();
}

const q = (name: string) => `"${name}"`;

/**
 * `insert into t (cols) values (?, …), (?, …)` for rows that share one set of keys (the first
 * row's), with the flat parameter list. Callers keep a statement's rows within the drivers'
 * parameter limits.
 */
export function insertSql(table: string, rows: readonly Row[]): { sql: string; params: unknown[] } {
  const columns = Object.keys(rows[0]);
  const params: unknown[] = [];
  for (const row of rows) for (const c of columns) params.push(row[c]);
  return { sql: insertText(table, columns, rows.length), params };
}

// Bulk inserts repeat the same few long statement texts: build each once.
const insertTexts = new Map<string, string>();
function insertText(table: string, columns: string[], count: number): string {
  const key = `${table}|${count}|${columns.join(',')}`;
  let sql = insertTexts.get(key);
  if (sql === undefined) {
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    sql = `insert into ${q(table)} (${columns.map(q).join(', ')}) values ${Array.from({ length: count }, () => tuple).join(', ')}`;
    if (insertTexts.size >= 1000) insertTexts.delete(insertTexts.keys().next().value as string);
    insertTexts.set(key, sql);
  }
  return sql;
}

/** How many rows of `columnCount` columns one multi-row INSERT may carry on both databases. */
function rowsPerInsert(columnCount: number): number {
  // SQLite allows 32,766 bound parameters and turns a multi-row VALUES into a compound SELECT of
  // at most 500 terms; PostgreSQL allows 65,535 parameters. A power of two (see insertRows).
  let n = 256;
  while (n > 1 && n * columnCount > 30000) n /= 2;
  return n;
}

/**
 * Inserts rows (sharing the first row's keys) in multi-row statements whose sizes are powers of
 * two, so however many rows come, only a handful of statement texts exist to prepare and cache.
 */
export async function insertRows(statements: Statements, conn: Knex, table: string, rows: readonly Row[]): Promise<void> {
  if (!rows.length) return;
  for (const part of powerOfTwoSlices(rows, rowsPerInsert(Object.keys(rows[0]).length))) {
    const { sql, params } = insertSql(table, part);
    await statements.run(conn, sql, params);
  }
}

/**
 * Consecutive slices of `items` whose lengths are powers of two no larger than `max` (itself a
 * power of two): a statement per slice then has one of a handful of texts, each prepared once.
 */
export function* powerOfTwoSlices<T>(items: readonly T[], max: number): Generator<T[]> {
  let size = max;
  let i = 0;
  while (i < items.length) {
    while (size > items.length - i) size /= 2;
    yield items.slice(i, i + size);
    i += size;
  }
}
