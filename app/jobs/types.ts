import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Dialect } from '../db/dialect.js';

export type JobStatus = 'queued' | 'running' | 'completed' | 'failed';

/** What a failed attempt leaves behind: a stable code and a message, never a stack, SQL or payload. */
export interface JobError {
  code: string;
  message: string;
}

export interface JobRecord {
  id: string;
  org_id: string;
  type: string;
  status: JobStatus;
  progress: number;
  attempts: number;
  max_attempts: number;
  payload: unknown;
  checkpoint: unknown;
  result: unknown;
  error: JobError | null;
  dedupe_key: string | null;
  run_at: string;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
}

export interface JobContext {
  job: JobRecord;
  /** what an earlier, interrupted attempt recorded as finished */
  checkpoint: unknown;
  /**
   * Stores progress (0-100) and, when given, the new checkpoint. Rejects with code
   * `job_interrupted` once this attempt may no longer write (the queue is closing or another
   * runner took the job over): the handler should stop there.
   */
  progress(percent: number, checkpoint?: unknown): Promise<void>;
  logger: Logger;
}

/** The resolved value becomes the job's `result`. */
export type JobHandler = (ctx: JobContext) => Promise<unknown>;

export interface JobTypeOptions {
  /** Attempts before the job fails; default 5. */
  attempts?: number;
  /** Base of the exponential backoff between attempts, in ms; default 1000. */
  backoffMs?: number;
}

export interface EnqueueInput {
  orgId: string;
  payload: unknown;
  dedupeKey?: string;
  delayMs?: number;
  trx?: Knex.Transaction;
}

export interface JobQueue {
  readonly kind: 'database' | 'bullmq';
  define(type: string, handler: JobHandler, options?: JobTypeOptions): void;
  /** Inside `trx` when given (the job commits with the caller's write). A second enqueue with the same dedupeKey returns the first job. */
  enqueue(type: string, input: EnqueueInput): Promise<JobRecord>;
  get(id: string): Promise<JobRecord | null>;
  /** Starts processing; first recovers jobs left `running` by a process that died. */
  start(): Promise<void>;
  /** Stops taking jobs, waits for running handlers (bounded), closes every connection/timer it opened. */
  close(): Promise<void>;
}

export interface JobQueueDeps {
  knex: Knex;
  dialect: Dialect;
  logger: Logger;
  /** Set: jobs run through BullMQ on this Redis. Unset: the database runner. */
  redisUrl?: string;
  /** Namespaces the BullMQ keys (tests isolate themselves with it). */
  redisPrefix: string;
  /** How often the database runner looks for due jobs; default 200 ms. */
  pollMs?: number;
  /** Handlers run at once per queue; default 2. */
  concurrency?: number;
  /**
   * How long a running attempt may go unseen before it is taken to be dead and recovered: the
   * database runner's lease, BullMQ's lock duration and stalled-check interval. Default 30 s.
   */
  leaseMs?: number;
  /** How long close() waits for running handlers before abandoning them to recovery; default 10 s. */
  shutdownMs?: number;
  /**
   * Called after the runner changes job rows (committed), so per-generation caches of the jobs
   * list can be dropped, e.g. `() => rt.generations.bump('jobs')`.
   */
  onJobsChanged?: () => void | Promise<void>;
}
