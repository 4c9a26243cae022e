import type { Knex } from 'knex';
import { isUniqueViolation } from '../db/errors.js';
import { jobsTable } from './store.js';

/**
 * The runners look for due and expired jobs across every org, which the definition's indexes
 * (all led by org_id) cannot serve; without these a poll would read the whole table, completed
 * jobs included. Schema sync cannot declare an index without the tenant prefix, so they are made
 * here, idempotently.
 */
const RUNNER_INDEXES = [
  { name: 'ix_jobs_status_run_at', columns: ['status', 'run_at'] },
  { name: 'ix_jobs_status_locked_until', columns: ['status', 'locked_until'] },
];

/** PostgreSQL: `if not exists` still races when processes start together (42P07 or 23505). */
function isAlreadyCreated(err: unknown): boolean {
  return isUniqueViolation(err) || (err as { code?: string }).code === '42P07';
}

export async function ensureRunnerIndexes(knex: Knex): Promise<void> {
  for (const index of RUNNER_INDEXES) {
    const columns = index.columns.map((c) => `"${c}"`).join(', ');
    try {
      await knex.raw(`create index if not exists "${index.name}" on "${jobsTable}" (${columns})`);
    } catch (err) {
      if (!isAlreadyCreated(err)) throw err;
    }
  }
}
