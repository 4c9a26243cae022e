import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { ColumnInfo, IndexDefinition, ResolvedDefinition } from '../core/types.js';
import type { Database } from './connection.js';
import type { Dialect } from './dialect.js';

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

function defaultLiteral(col: ColumnInfo, dialect: Dialect): string | null {
  const d = col.field.default;
  return d === undefined || d === null ? null : dialect.defaultLiteral(d, col.field.type);
}

function columnSql(col: ColumnInfo, dialect: Dialect): string {
  let sql = `${q(col.name)} ${dialect.columnType(col.field.type)}`;
  if (col.name === 'id') return `${sql} primary key`;
  if (col.system && col.name !== 'deleted_at') sql += ' not null';
  const def = defaultLiteral(col, dialect);
  if (def !== null) sql += ` default ${def}`;
  return sql;
}

/** A declared unique index's condition: live records, and the field values it names. */
function uniqueIndexCondition(def: ResolvedDefinition, idx: IndexDefinition, dialect: Dialect): string | undefined {
  const terms = Object.entries(idx.where ?? {}).map(([name, value]) => `${q(name)} = ${dialect.defaultLiteral(value, def.fields[name].type)}`);
  if (idx.live) terms.push(`${q('deleted_at')} is null`);
  return terms.length ? terms.join(' and ') : undefined;
}

/**
 * The name of a declared unique index; the values of its condition are part of it, so two
 * conditions on the same columns are two indexes. Also how a violation is traced back to it.
 */
export function uniqueIndexName(def: ResolvedDefinition, idx: IndexDefinition): string {
  const prefix = def.tenant && !idx.acrossOrganizations ? ['org_id'] : [];
  const where = Object.entries(idx.where ?? {}).map(([name, value]) => `${name}_${String(value)}`);
  return indexName(def.table, [...prefix, ...idx.columns, ...where], true, !!idx.live);
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
  // An internal table has no list route to serve, so no default-sort index to keep up on writes.
  if (!def.internal) add([...tenantPrefix, q(def.defaultSort.replace(/^-/, '')), q('id')], false, live);
  for (const idx of def.indexes ?? []) {
    const cols = idx.columns.map(q);
    const prefix = idx.acrossOrganizations ? [] : tenantPrefix;
    if (idx.unique) {
      const partial = uniqueIndexCondition(def, idx, dialect);
      specs.push({ name: uniqueIndexName(def, idx), table: def.table, unique: true, parts: [...prefix, ...cols], where: partial });
    } else add([...prefix, ...cols, q('id')], false, live);
  }
  for (const col of def.columns) {
    if (col.field.unique) add([...tenantPrefix, q(col.name)], true);
    if ((col.field.ref || def.parent?.field === col.name) && !col.field.unique) add([...tenantPrefix, q(col.name)]);
  }
  for (const s of def.searchFields) {
    if (s.mode !== 'prefix') continue;
    add([dialect.searchIndexPart(s.name)]);
  }
  return specs;
}

/** Works out what is missing. Never proposes dropping or altering anything that exists. */
export async function planSchemaSync(db: Pick<Database, 'knex' | 'dialect'>, defs: ResolvedDefinition[]): Promise<SyncStep[]> {
  const { knex, dialect } = db;
  const tables = new Set(await dialect.listTables(knex));
  const indexes = new Set(await dialect.listIndexes(knex));
  const steps: SyncStep[] = [];
  for (const def of defs) {
    if (!tables.has(def.table)) {
      const cols = def.columns.map((c) => `  ${columnSql(c, dialect)}`).join(',\n');
      steps.push({ kind: 'create_table', table: def.table, name: def.table, sql: `create table ${q(def.table)} (\n${cols}\n)` });
    } else {
      const have = new Set(await dialect.listColumns(knex, def.table));
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
    await db.dialect.lockSchemaChanges(trx);
    const steps = await planSchemaSync({ knex: trx, dialect: db.dialect }, defs);
    for (const step of steps) await trx.raw(step.sql);
    return steps;
  });
}
