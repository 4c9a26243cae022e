import type { JobError } from './types.js';

const MAX_MESSAGE_LENGTH = 500;
/** Codes we pass through: identifiers, never free text. */
const CODE_SHAPE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/** Thrown by `ctx.progress()` once the attempt may no longer write; also recorded under this code. */
export class JobInterruptedError extends Error {
  readonly code = 'job_interrupted';
  constructor(message = 'The attempt was interrupted: the queue is closing or another runner took the job over') {
    super(message);
  }
}

/**
 * Database driver errors carry the SQL (knex prefixes it to the message) and the values that
 * violated a constraint, so none of their text is kept.
 */
function isDatabaseError(err: { code?: unknown; name?: unknown; severity?: unknown; routine?: unknown }): boolean {
  if (typeof err.code === 'string' && err.code.startsWith('SQLITE_')) return true;
  if (typeof err.severity === 'string' && typeof err.routine === 'string') return true; // pg DatabaseError
  return err.name === 'SqliteError' || err.name === 'KnexTimeoutError';
}

/**
 * A handler's failure as it may be stored and shown: `{code, message}` with the error's own
 * string code (else `job_failed`) and its message, trimmed; database errors lose their text.
 */
export function describeFailure(thrown: unknown): JobError {
  const err = (typeof thrown === 'object' && thrown !== null ? thrown : {}) as { code?: unknown; name?: unknown; message?: unknown; severity?: unknown; routine?: unknown };
  if (isDatabaseError(err)) return { code: 'database_error', message: 'A database query failed while running the job' };
  const code = typeof err.code === 'string' && CODE_SHAPE.test(err.code) ? err.code : 'job_failed';
  const text = typeof err.message === 'string' && err.message.trim() ? err.message.trim() : typeof thrown === 'string' ? thrown : 'The job failed';
  const message = text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : text;
  return { code, message };
}
