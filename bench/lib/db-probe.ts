// Direct access to a benchmark database from the benchmark process, around the servers rather
// than through them: sample ids, current versions, the most common name prefixes, and the
// reference counts that the engine's totals are checked against.
import Database from 'better-sqlite3';
import pg from 'pg';
import patientDefinition from '../../definitions/patients.js';

/** Equality filters on patient columns, as in `?status=active&gender=male`. */
export type Filters = Record<string, string>;

export interface DbProbe {
  readonly kind: 'sqlite' | 'postgres';
  /** Live patients of the organization. */
  patientCount(): Promise<number>;
  randomPatientIds(n: number): Promise<string[]>;
  ids(table: string): Promise<string[]>;
  versions(table: string, ids: string[]): Promise<Map<string, number>>;
  /** The `take` most common last-name prefixes of `length` letters. */
  commonPrefixes(length: number, take: number): Promise<string[]>;
  /** Live patients matching the filters. */
  count(filters: Filters): Promise<number>;
  /** Live patients matching `?search=` as the patient definition declares it (see searchCondition). */
  countSearch(search: string): Promise<number>;
  /** The database server's version. */
  version(): Promise<string>;
  /** PostgreSQL server processes serving this database (their CPU is the benchmark's own). */
  backendPids(): Promise<number[]>;
  close(): Promise<void>;
}

const q = (name: string) => `"${name}"`;
const IDENT = /^[a-z_][a-z0-9_]*$/;
function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`not a column or table name: ${name}`);
  return q(name);
}

/** The patient fields `?search=` matches, read from the definition itself. */
const SEARCH_FIELDS = Object.entries(patientDefinition.fields as Record<string, { search?: 'prefix' | 'contains' }>)
  .filter(([, f]) => f.search)
  .map(([name, f]) => ({ name, mode: f.search! }));

/**
 * `?search=` as the API documents it: every word (up to 5, `%` dropped) must match at least one
 * searchable field, case-insensitively: from the start for prefix fields, anywhere for contains
 * fields; `_` and `\` match literally. Written here independently of the engine's query builder.
 */
function searchCondition(search: string, expr: (column: string) => string, pattern: (p: string) => string): { sql: string; params: string[] } {
  const words = search.replace(/%/g, '').trim().split(/\s+/).filter(Boolean).slice(0, 5);
  const parts: string[] = [];
  const params: string[] = [];
  for (const raw of words) {
    const word = raw.replace(/[\\_]/g, '\\$&');
    const ors = SEARCH_FIELDS.map((f) => {
      params.push(pattern(f.mode === 'prefix' ? `${word}%` : `%${word}%`));
      return `${expr(ident(f.name))} like ? escape '\\'`;
    });
    parts.push(`(${ors.join(' or ')})`);
  }
  return { sql: parts.length ? parts.join(' and ') : '1 = 1', params };
}

export function sqliteProbe(file: string, orgId: string): DbProbe {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  const live = 'org_id = ? and deleted_at is null';
  return {
    kind: 'sqlite',
    async patientCount() {
      return db.prepare(`select count(*) from patients where ${live}`).pluck().get(orgId) as number;
    },
    async randomPatientIds(n) {
      return db.prepare(`select id from patients where ${live} order by random() limit ?`).pluck().all(orgId, n) as string[];
    },
    async ids(table) {
      return db.prepare(`select id from ${ident(table)}`).pluck().all() as string[];
    },
    async versions(table, ids) {
      const rows = db.prepare(`select id, version from ${ident(table)} where id in (select value from json_each(?))`).all(JSON.stringify(ids)) as { id: string; version: number }[];
      return new Map(rows.map((r) => [r.id, r.version]));
    },
    async commonPrefixes(length, take) {
      return db.prepare(`select substr(last_name, 1, ?) as p from patients where ${live} group by p having length(p) = ? order by count(*) desc, p limit ?`).pluck().all(length, orgId, length, take) as string[];
    },
    async count(filters) {
      const where = [live, ...Object.keys(filters).map((f) => `${ident(f)} = ?`)].join(' and ');
      return db.prepare(`select count(*) from patients where ${where}`).pluck().get(orgId, ...Object.values(filters)) as number;
    },
    async countSearch(search) {
      // SQLite's LIKE ignores ASCII case; the unary + keeps the planner on the NOCASE indexes.
      const cond = searchCondition(search, (c) => c, (p) => p);
      return db.prepare(`select count(*) from patients where +org_id = ? and deleted_at is null and ${cond.sql}`).pluck().get(orgId, ...cond.params) as number;
    },
    async version() {
      return db.prepare('select sqlite_version()').pluck().get() as string;
    },
    async backendPids() {
      return [];
    },
    async close() {
      db.close();
    },
  };
}

export function postgresProbe(url: string, orgId: string): DbProbe {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const live = 'org_id = $1 and deleted_at is null';
  const rows = async <T>(sql: string, params: unknown[]) => (await pool.query(sql, params)).rows as T[];
  const one = async (sql: string, params: unknown[]) => Number(Object.values((await rows<Record<string, unknown>>(sql, params))[0])[0]);
  /** `?` placeholders as $2, $3, … (org_id is $1). */
  const numbered = (sql: string) => {
    let i = 1;
    return sql.replace(/\?/g, () => `$${++i}`);
  };
  return {
    kind: 'postgres',
    patientCount: () => one(`select count(*) from patients where ${live}`, [orgId]),
    async randomPatientIds(n) {
      return (await rows<{ id: string }>(`select id from patients where ${live} order by random() limit $2`, [orgId, n])).map((r) => r.id);
    },
    async ids(table) {
      return (await rows<{ id: string }>(`select id from ${ident(table)}`, [])).map((r) => r.id);
    },
    async versions(table, ids) {
      const found = await rows<{ id: string; version: number }>(`select id, version from ${ident(table)} where id = any($1::uuid[])`, [ids]);
      return new Map(found.map((r) => [r.id, Number(r.version)]));
    },
    async commonPrefixes(length, take) {
      return (await rows<{ p: string }>(`select substr(last_name, 1, $2) as p from patients where ${live} group by p having length(substr(last_name, 1, $2)) = $2 order by count(*) desc, p limit $3`, [orgId, length, take])).map((r) => r.p);
    },
    count(filters) {
      const where = [live, ...Object.keys(filters).map((f) => `${ident(f)} = ?`)].join(' and ');
      return one(numbered(`select count(*) from patients where ${where}`), [orgId, ...Object.values(filters)]);
    },
    countSearch(search) {
      const cond = searchCondition(search, (c) => `lower(${c})`, (p) => p.toLowerCase());
      return one(numbered(`select count(*) from patients where ${live} and ${cond.sql}`), [orgId, ...cond.params]);
    },
    async version() {
      return (await rows<{ server_version: string }>('show server_version', []))[0].server_version;
    },
    async backendPids() {
      const found = await rows<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()', []);
      return found.map((r) => r.pid);
    },
    close: () => pool.end(),
  };
}
