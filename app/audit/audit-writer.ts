import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import type { Logger } from 'pino';
import { loggableError } from '../core/loggable-error.js';
import type { ResolvedDefinition } from '../core/types.js';
import { PLATFORM_ORG_ID, type OperationContext } from '../core/context.js';
import type { RecordCodec } from '../core/schema-generation.js';
import { insertRows, type Statements } from '../db/statements.js';

export type AuditAction = 'create' | 'update' | 'archive' | 'restore' | 'read' | 'list' | string;

type Change = { before: unknown; after: unknown };

const REDACTED = '[redacted]';

/** Whether two API values are the same (objects and arrays by their JSON). */
export function sameValue(a: unknown, b: unknown): boolean {
  const x = a ?? null;
  const y = b ?? null;
  if (x === y) return true;
  return typeof x === 'object' && typeof y === 'object' && x !== null && y !== null && JSON.stringify(x) === JSON.stringify(y);
}

const diffNames = new WeakMap<ResolvedDefinition, string[]>();

/** Field-level before/after of a change; sensitive values are redacted (their change is still shown). */
export function diffRecords(def: ResolvedDefinition, before: Record<string, unknown> | null, after: Record<string, unknown> | null): Record<string, Change> {
  const changes: Record<string, Change> = {};
  let names = diffNames.get(def);
  if (!names) diffNames.set(def, (names = [...Object.keys(def.fields), 'deleted_at']));
  for (const name of names) {
    const b = before?.[name] ?? null;
    const a = after?.[name] ?? null;
    if (sameValue(b, a)) continue;
    changes[name] = def.fields[name]?.sensitive
      ? { before: b === null ? null : REDACTED, after: a === null ? null : REDACTED }
      : { before: b, after: a };
  }
  return changes;
}

interface AuditRow {
  id: string;
  org_id: string;
  actor_type: string;
  actor_id: string;
  actor_label: string;
  action: string;
  resource: string;
  resource_id: string | null;
  changes: unknown;
  metadata: unknown;
  request_id: string | null;
  ip: string | null;
  created_at: string;
}

/**
 * Writes audit events. Changes are written in the caller's transaction, so a write and its audit
 * row commit together. Reads are buffered and flushed in batches (at most `flushMs` of read
 * events can be lost if the process dies).
 */
export class AuditWriter {
  private buffer: AuditRow[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly knex: Knex,
    private readonly statements: Statements,
    /** The audit table, from its definition. */
    private readonly table: string,
    /** The audit table's codec in the current schema generation. */
    private readonly codec: () => RecordCodec,
    private readonly flushMs: number,
    private readonly logger: Logger,
    /** Called after buffered events are written (cached audit lists must not outlive them). */
    private readonly onFlushed: () => Promise<void> = async () => {},
  ) {}

  private row(ctx: OperationContext, def: ResolvedDefinition, action: AuditAction, resourceId: string | null, changes: unknown, metadata: unknown): AuditRow {
    return {
      id: uuidv7(),
      org_id: def.tenant ? ctx.org!.id : PLATFORM_ORG_ID,
      actor_type: ctx.actor.type,
      actor_id: ctx.actor.id,
      actor_label: ctx.actor.label,
      action,
      resource: def.name,
      resource_id: resourceId,
      changes: changes ?? null,
      metadata: metadata ?? null,
      request_id: ctx.requestId ?? null,
      ip: ctx.ip ?? null,
      created_at: new Date().toISOString(),
    };
  }

  /** Records a change inside the write's own transaction. */
  async write(trx: Knex.Transaction, ctx: OperationContext, def: ResolvedDefinition, action: AuditAction, resourceId: string, changes: Record<string, Change> | null, metadata?: unknown): Promise<void> {
    if (!def.audited) return;
    await this.insert(trx, [this.row(ctx, def, action, resourceId, changes, metadata)]);
  }

  private async insert(conn: Knex, rows: AuditRow[]): Promise<void> {
    const codec = this.codec();
    await insertRows(this.statements, conn, this.table, rows.map((r) => codec.toDb(r as any)));
  }

  /** Records many changes at once (bulk writes), still inside the transaction. */
  async writeMany(trx: Knex.Transaction, ctx: OperationContext, def: ResolvedDefinition, action: AuditAction, items: { id: string; changes: Record<string, Change> | null }[]): Promise<void> {
    if (!def.audited || !items.length) return;
    await this.insert(trx, items.map((i) => this.row(ctx, def, action, i.id, i.changes, null)));
  }

  /** Buffers a read event (who viewed which record). */
  read(ctx: OperationContext, def: ResolvedDefinition, action: 'read' | 'list', resourceId: string | null, metadata?: unknown): void {
    this.buffer.push(this.row(ctx, def, action, resourceId, null, metadata));
    if (this.buffer.length >= 500) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref();
    }
  }

  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.flushing) await this.flushing;
    const rows = this.buffer;
    this.buffer = [];
    if (!rows.length) return;
    this.flushing = (async () => {
      try {
        await this.insert(this.knex, rows);
        await this.onFlushed();
      } catch (err) {
        this.logger.error({ err: loggableError(err), lost: rows.length }, 'could not write read-audit events');
      } finally {
        this.flushing = undefined;
      }
    })();
    await this.flushing;
  }
}
