import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { JobCatalog } from './catalog.js';
import { JobStore } from './store.js';
import type { JobQueueDeps } from './types.js';

/** What both backends are built from: the job types, the table, settings with defaults applied. */
export interface QueueParts {
  catalog: JobCatalog;
  store: JobStore;
  logger: Logger;
  /** This queue instance, as recorded in `locked_by` while it runs a job. */
  runnerId: string;
  pollMs: number;
  concurrency: number;
  leaseMs: number;
  shutdownMs: number;
  knex: JobQueueDeps['knex'];
}

export function queueParts(deps: JobQueueDeps): QueueParts {
  const logger = deps.logger.child({ component: 'jobs' });
  const notifyChanged = () => {
    if (!deps.onJobsChanged) return;
    Promise.resolve()
      .then(deps.onJobsChanged)
      .catch((err: { code?: unknown }) => logger.warn({ code: typeof err?.code === 'string' ? err.code : undefined }, 'onJobsChanged failed'));
  };
  const setting = (value: number | undefined, fallback: number, name: string, min: number, integer = false) => {
    const chosen = value ?? fallback;
    if (!Number.isFinite(chosen) || chosen < min || (integer && !Number.isInteger(chosen))) {
      throw new TypeError(`${name} must be ${integer ? 'an integer' : 'a number'} of at least ${min}`);
    }
    return chosen;
  };
  return {
    catalog: new JobCatalog(),
    store: new JobStore(deps.knex, deps.dialect, notifyChanged),
    logger,
    runnerId: `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`,
    pollMs: setting(deps.pollMs, 200, 'pollMs', 1),
    concurrency: setting(deps.concurrency, 2, 'concurrency', 1, true),
    leaseMs: setting(deps.leaseMs, 30_000, 'leaseMs', 100),
    shutdownMs: setting(deps.shutdownMs, 10_000, 'shutdownMs', 0),
    knex: deps.knex,
  };
}

/** Resolves once every promise settled or `ms` passed, whichever comes first; true if all settled. */
export async function settledWithin(promises: Promise<unknown>[], ms: number): Promise<boolean> {
  if (promises.length === 0) return true;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([Promise.allSettled(promises).then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error code of something thrown, for logs (never its message). */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : (err as { name?: string } | null)?.name ?? 'unknown';
}
