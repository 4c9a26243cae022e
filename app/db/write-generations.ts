import type { Redis } from 'ioredis';
import type { Database } from './connection.js';

/**
 * A per-table number that changes whenever the table's rows change; cached counts are kept per
 * generation, so a total is never served from before a write it should include.
 *
 * - SQLite: this process's own counter plus `PRAGMA data_version`, which changes when another
 *   connection (another process, the CLI) commits to the file.
 * - Redis: a shared counter, so several server processes see each other's writes.
 * - PostgreSQL without Redis: no shared generation exists, so counts are not cached.
 */
export interface WriteGenerations {
  /** The current generation, or null when counts must not be cached. */
  current(table: string): Promise<string | null>;
  /** Called after a write commits. */
  bump(table: string): Promise<void>;
}

export function makeWriteGenerations(db: Database, redis: Redis | undefined, prefix: string): WriteGenerations {
  if (redis) {
    return {
      async current(table) {
        return (await redis.get(`${prefix}gen:${table}`)) ?? '0';
      },
      async bump(table) {
        await redis.incr(`${prefix}gen:${table}`);
      },
    };
  }
  if (db.dialect === 'sqlite') {
    const local = new Map<string, number>();
    return {
      async current(table) {
        const rows = await db.knex.raw('pragma data_version');
        const external = rows[0]?.data_version ?? 0;
        return `${local.get(table) ?? 0}:${external}`;
      },
      async bump(table) {
        local.set(table, (local.get(table) ?? 0) + 1);
      },
    };
  }
  return { current: async () => null, bump: async () => {} };
}

/**
 * Query results (exact totals, pages of rows) cached per (query, write generation): any committed
 * write to the table changes the generation, so an entry is never served after a write it should
 * reflect. Bounded in size, oldest entry evicted first.
 */
export class ResultCache<T> {
  private readonly entries = new Map<string, T>();
  constructor(private readonly max: number) {}

  get(key: string): T | undefined {
    return this.entries.get(key);
  }

  set(key: string, value: T): void {
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, value);
  }

  /** The cached value for the query under this generation, computing it once if missing. */
  async through(generation: string | null, query: { toSQL(): { sql: string; bindings: readonly unknown[] } }, compute: () => Promise<T>): Promise<T> {
    if (generation === null) return compute();
    const { sql, bindings } = query.toSQL();
    const key = `${generation}|${sql}|${JSON.stringify(bindings)}`;
    const hit = this.entries.get(key);
    if (hit !== undefined) return hit;
    const value = await compute();
    this.set(key, value);
    return value;
  }
}
