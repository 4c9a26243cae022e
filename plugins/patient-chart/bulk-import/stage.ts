import { v7 as uuidv7 } from 'uuid';
import type { OperationContext } from '../../../app/core/context.js';
import { systemColumns } from '../../../app/core/define.js';
import { insertRows } from '../../../app/db/statements.js';
import type { JobRecord } from '../../../app/jobs/types.js';
import type { Runtime } from '../../../app/runtime.js';
import { importDefinition, importRowDefinition } from './definitions.js';
import type { ImportOptions } from './request.js';

export const IMPORT_JOB = 'patients.import';
/** Staged rows handed to the driver per insertRows call (it splits them into statements). */
const STAGE_BATCH = 5000;

/**
 * An earlier row of the import with the same match key, for each row that repeats one: the whole
 * import is one batch for uniqueness, though a job applies it in chunks.
 */
export function earlierDuplicates(rows: readonly unknown[], matchOn: string): Map<number, number> {
  const first = new Map<string, number>();
  const duplicates = new Map<number, number>();
  rows.forEach((row, i) => {
    const key = row !== null && typeof row === 'object' ? (row as Record<string, unknown>)[matchOn] : undefined;
    if (typeof key !== 'string' || key === '') return;
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, i);
    else duplicates.set(i, earlier);
  });
  return duplicates;
}

/**
 * Stores the import, its rows and its job in one transaction, so that the job exists exactly
 * when its input does: the answer (202) comes only after all of it is committed.
 */
export async function stageImport(rt: Runtime, ctx: OperationContext, options: ImportOptions, rows: readonly unknown[]): Promise<JobRecord> {
  const org = ctx.org!;
  const importId = uuidv7();
  const gen = rt.schema;
  const importCodec = gen.codec(importDefinition.name);
  const rowCodec = gen.codec(importRowDefinition.name);
  const duplicates = earlierDuplicates(rows, options.match_on);
  const now = new Date().toISOString();
  return rt.db.knex.transaction(async (trx) => {
    const job = await rt.jobs.enqueue(IMPORT_JOB, { orgId: org.id, payload: { import_id: importId }, trx });
    await insertRows(rt.db.statements, trx, importDefinition.table, [importCodec.toDb({
      id: importId,
      org_id: org.id,
      job_id: job.id,
      mode: options.mode,
      on_conflict: options.on_conflict,
      match_on: options.match_on,
      total: rows.length,
      cursor: 0,
      created: 0,
      updated: 0,
      skipped: 0,
      failed: 0,
      validated: 0,
      actor: ctx.actor,
      rules: ctx.ability.rules,
      org,
      request_id: ctx.requestId ?? null,
      ...systemColumns(importDefinition, now),
    })]);
    const system = systemColumns(importRowDefinition, now);
    for (let start = 0; start < rows.length; start += STAGE_BATCH) {
      const batch = rows.slice(start, start + STAGE_BATCH).map((data, i) => rowCodec.toDb({
        id: uuidv7(),
        org_id: org.id,
        import_id: importId,
        row_index: start + i,
        data: data === undefined ? null : data,
        duplicate_of: duplicates.get(start + i) ?? null,
        errors: null,
        ...system,
      }));
      await insertRows(rt.db.statements, trx, importRowDefinition.table, batch);
    }
    return job;
  });
}
