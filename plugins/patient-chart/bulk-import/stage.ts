import { v7 as uuidv7 } from 'uuid';
import type { OperationContext } from '../../../app/core/context.js';
import { systemColumns } from '../../../app/core/define.js';
import { insertRows } from '../../../app/db/statements.js';
import type { JobRecord } from '../../../app/jobs/types.js';
import type { Runtime } from '../../../app/runtime.js';
import { importDefinition, importRowDefinition } from './definitions.js';
import { DEFAULTS, type ImportOptions } from './request.js';

export const IMPORT_JOB = 'patients.import';
/** Staged rows per insert, each batch committed as it comes: the request holds no long transaction. */
export const STAGE_BATCH = 1000;
/** A staging import untouched this long was abandoned by a process that died mid-upload. */
const ABANDONED_MS = 60 * 60 * 1000;

/**
 * Stages an import above the sync limit while its body is still arriving.
 *
 * Atomic for the caller without one long transaction: on SQLite (one connection) a transaction
 * open for the whole upload would stall every other request for as long as a slow client takes.
 * Instead the import is created in state `staging` with no job, its rows are inserted batch by
 * batch, and `commit` enqueues the job and makes it `ready` in one short transaction. Until then
 * nothing can run it; a body that turns out invalid (or a failure of ours) `discard`s it, and one
 * left behind by a process that died mid-upload is swept when a later import starts staging.
 */
export class ImportStager {
  private readonly system: Record<string, unknown>;
  /** The first row of each match key seen so far (duplicates across chunks fail like within one). */
  private readonly firstByKey = new Map<string, number>();
  private staged = 0;

  private constructor(private readonly rt: Runtime, private readonly orgId: string, readonly importId: string, private readonly matchOn: string) {
    this.system = systemColumns(importRowDefinition, new Date().toISOString());
  }

  static async open(rt: Runtime, ctx: OperationContext, matchOn: string): Promise<ImportStager> {
    await sweepAbandoned(rt);
    const org = ctx.org!;
    const importId = uuidv7();
    await insertRows(rt.db.statements, rt.db.knex, importDefinition.table, [rt.schema.codec(importDefinition.name).toDb({
      id: importId,
      org_id: org.id,
      job_id: null,
      state: 'staging',
      // The options as far as known; commit writes the final ones (JSON meta may follow the rows).
      mode: DEFAULTS.mode,
      on_conflict: DEFAULTS.on_conflict,
      match_on: matchOn,
      total: 0,
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
      ...systemColumns(importDefinition, new Date().toISOString()),
    })]);
    return new ImportStager(rt, org.id, importId, matchOn);
  }

  /** Stores the next rows of the import (numbered on from the ones before). */
  async add(rows: readonly unknown[]): Promise<void> {
    if (!rows.length) return;
    const codec = this.rt.schema.codec(importRowDefinition.name);
    const batch = rows.map((data, i) => {
      const index = this.staged + i;
      const key = data !== null && typeof data === 'object' ? (data as Record<string, unknown>)[this.matchOn] : undefined;
      let duplicateOf: number | null = null;
      if (typeof key === 'string' && key !== '') {
        const earlier = this.firstByKey.get(key);
        if (earlier === undefined) this.firstByKey.set(key, index);
        else duplicateOf = earlier;
      }
      return codec.toDb({ id: uuidv7(), org_id: this.orgId, import_id: this.importId, row_index: index, data: data === undefined ? null : data, duplicate_of: duplicateOf, errors: null, ...this.system });
    });
    await this.rt.db.knex.transaction(async (trx) => {
      await insertRows(this.rt.db.statements, trx, importRowDefinition.table, batch);
      await this.rt.db.statements.run(trx, `update "${importDefinition.table}" set "updated_at" = ? where "id" = ?`, [new Date().toISOString(), this.importId]);
    });
    this.staged += rows.length;
  }

  /** Hands the staged import to its job: the job exists exactly when all of its input does. */
  async commit(options: ImportOptions): Promise<JobRecord> {
    if (options.match_on !== this.matchOn) throw new TypeError(`import staged matching on '${this.matchOn}', committed with '${options.match_on}'`);
    return this.rt.db.knex.transaction(async (trx) => {
      const job = await this.rt.jobs.enqueue(IMPORT_JOB, { orgId: this.orgId, payload: { import_id: this.importId }, trx });
      const set = this.rt.schema.codec(importDefinition.name).toDb({ job_id: job.id, state: 'ready', mode: options.mode, on_conflict: options.on_conflict, total: this.staged });
      await this.rt.db.statements.run(trx,
        `update "${importDefinition.table}" set "job_id" = ?, "state" = ?, "mode" = ?, "on_conflict" = ?, "total" = ?, "updated_at" = ? where "id" = ? and "state" = 'staging'`,
        [set.job_id, set.state, set.mode, set.on_conflict, set.total, new Date().toISOString(), this.importId]);
      return job;
    });
  }

  /** Removes what was staged: the request failed, and no job will ever apply it. */
  async discard(): Promise<void> {
    await discardImport(this.rt, this.importId);
  }
}

async function discardImport(rt: Runtime, importId: string): Promise<void> {
  await rt.db.knex.transaction(async (trx) => {
    await rt.db.statements.run(trx, `delete from "${importRowDefinition.table}" where "import_id" = ?`, [importId]);
    await rt.db.statements.run(trx, `delete from "${importDefinition.table}" where "id" = ? and "state" = 'staging'`, [importId]);
  });
}

/** Imports left `staging` by a process that died mid-upload (any organization). */
async function sweepAbandoned(rt: Runtime): Promise<void> {
  const before = new Date(Date.now() - ABANDONED_MS).toISOString();
  const stale = await rt.db.statements.all(rt.db.knex, `select "id" from "${importDefinition.table}" where "state" = 'staging' and "updated_at" < ?`, [before]);
  for (const { id } of stale) await discardImport(rt, String(id));
}
