import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { resolveDefinition } from '../core/define.js';
import { isUuid } from '../core/ids.js';
import { makeCodec, type RecordCodec } from '../db/codec.js';
import type { Dialect } from '../db/connection.js';
import { afterTransaction } from './after-transaction.js';
import { jobDefinition } from './definition.js';
import type { JobError, JobRecord, JobStatus } from './types.js';

export const jobsTable = resolveDefinition(jobDefinition).table;

export const isoNow = (): string => new Date().toISOString();
export const isoIn = (ms: number): string => new Date(Date.now() + ms).toISOString();

/** pg hands back Date objects unless app/db/connection.ts set its parsers; the API speaks ISO strings. */
function isoText(value: unknown): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

export interface NewJob {
  orgId: string;
  type: string;
  payload: unknown;
  maxAttempts: number;
  runAt: string;
  dedupeKey: string | null;
}

/**
 * Every read and write of the jobs table. Writes to a job being run are conditional on the
 * runner still holding it (`status = 'running' and locked_by = owner`), so a runner that lost
 * its lease to another can no longer change the row; they report whether the row changed.
 */
export class JobStore {
  private readonly codec: RecordCodec;

  constructor(
    private readonly knex: Knex,
    dialect: Dialect,
    /** Told after each committed write (list caches per write generation). */
    private readonly changed: () => void,
  ) {
    this.codec = makeCodec(resolveDefinition(jobDefinition), dialect);
  }

  private table(db: Knex | Knex.Transaction = this.knex) {
    return db(jobsTable);
  }

  private toRecord(stored: Record<string, unknown>): JobRecord {
    const row = this.codec.fromDb(stored);
    return {
      id: row.id as string,
      org_id: row.org_id as string,
      type: row.type as string,
      status: row.status as JobStatus,
      progress: Number(row.progress),
      attempts: Number(row.attempts),
      max_attempts: Number(row.max_attempts),
      payload: row.payload ?? null,
      checkpoint: row.checkpoint ?? null,
      result: row.result ?? null,
      error: (row.error ?? null) as JobError | null,
      dedupe_key: (row.dedupe_key ?? null) as string | null,
      run_at: isoText(row.run_at),
      created_at: isoText(row.created_at),
      updated_at: isoText(row.updated_at),
      finished_at: row.finished_at == null ? null : isoText(row.finished_at),
    };
  }

  /** Runs `fn` and reports a change when it changed at least one row. */
  private async write(fn: () => Promise<number>): Promise<boolean> {
    const count = await fn();
    if (count > 0) this.changed();
    return count > 0;
  }

  async get(id: string, db?: Knex | Knex.Transaction): Promise<JobRecord | null> {
    if (!isUuid(id)) return null;
    const row = await this.table(db).where({ id }).first();
    return row ? this.toRecord(row) : null;
  }

  /**
   * Inserts a queued job, inside `trx` when given. With a dedupe key already taken in the org the
   * insert does nothing (`on conflict do nothing`, which unlike a caught unique violation leaves a
   * PostgreSQL transaction usable) and the existing job is returned.
   */
  async insert(job: NewJob, trx?: Knex.Transaction): Promise<{ record: JobRecord; created: boolean }> {
    const id = uuidv7();
    const now = isoNow();
    const row = this.codec.toDb({
      id,
      org_id: job.orgId,
      type: job.type,
      status: 'queued',
      progress: 0,
      attempts: 0,
      max_attempts: job.maxAttempts,
      payload: job.payload ?? null,
      checkpoint: null,
      result: null,
      error: null,
      dedupe_key: job.dedupeKey,
      run_at: job.runAt,
      locked_until: null,
      locked_by: null,
      finished_at: null,
      created_at: now,
      updated_at: now,
    });
    let stored: Record<string, unknown>;
    if (job.dedupeKey === null) {
      await this.table(trx).insert(row);
      stored = await this.table(trx).where({ id }).first();
    } else {
      await this.table(trx).insert(row).onConflict(['org_id', 'dedupe_key']).ignore();
      stored = await this.table(trx).where({ org_id: job.orgId, dedupe_key: job.dedupeKey }).first();
    }
    const created = stored.id === id;
    if (created) afterTransaction(trx, this.changed);
    return { record: this.toRecord(stored), created };
  }

  /** Jobs due to run (of the given types) and running jobs whose lease has run out, oldest first. */
  async findDue(types: string[], now: string, limit: number): Promise<{ id: string; status: JobStatus }[]> {
    return this.table()
      .select('id', 'status')
      .where((q) => {
        if (types.length) q.where((due) => due.where('status', 'queued').where('run_at', '<=', now).whereIn('type', types));
        q.orWhere((expired) => expired.where('status', 'running').where('locked_until', '<', now));
      })
      .orderBy('run_at')
      .limit(limit);
  }

  /**
   * Takes a queued job for `owner` if nobody took it first: the status condition makes the
   * update a compare-and-set, so of several runners racing for one row exactly one changes it.
   */
  async claim(id: string, owner: string, leaseUntil: string): Promise<JobRecord | null> {
    const claimed = await this.write(() => this.table()
      .where({ id, status: 'queued' })
      .update({ status: 'running', attempts: this.knex.raw('?? + 1', ['attempts']), locked_by: owner, locked_until: leaseUntil, updated_at: isoNow() }));
    return claimed ? this.get(id) : null;
  }

  /** BullMQ took the job (again): record the attempt and its runner. */
  async startAttempt(id: string, owner: string, attempt: number): Promise<JobRecord | null> {
    const started = await this.write(() => this.table()
      .where({ id })
      .whereIn('status', ['queued', 'running'])
      .update({ status: 'running', attempts: attempt, locked_by: owner, locked_until: null, updated_at: isoNow() }));
    return started ? this.get(id) : null;
  }

  async renewLease(id: string, owner: string, leaseUntil: string): Promise<boolean> {
    return this.write(() => this.held(id, owner).update({ locked_until: leaseUntil }));
  }

  async saveProgress(id: string, owner: string, progress: number, checkpoint: unknown, leaseUntil?: string): Promise<boolean> {
    const values: Record<string, unknown> = { progress, updated_at: isoNow() };
    if (checkpoint !== undefined) values.checkpoint = checkpoint;
    if (leaseUntil) values.locked_until = leaseUntil;
    return this.write(() => this.held(id, owner).update(this.codec.toDb(values)));
  }

  async complete(id: string, owner: string, result: unknown): Promise<boolean> {
    const now = isoNow();
    return this.write(() => this.held(id, owner).update(this.codec.toDb({
      status: 'completed', progress: 100, result: result ?? null, error: null, locked_by: null, locked_until: null, finished_at: now, updated_at: now,
    })));
  }

  /** Back to queued until `runAt`, keeping the checkpoint; `nextOwner` marks who holds it meanwhile. */
  async retryLater(id: string, owner: string, error: JobError, runAt: string, nextOwner: string | null = null): Promise<boolean> {
    return this.write(() => this.held(id, owner).update(this.codec.toDb({
      status: 'queued', error, run_at: runAt, locked_by: nextOwner, locked_until: null, updated_at: isoNow(),
    })));
  }

  async fail(id: string, owner: string, error: JobError): Promise<boolean> {
    return this.write(() => this.held(id, owner).update(this.failedValues(error)));
  }

  /** Fails a job nobody is running (its attempts ran out between runners). */
  async failUnfinished(id: string, error: JobError): Promise<boolean> {
    return this.write(() => this.table().where({ id }).whereIn('status', ['queued', 'running']).update(this.failedValues(error)));
  }

  /**
   * Running jobs whose lease ran out belong to a runner that died: they go back to queued, due
   * now, with their checkpoint, or fail when that attempt was their last.
   */
  async recoverExpired(now: string): Promise<{ requeued: number; failed: number }> {
    const expired = () => this.table().where('status', 'running').where('locked_until', '<', now);
    const interrupted: JobError = { code: 'job_interrupted', message: 'The runner stopped during the last attempt' };
    const failed = await expired().whereRaw('?? >= ??', ['attempts', 'max_attempts']).update(this.failedValues(interrupted));
    const requeued = await expired().update({ status: 'queued', run_at: now, locked_by: null, locked_until: null, updated_at: isoNow() });
    if (failed + requeued > 0) this.changed();
    return { requeued, failed };
  }

  /** Queued jobs never handed to BullMQ (`locked_by` unset): its enqueuer died between commit and hand-off. */
  async notHandedOff(limit: number): Promise<JobRecord[]> {
    const rows = await this.table().where({ status: 'queued' }).whereNull('locked_by').orderBy('run_at').limit(limit);
    return rows.map((row: Record<string, unknown>) => this.toRecord(row));
  }

  /** Queued jobs held by `marker` that should have run before `before`: candidates for having been lost there. */
  async overdue(marker: string, before: string, limit: number): Promise<JobRecord[]> {
    const rows = await this.table().where({ status: 'queued', locked_by: marker }).where('run_at', '<', before).orderBy('run_at').limit(limit);
    return rows.map((row: Record<string, unknown>) => this.toRecord(row));
  }

  async markHandedOff(id: string, marker: string): Promise<boolean> {
    return this.write(() => this.table().where({ id, status: 'queued' }).whereNull('locked_by').update({ locked_by: marker }));
  }

  private held(id: string, owner: string) {
    return this.table().where({ id, status: 'running', locked_by: owner });
  }

  private failedValues(error: JobError): Record<string, unknown> {
    const now = isoNow();
    return this.codec.toDb({ status: 'failed', error, locked_by: null, locked_until: null, finished_at: now, updated_at: now });
  }
}
