import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import knexPkg from 'knex';
import { pino, type Logger } from 'pino';
import { resolveDefinition } from '../../app/core/define.js';
import type { Config } from '../../app/core/config.js';
import { openDatabase, type Database } from '../../app/db/connection.js';
import { syncSchema } from '../../app/db/schema-sync.js';
import { createJobQueue, jobDefinition, type JobQueue, type JobQueueDeps } from '../../app/jobs/index.js';

const { knex } = knexPkg;

export const ORG_A = '0190a0a0-0000-7000-8000-00000000000a';
export const ORG_B = '0190a0a0-0000-7000-8000-00000000000b';
export const REDIS_URL = process.env.REDIS_URL || undefined;

export interface TestDatabase {
  db: Database;
  /** How a second process opens the same database. */
  config: Config['database'];
  close(): Promise<void>;
}

/**
 * The jobs table in a database of its own: a temporary SQLite file, or a fresh PostgreSQL schema
 * when DATABASE_URL points at PostgreSQL.
 */
export async function openJobsDatabase(): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL;
  let config: Config['database'];
  let removeStorage: () => Promise<void>;
  if (url && /^postgres(ql)?:\/\//.test(url)) {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const admin = knex({ client: 'pg', connection: url });
    await admin.raw(`create schema "${schema}"`);
    await admin.destroy();
    config = { kind: 'postgres', url, schema };
    removeStorage = async () => {
      const k = knex({ client: 'pg', connection: url });
      await k.raw(`drop schema "${schema}" cascade`);
      await k.destroy();
    };
  } else {
    const dir = mkdtempSync(path.join(tmpdir(), 'emr-jobs-'));
    config = { kind: 'sqlite', file: path.join(dir, 'jobs.sqlite'), driver: 'better-sqlite3' };
    removeStorage = async () => rmSync(dir, { recursive: true, force: true });
  }
  const db = openDatabase(config);
  await syncSchema(db, [resolveDefinition(jobDefinition)]);
  return {
    db,
    config,
    async close() {
      await db.close();
      await removeStorage();
    },
  };
}

export const quietLogger = (): Logger => pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** A logger whose lines are kept, to check what reaches the logs. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: pino({ level: 'debug' }, { write: (line: string) => { lines.push(line); } }), lines };
}

export function testRedisPrefix(): string {
  return `emr-test:${randomBytes(6).toString('hex')}:`;
}

/** True when Redis answers a PING within a second; never leaves a connection behind. */
export async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns something other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(15);
  }
}

/** A promise with its resolver, to hold a handler at a point the test chooses. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => { open = resolve; });
  return { promise, open };
}

/** Queues made by a test, all closed afterwards (even when the test failed half-way). */
export class QueueFactory {
  private readonly queues: JobQueue[] = [];

  constructor(private readonly base: () => JobQueueDeps) {}

  make(overrides: Partial<JobQueueDeps> = {}): JobQueue {
    const queue = createJobQueue({ ...this.base(), ...overrides });
    this.queues.push(queue);
    return queue;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.queues.splice(0).map((q) => q.close()));
  }
}
