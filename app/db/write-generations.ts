import type { Redis } from 'ioredis';
import type { Database } from './connection.js';

/**
 * A per-table value that changes whenever the table's rows change; cached counts and pages are
 * kept per generation, so a result is never served from before a write it should include.
 *
 * - With Redis: a shared counter, so several server processes see each other's writes.
 * - Otherwise: this process's own counter plus the database's commit signal (SQLite's
 *   data_version; PostgreSQL's NOTIFY), so writes of other processes and the CLI count too.
 *   While the signal is unknown (PostgreSQL's listener is down) nothing is cached.
 */
export interface WriteGenerations {
  /** The current generation, or null when results must not be cached. */
  current(table: string): Promise<string | null>;
  /** Called after a write commits, with every table it changed (one round trip for all). */
  bump(...tables: string[]): Promise<void>;
}

export function makeWriteGenerations(db: Database, redis: Redis | undefined, prefix: string): WriteGenerations {
  if (redis) {
    return {
      async current(table) {
        return (await redis.get(`${prefix}gen:${table}`)) ?? '0';
      },
      async bump(...tables) {
        if (tables.length === 1) await redis.incr(`${prefix}gen:${tables[0]}`);
        else await tables.reduce((p, table) => p.incr(`${prefix}gen:${table}`), redis.pipeline()).exec();
      },
    };
  }
  const local = new Map<string, number>();
  return {
    async current(table) {
      const external = await db.commits.version(table);
      return external === null ? null : `${local.get(table) ?? 0}:${external}`;
    },
    async bump(...tables) {
      for (const table of tables) local.set(table, (local.get(table) ?? 0) + 1);
      await db.commits.announce(tables);
    },
  };
}

/**
 * Query results (exact totals, pages of rows) cached per table and write generation: any
 * committed write to the table changes the generation, so an entry is never served after a write
 * it should reflect, and the table's older entries are dropped at once. At most `max` entries
 * are kept in all; the oldest go first.
 */
export class ResultCache<T> {
  private readonly tables = new Map<string, { generation: string; entries: Map<string, T>; pending: Map<string, Promise<T>> }>();
  private size = 0;
  constructor(private readonly max: number) {}

  /**
   * The cached value for the query under this generation, computing it once if missing. `key`
   * names the query completely: everything its SQL and bindings are built from. Requests that
   * miss while the same value is being computed wait for that computation instead of running
   * the query again (after a write, every connection would otherwise recount at once).
   */
  async through(table: string, generation: string | null, key: string, compute: () => Promise<T>): Promise<T> {
    if (generation === null) return compute();
    let slot = this.tables.get(table);
    if (!slot || slot.generation !== generation) {
      if (slot) this.size -= slot.entries.size;
      slot = { generation, entries: new Map(), pending: new Map() };
      this.tables.set(table, slot);
    }
    const hit = slot.entries.get(key);
    if (hit !== undefined) return hit;
    const running = slot.pending.get(key);
    if (running) return running;
    const computing = compute();
    slot.pending.set(key, computing);
    try {
      const value = await computing;
      if (this.tables.get(table) !== slot) return value; // a newer generation arrived meanwhile
      if (this.size >= this.max) this.evictOne();
      slot.entries.set(key, value);
      this.size++;
      return value;
    } finally {
      slot.pending.delete(key);
    }
  }

  private evictOne(): void {
    for (const slot of this.tables.values()) {
      const oldest = slot.entries.keys().next();
      if (!oldest.done) {
        slot.entries.delete(oldest.value);
        this.size--;
        return;
      }
    }
  }
}
