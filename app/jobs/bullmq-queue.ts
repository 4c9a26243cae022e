import { Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { runAttempt } from './attempt.js';
import { backoffDelay } from './catalog.js';
import { afterTransaction } from './after-transaction.js';
import { insertJob } from './enqueue.js';
import { JobInterruptedError } from './errors.js';
import { errorCode, settledWithin, type QueueParts } from './queue-parts.js';
import { isoIn } from './store.js';
import type { EnqueueInput, JobError, JobHandler, JobQueue, JobRecord, JobTypeOptions } from './types.js';

const QUEUE_NAME = 'jobs';
/** `locked_by` of a queued row that BullMQ holds; rows still without it were never handed over. */
const HELD_BY_BULLMQ = 'bullmq';
const SWEEP_MS = 30_000;
const SWEEP_BATCH = 500;
/** Overdue rows whose BullMQ job is checked per sweep: one Redis call each. */
const LOST_CHECK_BATCH = 100;
/**
 * A job stalls when its worker dies. BullMQ fails it outright after `maxStalledCount` stalls, in
 * Redis alone, leaving its row `running`; instead every stall is allowed and the processor counts
 * started attempts (`attemptsStarted`) against the job's own max_attempts.
 */
const UNLIMITED_STALLS = 1_000_000;

/**
 * Jobs through BullMQ on Redis; the jobs table stays the record (GET reads it, the worker writes
 * progress, result, error and status back to it). Redis holds only the row id and type, never
 * the payload.
 *
 * Hand-off: a row is given to BullMQ only once visible to other connections, i.e. after the
 * caller's transaction committed (afterTransaction, then a re-read of the row, because knex also
 * settles the transaction promise on a plain rollback). A process that dies between commit and
 * hand-off, a Redis outage, or a row written in a savepoint leaves a queued row that BullMQ does
 * not know: the sweep (at start, then every 30 s) hands those over. The BullMQ job id is the row
 * id, so a repeated hand-off is ignored by BullMQ, and the worker skips rows already finished.
 * The sweep also asks BullMQ about queued rows long overdue: a Redis restarted without
 * persistence has forgotten them, and they are handed over again.
 *
 * Crash recovery is BullMQ's stalled-job check: a dead worker's lock runs out (leaseMs) and the
 * job goes back to wait; the next attempt gets the row's checkpoint.
 *
 * BullMQ gives any job to any worker of the queue, so every process that starts it must define
 * every job type; a worker without the handler fails the job as `unknown_job_type`.
 */
export class BullmqJobQueue implements JobQueue {
  readonly kind = 'bullmq' as const;
  private readonly prefix: string;
  private readonly connections: Redis[] = [];
  private readonly handOffs = new Set<Promise<void>>();
  /** Processor runs under way, with a flag close() sets when it stops waiting for them. */
  private readonly active = new Map<string, { done: Promise<unknown>; abandoned: boolean }>();
  private queue?: Queue;
  private worker?: Worker;
  private sweepTimer?: NodeJS.Timeout;
  private sweeping?: Promise<void>;
  private state: 'new' | 'running' | 'closed' = 'new';
  private closing?: Promise<void>;

  constructor(private readonly parts: QueueParts, private readonly redisUrl: string, redisPrefix: string) {
    // BullMQ puts `prefix:` before its keys; the runtime's prefixes end in ':' already.
    this.prefix = redisPrefix.replace(/:+$/, '') || 'emr';
  }

  define(type: string, handler: JobHandler, options?: JobTypeOptions): void {
    this.parts.catalog.define(type, handler, options);
  }

  async enqueue(type: string, input: EnqueueInput): Promise<JobRecord> {
    const { record, created } = await insertJob(this.parts.store, this.parts.catalog, type, input);
    // Not awaited: the committed row is the promise that the job runs, so a slow or absent Redis
    // must not hold up the caller (the sweep hands over what did not make it).
    if (created) afterTransaction(input.trx, () => this.track(this.handOff(record.id)));
    return record;
  }

  get(id: string): Promise<JobRecord | null> {
    return this.parts.store.get(id);
  }

  async start(): Promise<void> {
    if (this.state !== 'new') return;
    // Blocking commands must wait forever rather than fail after a few retries; but BullMQ
    // would then wait forever for an absent Redis too, so the connection is tried first.
    const connection = this.connect({ maxRetriesPerRequest: null, lazyConnect: true });
    try {
      await connection.connect();
    } catch (err) {
      this.connections.splice(this.connections.indexOf(connection), 1);
      connection.disconnect();
      throw new Error(`jobs: Redis does not answer (${errorCode(err)})`);
    }
    if (this.state !== 'new') return; // closed meanwhile; close() disconnects the connection
    this.state = 'running';
    const worker = new Worker(QUEUE_NAME, (job) => this.processTracked(job), {
      connection,
      prefix: this.prefix,
      concurrency: this.parts.concurrency,
      lockDuration: this.parts.leaseMs,
      stalledInterval: this.parts.leaseMs,
      maxStalledCount: UNLIMITED_STALLS,
    });
    worker.on('error', (err) => this.parts.logger.warn({ code: errorCode(err) }, 'BullMQ worker error'));
    this.worker = worker;
    await worker.waitUntilReady();
    await this.sweep();
    if (this.state !== 'running') return;
    this.sweepTimer = setInterval(() => { this.sweeping = this.sweep(); }, SWEEP_MS).unref();
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.state = 'closed';
    clearInterval(this.sweepTimer);
    await settledWithin([this.sweeping, ...this.handOffs].filter((p) => p !== undefined), this.parts.shutdownMs);
    if (this.worker) {
      await this.worker.pause(true); // take no more jobs; the running ones go on
      const running = [...this.active.values()];
      if (!(await settledWithin(running.map((r) => r.done), this.parts.shutdownMs))) {
        for (const [id, run] of this.active) {
          run.abandoned = true;
          this.parts.logger.warn({ jobId: id }, 'job still running at shutdown: left to BullMQ\'s stalled-job recovery');
        }
      }
      // Forced: an abandoned handler must not hold the close; its lock then runs out in Redis.
      await this.worker.close(true);
    }
    await this.queue?.close();
    for (const connection of this.connections) connection.disconnect();
  }

  private connect(options: { maxRetriesPerRequest: number | null; lazyConnect?: boolean }): Redis {
    const connection = new Redis(this.redisUrl, options);
    connection.on('error', (err) => this.parts.logger.warn({ code: errorCode(err) }, 'Redis connection error'));
    this.connections.push(connection);
    return connection;
  }

  private bullQueue(): Queue {
    if (!this.queue) {
      this.queue = new Queue(QUEUE_NAME, { connection: this.connect({ maxRetriesPerRequest: 20 }), prefix: this.prefix });
      this.queue.on('error', (err) => this.parts.logger.warn({ code: errorCode(err) }, 'BullMQ queue error'));
    }
    return this.queue;
  }

  private track(promise: Promise<void>): void {
    this.handOffs.add(promise);
    void promise.finally(() => this.handOffs.delete(promise));
  }

  /** Gives a committed queued row to BullMQ; failures are left to the sweep. */
  private async handOff(id: string): Promise<void> {
    if (this.state === 'closed') return; // the next start's sweep hands it over
    try {
      const job = await this.parts.store.get(id);
      if (!job || job.status !== 'queued') return; // rolled back, or already taken
      const type = this.parts.catalog.get(job.type);
      await this.bullQueue().add(job.type, {}, {
        jobId: job.id,
        attempts: job.max_attempts,
        backoff: { type: 'exponential', delay: type ? type.backoffMs : 1000 },
        delay: Math.max(0, Date.parse(job.run_at) - Date.now()),
        // Kept a while so that a repeated hand-off of a finished job is still recognized.
        removeOnComplete: { age: 24 * 3600, count: 10_000 },
        removeOnFail: { age: 7 * 24 * 3600 },
      });
      await this.parts.store.markHandedOff(job.id, HELD_BY_BULLMQ);
    } catch (err) {
      this.parts.logger.warn({ jobId: id, code: errorCode(err) }, 'could not hand the job to BullMQ; the sweep will retry');
    }
  }

  private async sweep(): Promise<void> {
    const { store, logger } = this.parts;
    try {
      const orphans = await store.notHandedOff(SWEEP_BATCH);
      for (const job of orphans) {
        if (this.state === 'closed') return;
        await this.handOff(job.id);
      }
      if (orphans.length) logger.info({ count: orphans.length }, 'handed queued jobs over to BullMQ');
      let lost = 0;
      for (const job of await store.overdue(HELD_BY_BULLMQ, isoIn(-SWEEP_MS), LOST_CHECK_BATCH)) {
        if (this.state === 'closed') return;
        if ((await this.bullQueue().getJobState(job.id)) !== 'unknown') continue;
        lost++;
        await this.handOff(job.id);
      }
      if (lost) logger.warn({ count: lost }, 'handed over again queued jobs that BullMQ had lost');
    } catch (err) {
      this.parts.logger.warn({ code: errorCode(err) }, 'job sweep failed');
    }
  }

  private processTracked(job: Job): Promise<null> {
    const run = { done: Promise.resolve() as Promise<unknown>, abandoned: false };
    const done = this.process(job, run);
    run.done = done;
    this.active.set(job.id!, run);
    return done.finally(() => {
      if (this.active.get(job.id!) === run) this.active.delete(job.id!);
    });
  }

  /**
   * One BullMQ attempt. Outcomes are written to the row first; then a failure is thrown for
   * BullMQ to schedule the retry (the same exponential backoff) or, on the last attempt, as
   * UnrecoverableError so that BullMQ and the row agree. Thrown errors carry the code only.
   */
  private async process(job: Job, run: { abandoned: boolean }): Promise<null> {
    const { store, catalog, runnerId, logger } = this.parts;
    const id = job.id!;
    const row = await store.get(id);
    if (!row || row.status === 'completed' || row.status === 'failed') return null;
    const type = catalog.get(row.type);
    const attempt = job.attemptsStarted;
    const log = { jobId: id, type: row.type, attempt };
    if (!type) return this.failOutright(id, log, { code: 'unknown_job_type', message: `No handler for job type ${row.type}` });
    if (attempt > row.max_attempts) return this.failOutright(id, log, { code: 'job_interrupted', message: 'The runner stopped during the last attempt' });

    const running = await store.startAttempt(id, runnerId, attempt);
    if (!running) return null;
    const outcome = await runAttempt(running, type.handler, logger, async (percent, checkpoint) =>
      !run.abandoned && store.saveProgress(id, runnerId, percent, checkpoint));
    if (run.abandoned) throw new JobInterruptedError();
    if (outcome.ok) {
      if (await store.complete(id, runnerId, outcome.result)) logger.info(log, 'job completed');
      return null;
    }
    if (attempt >= row.max_attempts) {
      if (await store.fail(id, runnerId, outcome.error)) logger.error({ ...log, code: outcome.error.code }, 'job failed');
      throw new UnrecoverableError(outcome.error.code);
    }
    // BullMQ waits backoff * 2^(failures - 1); the row shows when that is.
    const runAt = isoIn(backoffDelay(type, job.attemptsMade + 1));
    if (await store.retryLater(id, runnerId, outcome.error, runAt, HELD_BY_BULLMQ)) {
      logger.warn({ ...log, code: outcome.error.code }, 'job attempt failed; will retry');
    }
    throw new Error(outcome.error.code);
  }

  private async failOutright(id: string, log: Record<string, unknown>, error: JobError): Promise<never> {
    if (await this.parts.store.failUnfinished(id, error)) this.parts.logger.error({ ...log, code: error.code }, 'job failed');
    throw new UnrecoverableError(error.code);
  }
}
