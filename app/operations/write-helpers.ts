import { v7 as uuidv7 } from 'uuid';
import type { OperationContext } from '../core/context.js';
import { systemColumns } from '../core/define.js';
import { AppError } from '../core/errors.js';
import type { ResolvedDefinition } from '../core/types.js';
import { isUniqueViolation } from '../db/errors.js';
import type { Runtime } from '../runtime.js';
import type { Row } from './records.js';

/** A unique-constraint error from either database, turned into a 409 `duplicate` naming the field. */
export function duplicateError(def: ResolvedDefinition, err: unknown): AppError | null {
  const e = err as { code?: string; message?: string; detail?: string; constraint?: string };
  if (!isUniqueViolation(err)) return null;
  const text = `${e.message ?? ''} ${e.detail ?? ''} ${e.constraint ?? ''}`;
  const fields = Object.entries(def.fields).filter(([name, f]) => f.unique && new RegExp(`\\b${name}\\b`).test(text)).map(([n]) => n);
  const named = fields.length ? fields : ['id'];
  return new AppError(
    'duplicate',
    `A ${def.name.replace(/-/g, ' ')} with this ${named.join(', ')} already exists`,
    named.map((n) => ({ path: `/body/${n}`, message: 'is already taken' })),
  );
}

/** The stored row of a new record: system columns, engine-filled fields and defaults, then the values. */
export function newRow(def: ResolvedDefinition, ctx: OperationContext, values: Row, parentId?: string): Row {
  const now = new Date().toISOString();
  const row: Row = { id: uuidv7() };
  if (def.tenant) row.org_id = ctx.org!.id;
  for (const [name, field] of Object.entries(def.fields)) {
    if (field.fill === 'actor') row[name] = `${ctx.actor.type}:${ctx.actor.id}`;
    else if (values[name] === undefined && field.defaultFrom === 'actor') row[name] = ctx.actor.label;
    else row[name] = values[name] ?? null;
  }
  if (def.parent) row[def.parent.field] = parentId;
  return Object.assign(row, systemColumns(def, now));
}

/**
 * What a committed write invalidates: the table's cached counts and pages, the audit table's
 * (the audit row committed with it), and the schema generation when the table holds
 * data-defined schema.
 */
export async function committed(rt: Runtime, def: ResolvedDefinition): Promise<void> {
  await rt.generations.bump(def.table);
  if (def.audited) await rt.generations.bump(rt.schema.registry.get('audit-event').table);
  if (rt.schemas.watches(def.name)) await rt.schemas.refresh();
}
