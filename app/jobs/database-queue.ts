import { runAttempt } from './attempt.js';
import { backoffDelay, type JobType } from './catalog.js';
import { afterTransaction } from './after-transaction.js';
import { insertJob } from './enqueue.js';
import { errorCode, settledWithin, type QueueParts } from './queue-parts.js';
import { isoIn, isoNow } from './store.js';
import type { EnqueueInput, JobHandler, JobQueue, JobRecord, JobTypeOptions } from './types.js';

interface ActiveAttempt {
  done: Promise<void>;
  renewal: NodeJS.Timeout;
  /** The lease renewal under way, awaited before the attempt counts as done. */
  renewing?: Promise<void>;
  /** Set when close() stopped waiting: the attempt writes nothing more and its lease runs out. */
  abandoned: boolean;
}

/**
 * Runs jobs in this process from the jobs table alone (no Redis). Each attempt holds a lease
 * (`locked_until`) that it renews while the handler runs; a job whose lease ran out belongs to a
 * runner that died and is put back in the queue, with its checkpoint, by whichever runner sees
 * it first. Several processes may share one database: claims are compare-and-set updates.
 */
export class DatabaseJobQueue implements JobQueue {
  readonly kind = 'database' as const;
  private readonly active = new Map<string, ActiveAttempt>();
  private state: 'new' | 'running' | 'closed' = 'new';
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private pollAgain = false;
  private closing?: Promise<void>;

  constructor(private readonly parts: QueueParts) {}

  define(type: string, handler: JobHandler, options?: JobTypeOptions): void {
    this.parts.catalog.define(type, handler, options);
  }

  async enqueue(type: string, input: EnqueueInput): Promise<JobRecord> {
    const { record } = await insertJob(this.parts.store, this.parts.catalog, type, input);
    afterTransaction(input.trx, () => this.wake());
    return record;
  }

  get(id: string): Promise<JobRecord | null> {
    return this.parts.store.get(id);
  }

  async start(): Promise<void> {
    if (this.state !== 'new') return;
    await this.recoverExpired();
    if (this.state !== 'new') return; // closed meanwhile
    this.state = 'running';
    this.wake();
  }

  close(): Promise<void> {
    this.closing ??= this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    this.state = 'closed';
    clearTimeout(this.timer);
    await this.polling;
    const attempts = [...this.active.values()];
    if (await settledWithin(attempts.map((a) => a.done), this.parts.shutdownMs)) return;
    for (const [id, attempt] of this.active) {
      attempt.abandoned = true;
      clearInterval(attempt.renewal);
      this.parts.logger.warn({ jobId: id }, 'job still running at shutdown: left to resume once its lease runs out');
    }
    this.active.clear();
  }

  /** Polls now, or right after the poll under way. */
  private wake(): void {
    if (this.state !== 'running') return;
    if (this.polling) {
      this.pollAgain = true;
      return;
    }
    clearTimeout(this.timer);
    this.polling = this.poll().finally(() => {
      this.polling = undefined;
      if (this.state !== 'running') return;
      if (this.pollAgain) {
        this.pollAgain = false;
        this.wake();
      } else {
        this.timer = setTimeout(() => this.wake(), this.parts.pollMs).unref();
      }
    });
  }

  /** One cheap indexed read when idle; claims due jobs while there are free slots. */
  private async poll(): Promise<void> {
    const free = this.parts.concurrency - this.active.size;
    if (free <= 0) return; // a finishing attempt wakes the runner
    // Room for claims lost to other runners without waiting for the next poll.
    const limit = free * 4;
    try {
      const due = await this.parts.store.findDue(this.parts.catalog.names(), isoNow(), limit);
      if (due.some((job) => job.status === 'running')) {
        await this.recoverExpired();
        this.pollAgain = true;
      }
      for (const { id, status } of due) {
        if (this.state !== 'running' || this.active.size >= this.parts.concurrency) break;
        if (status !== 'queued') continue;
        const job = await this.parts.store.claim(id, this.parts.runnerId, isoIn(this.parts.leaseMs));
        if (job) this.launch(job);
      }
      if (due.length === limit && this.active.size < this.parts.concurrency) this.pollAgain = true;
    } catch (err) {
      this.parts.logger.warn({ code: errorCode(err) }, 'job poll failed');
    }
  }

  private async recoverExpired(): Promise<void> {
    const { requeued, failed } = await this.parts.store.recoverExpired(isoNow());
    if (requeued + failed > 0) this.parts.logger.warn({ requeued, failed }, 'recovered jobs whose runner stopped');
  }

  private launch(job: JobRecord): void {
    const type = this.parts.catalog.get(job.type)!; // claims are limited to defined types
    const attempt: ActiveAttempt = {
      abandoned: false,
      renewal: setInterval(() => { attempt.renewing = this.renewLease(job.id, attempt); }, this.parts.leaseMs / 3).unref(),
      done: Promise.resolve(),
    };
    this.active.set(job.id, attempt);
    attempt.done = this.runClaimed(job, type, attempt).finally(async () => {
      clearInterval(attempt.renewal);
      await attempt.renewing;
      if (this.active.get(job.id) === attempt) this.active.delete(job.id);
      this.wake();
    });
  }

  private async runClaimed(job: JobRecord, type: JobType, attempt: ActiveAttempt): Promise<void> {
    const { store, runnerId, logger, leaseMs } = this.parts;
    const outcome = await runAttempt(job, type.handler, logger, async (percent, checkpoint) =>
      !attempt.abandoned && store.saveProgress(job.id, runnerId, percent, checkpoint, isoIn(leaseMs)));
    if (attempt.abandoned) return;
    const log = { jobId: job.id, type: job.type, attempt: job.attempts };
    try {
      let saved: boolean;
      if (outcome.ok) {
        saved = await store.complete(job.id, runnerId, outcome.result);
        if (saved) logger.info(log, 'job completed');
      } else if (job.attempts < job.max_attempts) {
        saved = await store.retryLater(job.id, runnerId, outcome.error, isoIn(backoffDelay(type, job.attempts)));
        if (saved) logger.warn({ ...log, code: outcome.error.code }, 'job attempt failed; will retry');
      } else {
        saved = await store.fail(job.id, runnerId, outcome.error);
        if (saved) logger.error({ ...log, code: outcome.error.code }, 'job failed');
      }
      if (!saved) logger.warn(log, 'job lease lost: another runner took the job over; this attempt is discarded');
    } catch (err) {
      // The lease runs out and the job is retried from its checkpoint.
      logger.error({ ...log, code: errorCode(err) }, 'could not record the job attempt');
    }
  }

  private async renewLease(id: string, attempt: ActiveAttempt): Promise<void> {
    if (attempt.abandoned) return;
    try {
      if (!(await this.parts.store.renewLease(id, this.parts.runnerId, isoIn(this.parts.leaseMs)))) {
        this.parts.logger.warn({ jobId: id }, 'job lease lost while running');
      }
    } catch (err) {
      this.parts.logger.warn({ jobId: id, code: errorCode(err) }, 'could not renew the job lease');
    }
  }
}
