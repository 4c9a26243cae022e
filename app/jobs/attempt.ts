import type { Logger } from 'pino';
import { describeFailure, JobInterruptedError } from './errors.js';
import type { JobContext, JobError, JobHandler, JobRecord } from './types.js';

export type AttemptOutcome = { ok: true; result: unknown } | { ok: false; error: JobError };

/** Stores progress for the running attempt; false when the attempt may no longer write. */
export type ProgressWriter = (percent: number, checkpoint: unknown) => Promise<boolean>;

/**
 * Runs one attempt of a job: hands the handler its context and turns whatever it throws into a
 * storable `{code, message}`. Logs name the job and the error code only: messages and payloads
 * may carry patient data.
 */
export async function runAttempt(job: JobRecord, handler: JobHandler, logger: Logger, writeProgress: ProgressWriter): Promise<AttemptOutcome> {
  const jobLogger = logger.child({ jobId: job.id, type: job.type });
  const ctx: JobContext = {
    job,
    checkpoint: job.checkpoint,
    logger: jobLogger,
    async progress(percent, checkpoint) {
      if (typeof percent !== 'number' || !Number.isFinite(percent)) throw new TypeError('progress must be a number from 0 to 100');
      const bounded = Math.min(100, Math.max(0, Math.round(percent)));
      if (!(await writeProgress(bounded, checkpoint))) throw new JobInterruptedError();
    },
  };
  try {
    // Through a promise so that a handler throwing synchronously fails the attempt the same way.
    const result = await Promise.resolve().then(() => handler(ctx));
    return { ok: true, result: result ?? null };
  } catch (err) {
    return { ok: false, error: describeFailure(err) };
  }
}
