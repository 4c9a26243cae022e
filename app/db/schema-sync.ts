import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { ColumnInfo, ResolvedDefinition } from '../core/types.js';
import type { Database, Dialect } from './connection.js';

/** One change schema sync would make. Sync only ever adds: tables, columns, indexes. */
export interface SyncStep {
  kind: 'create_table' | 'add_column' | 'create_index';
  table: string;
  name: string;
  sql: string;
}

interface IndexSpec {
  name: string;
  table: string;
  unique: boolean;
  /** SQL expressions, already quoted for the dialect. */
  parts: string[];
  /** A partial index's condition. */
  where?: string;
}

function q(name: string): string {
  return `"${name}"`;
}

function indexName(table: string, parts: string[], unique: boolean, partial: boolean): string {
  const base = `${unique ? 'ux' : 'ix'}_${table}_${parts.map((p) => p.replace(/[^a-z0-9_]/gi, '').replace(/collatenocase|textpatternops|lower/gi, '')).join('_')}${partial ? '_live' : ''}`;
  if (base.length <= 60) return base;
  const hash = createHash('sha1').update(base).digest('hex').slice(0, 8);
  return `${base.slice(0, 51)}_${hash}`;
}

/** The column type for a field in each dialect. Enums are text so that adding a value needs no migration. */
function columnType(col: ColumnInfo, dialect: Dialect): string {
  const t = col.field.type;
  if (dialect === 'postgres') {
    switch (t) {
      case 'uuid': return 'uuid';
      case 'integer': return 'integer';
      case 'number': return 'double precision';
      case 'boolean': return 'boolean';
      case 'date': return 'date';
      case 'datetime': return 'timestamptz';
      case 'json': case 'string[]': return 'jsonb';
      default: return 'text';
    }
  }
  switch (t) {
    case 'integer': return 'integer';
    case 'number': return 'real';
    case 'boolean': return 'boolean';
    default: return 'text';
  }
}

function defaultLiteral(col: ColumnInfo, dialect: Dialect): string | null {
  const d = col.field.default;
  if (d === undefined || d === null) return null;
  if (typeof d === 'boolean') return dialect === 'postgres' ? String(d) : d ? '1' : '0';
  if (typeof d === 'number') return String(d);
  const text = typeof d === 'string' ? d : JSON.stringify(d);
  const lit = `'${text.replace(/'/g, "''")}'`;
  return dialect === 'postgres' && (col.field.type === 'json' || col.field.type === 'string[]') ? `${lit}::jsonb` : lit;
}

function columnSql(col: ColumnInfo, dialect: Dialect): string {
  let sql = `${q(col.name)} ${columnType(col, dialect)}`;
  if (col.name === 'id') return `${sql} primary key`;
  if (col.system && col.name !== 'deleted_at') sql += ' not null';
  const def = defaultLiteral(col, dialect);
  if (def !== null) sql += ` default ${def}`;
  return sql;
}

/** The expression that a case-insensitive prefix search compares, matching its index. */
export function searchExpression(column: string, dialect: Dialect): string {
  return dialect === 'postgres' ? `lower(${q(column)})` : q(column);
}

/** Indexes the definition implies: tenancy + default sort, declared ones, uniques, refs, parents, search. */
export function indexesFor(def: ResolvedDefinition, dialect: Dialect): IndexSpec[] {
  const specs: IndexSpec[] = [];
  const tenantPrefix = def.tenant ? [q('org_id')] : [];
  const add = (parts: string[], unique = false, where?: string) => {
    const name = indexName(def.table, parts, unique, !!where);
    if (!specs.some((s) => s.name === name)) specs.push({ name, table: def.table, unique, parts, where });
  };
  // Lists serve records that are not archived: the sort and declared indexes cover only those
  // rows, so a filtered count reads the index alone instead of every row to test deleted_at.
  const live = def.archivable ? `${q('deleted_at')} is null` : undefined;
  const sortCol = def.defaultSort.replace(/^-/, '');
  add([...tenantPrefix, q(sortCol), q('id')], false, live);
  for (const idx of def.indexes ?? []) {
    const cols = idx.columns.map(q);
    if (idx.unique) add([...tenantPrefix, ...cols], true);
    else add([...tenantPrefix, ...cols, q('id')], false, live);
  }
  for (const col of def.columns) {
    if (col.field.unique) add([...tenantPrefix, q(col.name)], true);
    if ((col.field.ref || def.parent?.field === col.name) && !col.field.unique) add([...tenantPrefix, q(col.name)]);
  }
  for (const s of def.searchFields) {
    if (s.mode !== 'prefix') continue;
    // SQLite's LIKE optimization needs a NOCASE index on the bare column; PostgreSQL needs
    // lower(col) with text_pattern_ops so that `lower(col) LIKE 'abc%'` is an index range scan.
    add(dialect === 'postgres' ? [`${searchExpression(s.name, dialect)} text_pattern_ops`] : [`${q(s.name)} collate nocase`]);
  }
  return specs;
}

async function existingTables(knex: Knex, dialect: Dialect): Promise<Set<string>> {
  const rows: { name: string }[] = dialect === 'postgres'
    ? (await knex.raw(`select table_name as name from information_schema.tables where table_schema = current_schema()`)).rows
    : await knex.raw(`select name from sqlite_master where type = 'table'`);
  return new Set(rows.map((r) => r.name));
}

async function existingColumns(knex: Knex, dialect: Dialect, table: string): Promise<Set<string>> {
  const rows: { name: string }[] = dialect === 'postgres'
    ? (await knex.raw(`select column_name as name from information_schema.columns where table_schema = current_schema() and table_name = ?`, [table])).rows
    : await knex.raw(`select name from pragma_table_info(?)`, [table]);
  return new Set(rows.map((r) => r.name));
}

async function existingIndexes(knex: Knex, dialect: Dialect): Promise<Set<string>> {
  const rows: { name: string }[] = dialect === 'postgres'
    ? (await knex.raw(`select indexname as name from pg_indexes where schemaname = current_schema()`)).rows
    : await knex.raw(`select name from sqlite_master where type = 'index'`);
  return new Set(rows.map((r) => r.name));
}

/** Works out what is missing. Never proposes dropping or altering anything that exists. */
export async function planSchemaSync(db: Pick<Database, 'knex' | 'dialect'>, defs: ResolvedDefinition[]): Promise<SyncStep[]> {
  const { knex, dialect } = db;
  const tables = await existingTables(knex, dialect);
  const indexes = await existingIndexes(knex, dialect);
  const steps: SyncStep[] = [];
  for (const def of defs) {
    if (!tables.has(def.table)) {
      const cols = def.columns.map((c) => `  ${columnSql(c, dialect)}`).join(',\n');
      steps.push({ kind: 'create_table', table: def.table, name: def.table, sql: `create table ${q(def.table)} (\n${cols}\n)` });
    } else {
      const have = await existingColumns(knex, dialect, def.table);
      for (const col of def.columns) {
        if (have.has(col.name)) continue;
        // Added columns are nullable (with the field's default) so existing rows stay valid.
        const sql = `alter table ${q(def.table)} add column ${columnSql({ ...col, system: false }, dialect)}`;
        steps.push({ kind: 'add_column', table: def.table, name: col.name, sql });
      }
    }
    for (const idx of indexesFor(def, dialect)) {
      if (indexes.has(idx.name)) continue;
      const sql = `create ${idx.unique ? 'unique ' : ''}index ${q(idx.name)} on ${q(idx.table)} (${idx.parts.join(', ')})${idx.where ? ` where ${idx.where}` : ''}`;
      steps.push({ kind: 'create_index', table: def.table, name: idx.name, sql });
    }
  }
  return steps;
}

/**
 * Plans and applies in one transaction (both databases have transactional DDL). On PostgreSQL an
 * advisory lock makes several processes starting together take turns instead of racing.
 */
export async function syncSchema(db: Database, defs: ResolvedDefinition[]): Promise<SyncStep[]> {
  return db.knex.transaction(async (trx) => {
    if (db.dialect === 'postgres') await trx.raw('select pg_advisory_xact_lock(727274)');
    const steps = await planSchemaSync({ knex: trx, dialect: db.dialect }, defs);
    for (const step of steps) await trx.raw(step.sql);
    return steps;
  });
}
