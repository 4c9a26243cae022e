import { v7 as uuidv7 } from 'uuid';
import type { OperationContext } from '../core/context.js';
import { systemColumns } from '../core/define.js';
import { AppError } from '../core/errors.js';
import type { FieldDefinition, IndexDefinition, ResolvedDefinition } from '../core/types.js';
import { uniqueIndexName } from '../db/schema-sync.js';
import { isUniqueViolation } from '../db/errors.js';
import { insertSql } from '../db/statements.js';
import type { Knex } from 'knex';
import type { Runtime } from '../runtime.js';
import type { Row } from './records.js';

/** A unique-constraint error from either database, turned into a 409 `duplicate` naming the field. */
export function duplicateError(def: ResolvedDefinition, err: unknown): AppError | null {
  const e = err as { code?: string; message?: string; detail?: string; constraint?: string };
  if (!isUniqueViolation(err)) return null;
  const text = `${e.message ?? ''} ${e.detail ?? ''} ${e.constraint ?? ''}`;
  const index = violatedIndex(def, e);
  if (index) {
    const named = [...index.columns, ...Object.keys(index.where ?? {})].filter((c) => c !== def.parent?.field);
    const details = (named.length ? named : index.columns).map((n) => ({ path: `/body/${n}`, message: 'is already taken' }));
    if (index.conflict) return new AppError(index.conflict.code, index.conflict.message, details);
    return new AppError('duplicate', `A ${def.name.replace(/-/g, ' ')} with this ${index.columns.join(', ')} already exists`, details);
  }
  const fields = Object.entries(def.fields).filter(([name, f]) => f.unique && new RegExp(`\\b${name}\\b`).test(text)).map(([n]) => n);
  const named = fields.length ? fields : ['id'];
  return new AppError(
    'duplicate',
    `A ${def.name.replace(/-/g, ' ')} with this ${named.join(', ')} already exists`,
    named.map((n) => ({ path: `/body/${n}`, message: 'is already taken' })),
  );
}

/**
 * The declared unique index a violation broke: PostgreSQL names the constraint (the index);
 * SQLite lists the index's columns (`UNIQUE constraint failed: t.org_id, t.patient_id`).
 */
function violatedIndex(def: ResolvedDefinition, e: { message?: string; constraint?: string }): IndexDefinition | undefined {
  const unique = (def.indexes ?? []).filter((i) => i.unique);
  if (!unique.length) return undefined;
  if (e.constraint) return unique.find((i) => uniqueIndexName(def, i) === e.constraint);
  const m = /UNIQUE constraint failed: (.*)$/m.exec(e.message ?? '');
  if (!m) return undefined;
  const columns = m[1].split(',').map((c) => c.trim().replace(/^[^.]*\./, '')).filter((c) => c !== 'org_id').join(',');
  // Indexes on the same columns with other conditions cannot be told apart here: the first is named.
  return unique.find((i) => i.columns.join(',') === columns);
}

const fieldLists = new WeakMap<ResolvedDefinition, [string, FieldDefinition][]>();
const fieldsOf = (def: ResolvedDefinition) => {
  let list = fieldLists.get(def);
  if (!list) fieldLists.set(def, (list = Object.entries(def.fields)));
  return list;
};

/** The stored row of a new record: system columns, engine-filled fields and defaults, then the values. */
export function newRow(def: ResolvedDefinition, ctx: OperationContext, values: Row, parentId?: string, now = new Date().toISOString()): Row {
  const row: Row = { id: uuidv7() };
  if (def.tenant) row.org_id = ctx.org!.id;
  for (const [name, field] of fieldsOf(def)) {
    if (field.fill === 'actor') row[name] = `${ctx.actor.type}:${ctx.actor.id}`;
    else if (field.fill === 'now') row[name] = now;
    else if (values[name] === undefined && field.defaultFrom === 'actor') row[name] = ctx.actor.label;
    // A read-only field never reaches the body's defaults, so its default is written here.
    else row[name] = values[name] ?? (field.readOnly ? field.default ?? null : null);
  }
  if (def.parent) row[def.parent.field] = parentId;
  return Object.assign(row, systemColumns(def, now));
}

/**
 * What a committed write invalidates: the table's cached counts and pages, the audit table's
 * (the audit row committed with it), those of the tables its hooks touched (`WriteState.touch`),
 * and the schema generation when one of those tables holds data-defined schema. `def` is null
 * when the write itself changed nothing but a hook still touched another table.
 */
export async function committed(rt: Runtime, def: ResolvedDefinition | null, touched: readonly ResolvedDefinition[] = []): Promise<void> {
  const defs = def ? [def, ...touched] : [...touched];
  const tables = new Set(defs.map((d) => d.table));
  if (def?.audited) tables.add(rt.schema.registry.get('audit-event').table);
  if (tables.size) await rt.generations.bump(...tables);
  if (defs.some((d) => rt.schemas.watches(d.name))) await rt.schemas.refresh();
}

/** Inserts one stored row (already in database form) in the write's transaction. */
export async function insertRow(rt: Runtime, trx: Knex, table: string, row: Row): Promise<void> {
  const { sql, params } = insertSql(table, [row]);
  await rt.db.statements.run(trx, sql, params);
}

/**
 * `update … set … where id = ?`, and `and version = ?` when a version is expected. Resolves to
 * the number of rows changed: 0 means the record moved on since it was read.
 */
export async function updateRow(rt: Runtime, trx: Knex, table: string, id: string, set: Row, expectedVersion?: number): Promise<number> {
  const columns = Object.keys(set);
  const params: unknown[] = columns.map((c) => set[c]);
  params.push(id);
  let sql = `update "${table}" set ${columns.map((c) => `"${c}" = ?`).join(', ')} where "id" = ?`;
  if (expectedVersion !== undefined) {
    sql += ' and "version" = ?';
    params.push(expectedVersion);
  }
  return rt.db.statements.run(trx, sql, params);
}
