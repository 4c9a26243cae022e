import { isUuid } from '../core/ids.js';
import type { JobCatalog } from './catalog.js';
import { isoIn, type JobStore } from './store.js';
import type { EnqueueInput, JobRecord } from './types.js';

/** Checks the input and stores the queued job; `created` is false when a dedupe key matched. */
export async function insertJob(store: JobStore, catalog: JobCatalog, type: string, input: EnqueueInput): Promise<{ record: JobRecord; created: boolean }> {
  const jobType = catalog.require(type);
  if (!isUuid(input.orgId)) throw new TypeError('orgId must be a UUID');
  const delayMs = input.delayMs ?? 0;
  if (!Number.isFinite(delayMs) || delayMs < 0) throw new TypeError('delayMs must be zero or more');
  if (input.dedupeKey !== undefined && (typeof input.dedupeKey !== 'string' || !input.dedupeKey || input.dedupeKey.length > 200)) {
    throw new TypeError('dedupeKey must be a string of 1-200 characters');
  }
  return store.insert({
    orgId: input.orgId,
    type,
    payload: input.payload,
    maxAttempts: jobType.attempts,
    runAt: isoIn(delayMs),
    dedupeKey: input.dedupeKey ?? null,
  }, input.trx);
}
