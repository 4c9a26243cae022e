import type { JobHandler, JobTypeOptions } from './types.js';

export interface JobType {
  name: string;
  handler: JobHandler;
  attempts: number;
  backoffMs: number;
}

const DEFAULT_ATTEMPTS = 5;
const DEFAULT_BACKOFF_MS = 1000;
const TYPE_NAME = /^[a-z][a-z0-9_.:-]{0,99}$/i;

/** The job types this process can run, with their retry policy. */
export class JobCatalog {
  private readonly types = new Map<string, JobType>();

  define(name: string, handler: JobHandler, options: JobTypeOptions = {}): void {
    if (!TYPE_NAME.test(name)) throw new TypeError(`job type '${name}' must be 1-100 letters, digits and . _ : -`);
    if (this.types.has(name)) throw new TypeError(`job type '${name}' is defined twice`);
    const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
    const backoffMs = options.backoffMs ?? DEFAULT_BACKOFF_MS;
    if (!Number.isInteger(attempts) || attempts < 1) throw new TypeError(`job type '${name}': attempts must be a positive integer`);
    if (!Number.isFinite(backoffMs) || backoffMs < 0) throw new TypeError(`job type '${name}': backoffMs must be zero or more`);
    this.types.set(name, { name, handler, attempts, backoffMs });
  }

  get(name: string): JobType | undefined {
    return this.types.get(name);
  }

  /** Like get, for a job about to be enqueued: an unknown type would wait forever. */
  require(name: string): JobType {
    const type = this.types.get(name);
    if (!type) throw new TypeError(`job type '${name}' is not defined`);
    return type;
  }

  names(): string[] {
    return [...this.types.keys()];
  }
}

/** Wait before the next attempt after `failures` failed ones: exponential from the type's base. */
export function backoffDelay(type: Pick<JobType, 'backoffMs'>, failures: number): number {
  return type.backoffMs * 2 ** Math.max(0, failures - 1);
}
