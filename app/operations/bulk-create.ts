import { assertCan } from '../auth/ability.js';
import { diffRecords } from '../audit/audit-writer.js';
import { AppError, validationError, type ErrorDetail } from '../core/errors.js';
import { HOOK_NAMES } from '../core/plugin.js';
import { recordCountChanges } from '../counts/maintain.js';
import { newEvent } from '../events/outbox.js';
import type { Runtime } from '../runtime.js';
import { createRecord } from './create.js';
import { assertChangeableFields } from './field-rules.js';
import { assertReferences, type Row } from './records.js';
import { openScope, type ResourceArgs } from './scope.js';
import { committed, duplicateError, newRow } from './write-helpers.js';
import { insertRows } from '../db/statements.js';
import { copyRow } from '../db/codec.js';

/** A bulk create of at least this many rows refreshes the planner's statistics of the table. */
const ANALYZE_AFTER_ROWS = 1000;

export interface BulkCreateArgs extends ResourceArgs {
  items: Row[];
  chunkSize?: number;
}

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
 * Creates many records through the same validation, reference checks, audit and events as one
 * create, in multi-row INSERTs of `chunkSize` inside one transaction per chunk. A chunk that hits
 * a unique conflict is replayed row by row so that every row gets its own result and the good
 * ones are kept. Resources with per-record hooks take the one-record pipeline for each row.
 */
export async function bulkCreateRecords(rt: Runtime, args: BulkCreateArgs): Promise<BulkCreateResult> {
  const { s, def } = openScope(rt, args);
  const { ctx } = s;
  assertCan(ctx.ability, 'create', def, ctx.org?.id);
  const validator = s.gen.validators(def.name);
  const codec = s.gen.codec(def.name);
  const results: BulkRowResult[] = [];
  if (HOOK_NAMES.some((h) => rt.kernel.hooksFor(h, def.name, 'create').length)) {
    // Hooks see one record at a time: such resources take the one-record pipeline per row.
    for (const [index, body] of args.items.entries()) {
      try {
        const record = await createRecord(rt, { resource: args.resource, ctx, parentId: args.parentId, body });
        results.push({ index, status: 'created', id: record.id as string });
      } catch (err) {
        results.push({ index, status: 'failed', error: failure(err) });
      }
    }
    return summarize(args.items.length, results);
  }
  const refFields = Object.entries(def.fields).filter(([, f]) => f.ref).map(([n]) => n);
  const now = new Date().toISOString();
  const valid: { index: number; row: Row }[] = [];
  args.items.forEach((item, index) => {
    try {
      if (item === null || typeof item !== 'object' || Array.isArray(item)) throw validationError([{ path: `/body/${index}`, message: 'must be a JSON object' }]);
      assertChangeableFields(rt, def, item, 'create');
      valid.push({ index, row: newRow(def, ctx, validator.create(copyRow(item)), args.parentId, now) });
    } catch (err) {
      results.push({ index, status: 'failed', error: failure(err) });
    }
  });
  const insertChunk = async (chunk: { index: number; row: Row }[]) => {
    await rt.db.knex.transaction(async (trx) => {
      const referenced = refFields.length ? chunk.filter((c) => refFields.some((n) => c.row[n])) : [];
      for (const c of referenced) await assertReferences(s, def, c.row, trx);
      await insertRows(rt.db.statements, trx, def.table, chunk.map((c) => codec.toDb(c.row)));
      await recordCountChanges(trx, rt, def, ctx.org?.id, chunk.map((c) => ({ before: null, after: c.row })));
      await rt.audit.writeMany(trx, ctx, def, 'create', chunk.map((c) => ({ id: c.row.id as string, changes: diffRecords(def, null, c.row) })));
      const type = `${def.name}.created`;
      const events = rt.kernel.isSubscribed(type) ? chunk.map((c) => newEvent(ctx, def, c.row, type, {})) : [];
      await rt.events.record(trx, events);
      return events;
    }).then((events) => rt.events.dispatch(events));
  };
  const chunkSize = args.chunkSize ?? 1000;
  for (let start = 0; start < valid.length; start += chunkSize) {
    const chunk = valid.slice(start, start + chunkSize);
    try {
      await insertChunk(chunk);
      for (const c of chunk) results.push({ index: c.index, status: 'created', id: c.row.id as string });
    } catch (err) {
      if (!(err instanceof AppError) && !duplicateError(def, err)) throw err;
      // Replay the chunk one row at a time so each row reports its own outcome.
      for (const c of chunk) {
        try {
          await insertChunk([c]);
          results.push({ index: c.index, status: 'created', id: c.row.id as string });
        } catch (rowErr) {
          results.push({ index: c.index, status: 'failed', error: failure(duplicateError(def, rowErr) ?? rowErr) });
        }
      }
    }
  }
  if (valid.length) await committed(rt, def);
  const created = results.filter((r) => r.status === 'created').length;
  if (created >= ANALYZE_AFTER_ROWS) {
    try {
      await rt.db.dialect.refreshStatistics(rt.db.knex, def.table);
    } catch (err) {
      rt.logger.warn({ code: (err as { code?: string }).code ?? 'statistics_failed', resource: def.name }, 'could not refresh the planner statistics after a bulk create');
    }
  }
  return summarize(args.items.length, results);
}

function summarize(total: number, results: BulkRowResult[]): BulkCreateResult {
  results.sort((a, b) => a.index - b.index);
  const created = results.filter((r) => r.status === 'created').length;
  return { total, created, failed: total - created, results };
}
