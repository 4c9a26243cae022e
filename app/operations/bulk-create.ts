import { assertCan } from '../auth/ability.js';
import { diffRecords } from '../audit/audit-writer.js';
import { AppError, type ErrorDetail } from '../core/errors.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Runtime } from '../runtime.js';
import type { OperationContext } from './context.js';
import { assertReferences, type Row } from './records.js';
import { afterCommit, duplicateError, newRow } from './write-helpers.js';

export interface BulkRowResult {
  index: number;
  status: 'created' | 'failed';
  id?: string;
  error?: { error: string; message: string; details?: ErrorDetail[] };
}

export interface BulkCreateResult {
  total: number;
  created: number;
  failed: number;
  results: BulkRowResult[];
}

function failure(err: unknown): BulkRowResult['error'] {
  if (err instanceof AppError) return { error: err.code, message: err.message, details: err.details };
  throw err;
}

/**
 * Creates many records through the same validation, reference checks and audit as one create,
 * in multi-row INSERTs of `chunkSize` inside one transaction per chunk. A chunk that hits a
 * unique conflict is replayed row by row (each in a savepoint) so that every row gets its own
 * result and the good ones are kept.
 */
export async function bulkCreateRecords(rt: Runtime, def: ResolvedDefinition, ctx: OperationContext, items: Row[], opts: { chunkSize?: number } = {}): Promise<BulkCreateResult> {
  assertCan(ctx.ability, 'create', def, ctx.org?.id);
  const validator = rt.validators.get(def.name)!;
  const codec = rt.codecs.get(def.name)!;
  const results: BulkRowResult[] = [];
  const valid: { index: number; row: Row }[] = [];
  items.forEach((item, index) => {
    try {
      valid.push({ index, row: newRow(def, ctx, validator.create({ ...item })) });
    } catch (err) {
      results.push({ index, status: 'failed', error: failure(err) });
    }
  });
  const chunkSize = opts.chunkSize ?? 1000;
  for (let start = 0; start < valid.length; start += chunkSize) {
    const chunk = valid.slice(start, start + chunkSize);
    try {
      await rt.db.knex.transaction(async (trx) => {
        const referenced = chunk.filter((c) => Object.entries(def.fields).some(([n, f]) => f.ref && c.row[n]));
        for (const c of referenced) await assertReferences(rt, def, ctx, c.row, trx);
        const rows = chunk.map((c) => codec.toDb(c.row));
        const perInsert = Math.max(1, Math.floor(30000 / Math.max(1, Object.keys(rows[0]).length)));
        for (let i = 0; i < rows.length; i += perInsert) await trx(def.table).insert(rows.slice(i, i + perInsert));
        await rt.audit.writeMany(trx, ctx, def, 'create', chunk.map((c) => ({ id: c.row.id as string, changes: diffRecords(def, null, c.row) })));
      });
      for (const c of chunk) results.push({ index: c.index, status: 'created', id: c.row.id as string });
    } catch (err) {
      if (!(err instanceof AppError) && !duplicateError(def, err)) throw err;
      // Replay the chunk one row at a time so each row reports its own outcome.
      for (const c of chunk) {
        try {
          await rt.db.knex.transaction(async (trx) => {
            await assertReferences(rt, def, ctx, c.row, trx);
            await trx(def.table).insert(codec.toDb(c.row));
            await rt.audit.write(trx, ctx, def, 'create', c.row.id as string, diffRecords(def, null, c.row));
          });
          results.push({ index: c.index, status: 'created', id: c.row.id as string });
        } catch (rowErr) {
          results.push({ index: c.index, status: 'failed', error: failure(duplicateError(def, rowErr) ?? rowErr) });
        }
      }
    }
  }
  if (valid.length) await afterCommit(rt, def);
  results.sort((a, b) => a.index - b.index);
  const created = results.filter((r) => r.status === 'created').length;
  return { total: items.length, created, failed: items.length - created, results };
}
