// The PostgreSQL and Redis servers of the PostgreSQL arm: a database of the benchmark's own,
// dropped at the end, and Redis keys under a prefix of its own, deleted at the end.
import { Redis } from 'ioredis';
import pg from 'pg';
import { commOf } from './proc.js';
import { atCleanup, log } from './processes.js';
import { redact } from './settings.js';

/**
 * Creates `emr_bench_<pid>` on the server of `baseUrl` (through its `postgres` maintenance
 * database) and returns its URL; the database is dropped at cleanup.
 */
export async function createBenchDatabase(baseUrl: string): Promise<string> {
  const name = `emr_bench_${process.pid}`;
  const admin = new URL(baseUrl);
  admin.pathname = '/postgres';
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin.toString() });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`drop database if exists "${name}"`);
  await run(`create database "${name}"`);
  atCleanup(`drop database ${name}`, () => run(`drop database if exists "${name}" with (force)`));
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  log(`PostgreSQL database ${name} on ${redact(baseUrl)}`);
  return url.toString();
}

/** A key prefix of this run's own; every key under it is deleted at cleanup. */
export function benchRedisPrefix(redisUrl: string): string {
  const prefix = `emr-bench-${process.pid}:`;
  atCleanup(`delete Redis keys ${prefix}*`, async () => {
    const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        if (keys.length) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  });
  return prefix;
}

/** The Redis server's process id when it runs on this machine (its CPU is then counted as ours). */
export async function localRedisPid(redisUrl: string): Promise<number | undefined> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const info = await redis.info('server');
    const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
    return pid && commOf(pid)?.startsWith('redis') ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    redis.disconnect();
  }
}
