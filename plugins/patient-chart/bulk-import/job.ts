import { createMongoAbility } from '@casl/ability';
import type { Actor, Org, OperationContext } from '../../../app/core/context.js';
import type { JobContext } from '../../../app/jobs/types.js';
import { JobInterruptedError } from '../../../app/jobs/errors.js';
import { bulkImportRecords, type ImportCounts, type ImportMode, type ImportResult, type OnConflict } from '../../../app/operations/bulk-import.js';
import type { Runtime } from '../../../app/runtime.js';
import { importDefinition, importRowDefinition } from './definitions.js';
import { importExtensions } from './extensions.js';
import { chunkRows, MAX_REPORTED_FAILURES } from './settings.js';

const COUNTERS = ['created', 'updated', 'skipped', 'failed', 'validated'] as const;

interface StoredImport extends ImportCounts {
  id: string;
  org_id: string;
  mode: ImportMode;
  on_conflict: OnConflict;
  match_on: string;
  cursor: number;
  actor: Actor;
  rules: unknown[];
  org: Org;
  request_id: string | null;
}

async function loadImport(rt: Runtime, orgId: string, id: string): Promise<StoredImport> {
  const [row] = await rt.db.statements.all(rt.db.knex, `select * from "${importDefinition.table}" where "org_id" = ? and "id" = ?`, [orgId, id]);
  if (!row) throw Object.assign(new Error('The import this job applies is gone'), { code: 'import_not_found' });
  const stored = rt.schema.codec(importDefinition.name).fromDb(row);
  for (const k of ['total', 'cursor', ...COUNTERS]) stored[k] = Number(stored[k]);
  return stored as unknown as StoredImport;
}

/**
 * Applies a staged import chunk by chunk. Each chunk's writes, the import's cursor and counts,
 * and the chunk's staged rows (removed, or for failures reduced to their errors) commit in one
 * transaction; the cursor moves only from where this attempt read it, so an attempt that lost
 * the job to another runner cannot apply a chunk twice. A new attempt resumes at the cursor.
 */
export async function runImportJob({ rt, job, progress }: JobContext & { rt: Runtime }): Promise<unknown> {
  const { import_id: importId } = job.payload as { import_id: string };
  const imp = await loadImport(rt, job.org_id, importId);
  const ctx: OperationContext = {
    actor: imp.actor,
    ability: createMongoAbility(imp.rules as never),
    org: imp.org,
    requestId: imp.request_id ?? undefined,
  };
  const rowCodec = rt.schema.codec(importRowDefinition.name);
  const rowsTable = importRowDefinition.table;
  const size = chunkRows();
  let cursor = imp.cursor;
  for (;;) {
    const staged = (await rt.db.statements.all(rt.db.knex,
      `select * from "${rowsTable}" where "org_id" = ? and "import_id" = ? and "row_index" >= ? order by "row_index" limit ${size}`,
      [imp.org_id, imp.id, cursor])).map((r) => rowCodec.fromDb(r));
    if (!staged.length) break;
    const from = cursor;
    const next = Number(staged[staged.length - 1].row_index) + 1;
    await bulkImportRecords(rt, {
      resource: 'patient',
      ctx,
      mode: imp.mode,
      onConflict: imp.on_conflict,
      matchOn: imp.match_on,
      extensions: importExtensions,
      items: staged.map((r) => ({ row: Number(r.row_index), data: r.data, duplicateOf: r.duplicate_of == null ? undefined : Number(r.duplicate_of) })),
      async commitWith(trx, result: ImportResult) {
        const moved = await rt.db.statements.run(trx,
          `update "${importDefinition.table}" set "cursor" = ?, ${COUNTERS.map((c) => `"${c}" = "${c}" + ?`).join(', ')}, "updated_at" = ? where "id" = ? and "cursor" = ?`,
          [next, ...COUNTERS.map((c) => result[c]), new Date().toISOString(), imp.id, from]);
        if (moved !== 1) throw new JobInterruptedError('Another attempt applied this chunk of the import');
        for (const r of result.results) {
          if (r.status !== 'failed') continue;
          const set = rowCodec.toDb({ data: null, errors: r.errors ?? [] });
          await rt.db.statements.run(trx, `update "${rowsTable}" set "data" = ?, "errors" = ? where "org_id" = ? and "import_id" = ? and "row_index" = ?`,
            [set.data, set.errors, imp.org_id, imp.id, r.row]);
        }
        // Applied rows leave the staging table with their patient data; failures keep their errors.
        await rt.db.statements.run(trx, `delete from "${rowsTable}" where "org_id" = ? and "import_id" = ? and "row_index" >= ? and "row_index" < ? and "errors" is null`,
          [imp.org_id, imp.id, from, next]);
      },
    });
    cursor = next;
    await progress(imp.total ? Math.floor((Math.min(cursor, imp.total) / imp.total) * 100) : 100);
  }
  return report(rt, imp);
}

/** The job's result: the counts of every row, and the failed rows (the first MAX_REPORTED_FAILURES). */
async function report(rt: Runtime, imp: StoredImport): Promise<unknown> {
  const done = await loadImport(rt, imp.org_id, imp.id);
  const rowCodec = rt.schema.codec(importRowDefinition.name);
  const failures = (await rt.db.statements.all(rt.db.knex,
    `select "row_index", "errors" from "${importRowDefinition.table}" where "org_id" = ? and "import_id" = ? and "errors" is not null order by "row_index" limit ${MAX_REPORTED_FAILURES}`,
    [imp.org_id, imp.id])).map((r) => rowCodec.fromDb(r));
  return {
    mode: done.mode,
    total: done.total,
    rows_done: done.cursor >= done.total ? done.total : done.cursor,
    ...Object.fromEntries(COUNTERS.map((c) => [c, done[c]])),
    results: failures.map((f) => ({ row: Number(f.row_index), status: 'failed', errors: f.errors })),
    results_truncated: done.failed > failures.length,
  };
}
