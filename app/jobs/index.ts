import { BullmqJobQueue } from './bullmq-queue.js';
import { DatabaseJobQueue } from './database-queue.js';
import { queueParts } from './queue-parts.js';
import type { JobQueue, JobQueueDeps } from './types.js';

export { jobDefinition } from './definition.js';
export { JobInterruptedError } from './errors.js';
export type * from './types.js';

/** BullMQ when a Redis URL is configured, else the database runner; both keep the jobs table. */
export function createJobQueue(deps: JobQueueDeps): JobQueue {
  const parts = queueParts(deps);
  return deps.redisUrl ? new BullmqJobQueue(parts, deps.redisUrl, deps.redisPrefix) : new DatabaseJobQueue(parts);
}
