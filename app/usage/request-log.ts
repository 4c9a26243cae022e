import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { loggableError } from '../core/loggable-error.js';
import { insertRows, powerOfTwoSlices, type Row, type Statements } from '../db/statements.js';
import { requestLogDefinition, requestUsageDayDefinition } from './definitions.js';

/** One API call as the log keeps it: no body, no query string, no concrete path. */
export interface RequestLogEntry {
  /** Start of the call, ms since the epoch. */
  at: number;
  method: string;
  /** The route template that answered (`/api/v1/:org/patients/:id`), or `unmatched`. */
  route: string;
  status: number;
  durationMs: number;
  orgId: string;
  partnerId: string | null;
  keyId: string | null;
  ip: string | null;
}

export interface RequestLogOptions {
  enabled: boolean;
  /** Longest a call waits in memory before its batch is written. */
  flushMs: number;
  /** Calls per write (and the buffer length that starts one at once). */
  batchSize: number;
  /** Calls held at most; beyond, new calls are dropped and counted (the database is behind or down). */
  maxBuffer: number;
  /** Days raw calls are kept (roll-ups are kept); 0 keeps them. */
  retentionDays: number;
}

const LOG = requestLogDefinition.table;
const DAYS = requestUsageDayDefinition.table;
const DAY_COLUMNS = ['id', 'org_id', 'day', 'key_id', 'status_class', 'calls', 'duration_ms_sum', 'last_at', 'created_at', 'updated_at'];
const DAY_TUPLE = `(${DAY_COLUMNS.map(() => '?').join(', ')})`;
const upsertTexts = new Map<number, string>();
/** The roll-up upsert for `n` rows: counters grow by the batch's, last_at keeps the later time. */
function upsertText(n: number): string {
  let sql = upsertTexts.get(n);
  if (!sql) {
    const t = `"${DAYS}"`;
    sql = `insert into ${t} (${DAY_COLUMNS.map((c) => `"${c}"`).join(', ')}) values ${Array.from({ length: n }, () => DAY_TUPLE).join(', ')} ` +
      `on conflict ("org_id", "day", "key_id", "status_class") do update set "calls" = ${t}."calls" + excluded."calls", ` +
      `"duration_ms_sum" = ${t}."duration_ms_sum" + excluded."duration_ms_sum", ` +
      `"last_at" = case when excluded."last_at" > ${t}."last_at" then excluded."last_at" else ${t}."last_at" end, "updated_at" = excluded."updated_at"`;
    upsertTexts.set(n, sql);
  }
  return sql;
}

interface DayCounter { orgId: string; day: string; keyId: string; statusClass: number; calls: number; durationMs: number; lastAt: number }

/** A batch's calls summed per organization, UTC day, key and status class, in a stable order. */
export function dailyCounters(entries: readonly RequestLogEntry[]): DayCounter[] {
  const byKey = new Map<string, DayCounter>();
  for (const e of entries) {
    const day = new Date(e.at).toISOString().slice(0, 10);
    const keyId = e.keyId ?? '';
    const statusClass = Math.floor(e.status / 100);
    const k = `${e.orgId}|${day}|${keyId}|${statusClass}`;
    const c = byKey.get(k);
    if (c) {
      c.calls++;
      c.durationMs += e.durationMs;
      if (e.at > c.lastAt) c.lastAt = e.at;
    } else byKey.set(k, { orgId: e.orgId, day, keyId, statusClass, calls: 1, durationMs: e.durationMs, lastAt: e.at });
  }
  // One order in every process: concurrent upserts lock rows in the same order, never in a cycle.
  return [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => c);
}

/**
 * The API's request log. Recording a call only pushes it onto an array: batches are written off
 * the request path (multi-row inserts plus the day roll-ups, in one transaction) every `flushMs`
 * or as soon as a batch is full. It never blocks or fails a request: when the database cannot
 * keep up or is down, the buffer stops at `maxBuffer` and further calls (and a batch that failed
 * to write) are dropped and counted. close() writes everything still held.
 */
export class RequestLog {
  /** Calls dropped (buffer full, a failed write, or after close). */
  dropped = 0;
  written = 0;
  private buffer: RequestLogEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private retention: NodeJS.Timeout | undefined;
  private closed = false;
  private lastFailureLogged = 0;

  constructor(
    private readonly knex: Knex,
    private readonly statements: Statements,
    readonly options: RequestLogOptions,
    private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return this.options.enabled;
  }

  /** Calls held in memory, not yet written. */
  get pending(): number {
    return this.buffer.length;
  }

  record(entry: RequestLogEntry): void {
    if (!this.options.enabled) return;
    if (this.closed || this.buffer.length >= this.options.maxBuffer) {
      this.dropped++;
      return;
    }
    // Microseconds are plenty; the row and its roll-up then sum the very same numbers.
    entry.durationMs = Math.round(entry.durationMs * 1000) / 1000;
    this.buffer.push(entry);
    if (this.buffer.length >= this.options.batchSize) {
      if (!this.flushing) void this.flush();
    } else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushMs);
      this.timer.unref();
    }
  }

  /** Writes every call held now, a batch at a time; resolves once they are written (or dropped). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.flushing) await this.flushing;
    if (!this.buffer.length) return;
    this.flushing = this.drain().finally(() => {
      this.flushing = undefined;
    });
    await this.flushing;
    // Calls that came in while the last batch was written wait for the timer, not for a loop here.
    if (this.buffer.length && !this.timer && !this.closed) {
      this.timer = setTimeout(() => void this.flush(), this.options.flushMs);
      this.timer.unref();
    }
  }

  private async drain(): Promise<void> {
    const held = this.buffer;
    this.buffer = [];
    for (let i = 0; i < held.length; i += this.options.batchSize) {
      const batch = held.slice(i, i + this.options.batchSize);
      try {
        await this.write(batch);
        this.written += batch.length;
      } catch (err) {
        this.dropped += batch.length;
        // A database that is down fails every batch: one line a minute says so.
        const now = Date.now();
        if (now - this.lastFailureLogged > 60_000) {
          this.lastFailureLogged = now;
          this.logger.error({ err: loggableError(err), lost: batch.length, dropped: this.dropped }, 'could not write the request log');
        }
      }
    }
  }

  /** One batch: its rows and its roll-up counters, committed together. */
  private async write(batch: readonly RequestLogEntry[]): Promise<void> {
    // The ids' random bits drawn for the whole batch at once: uuid's v7 draws them per call, which
    // costs twenty times more than the rest of the id and was most of the log's CPU per request.
    const random = randomBytes(16 * batch.length);
    const rows: Row[] = batch.map((e, i) => ({
      id: uuidv7({ msecs: e.at, random: random.subarray(i * 16, i * 16 + 16) }), org_id: e.orgId, method: e.method, route: e.route, status: e.status,
      duration_ms: e.durationMs, partner_id: e.partnerId, key_id: e.keyId, ip: e.ip,
      created_at: new Date(e.at).toISOString(),
    }));
    const now = new Date().toISOString();
    await this.knex.transaction(async (trx) => {
      await insertRows(this.statements, trx, LOG, rows);
      // Power-of-two statement sizes: a handful of texts to prepare, whatever the batch holds.
      for (const part of powerOfTwoSlices(dailyCounters(batch), 256)) {
        const params: unknown[] = [];
        for (const c of part) params.push(uuidv7(), c.orgId, c.day, c.keyId, c.statusClass, c.calls, c.durationMs, new Date(c.lastAt).toISOString(), now, now);
        await this.statements.run(trx, upsertText(part.length), params);
      }
    });
  }

  /**
   * Deletes raw calls older than the retention (roll-ups stay), in slices so that no statement
   * holds the table long. Returns how many went.
   */
  async purge(now = Date.now()): Promise<number> {
    if (this.options.retentionDays <= 0) return 0;
    const cutoff = new Date(now - this.options.retentionDays * 86_400_000).toISOString();
    const SLICE = 5000;
    let total = 0;
    for (;;) {
      const n = await this.statements.run(this.knex, `delete from "${LOG}" where "id" in (select "id" from "${LOG}" where "created_at" < ? order by "created_at" limit ${SLICE})`, [cutoff]);
      total += n;
      if (n < SLICE) return total;
    }
  }

  /** Runs the retention delete now and then every `everyMs` (server processes). */
  startRetention(everyMs = 3_600_000): void {
    if (!this.options.enabled || this.options.retentionDays <= 0 || this.retention) return;
    const run = () => void this.purge().then(
      (n) => n && this.logger.info({ deleted: n }, 'request log retention'),
      (err) => this.logger.warn({ err: loggableError(err) }, 'request log retention failed'),
    );
    this.retention = setInterval(run, everyMs);
    this.retention.unref();
    setImmediate(run);
  }

  /** Stops the timers and writes what is held; later calls are dropped. */
  async close(): Promise<void> {
    if (this.retention) clearInterval(this.retention);
    this.retention = undefined;
    this.closed = true;
    await this.flush();
  }
}
