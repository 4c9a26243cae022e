import type { Knex } from 'knex';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { PLATFORM_ORG_ID, type OperationContext } from '../core/context.js';
import type { DomainEvent, KernelServices, Row, Subscription } from '../core/plugin.js';
import type { RecordCodec } from '../core/schema-generation.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Kernel } from '../kernel/kernel.js';
import { outboxEventDefinition } from './definition.js';
import { insertRows, powerOfTwoSlices, type Statements } from '../db/statements.js';

export type OutboxEvent = DomainEvent;

const TABLE = outboxEventDefinition.table;
const MAX_ATTEMPTS = 10;
const RETENTION_MS = 24 * 3600_000;
const PURGE_EVERY_MS = 3600_000;

/** A domain event of a change, ready to be written to the outbox with it. */
export function newEvent(ctx: OperationContext, def: ResolvedDefinition, record: Row | null, type: string, payload: Row = {}): OutboxEvent {
  return {
    id: uuidv7(),
    type,
    org_id: def.tenant ? ctx.org!.id : PLATFORM_ORG_ID,
    resource: def.name,
    resource_id: (record?.id as string | undefined) ?? null,
    actor: `${ctx.actor.type}:${ctx.actor.id}`,
    payload,
    created_at: new Date().toISOString(),
  };
}

export interface EventBusOptions {
  knex: Knex;
  /** The hot statements (an event's row in its write, the delivered marks) as prepared ones. */
  statements: Statements;
  kernel: Kernel;
  logger: Logger;
  codec: () => RecordCodec;
  services: KernelServices;
  /** How long a dispatcher holds an event before another may take it over. */
  leaseMs: number;
  /** How often undelivered events (a crashed process's, failed deliveries) are looked for. */
  sweepMs: number;
}

/**
 * Writes events to the outbox inside the change's transaction, hands committed ones to in-process
 * subscribers and to the job queue, and marks them delivered. Delivery is at least once: events
 * left undelivered by a crash (or a subscriber that failed) are claimed again once their lease
 * ends, by this process's sweep or by the next one to start.
 */
export class EventBus {
  private readonly instance = uuidv7();
  private readonly inflight = new Set<Promise<void>>();
  private delivered: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private closed = false;
  private lastPurge = 0;

  constructor(private readonly o: EventBusOptions) {}

  /**
   * Writes the events in the change's transaction. The outbox holds what is to be delivered: an
   * event of a type nobody subscribes to (no plugin subscriber, no job) has no delivery to make,
   * so it costs the write nothing; subscribing to `*` (webhooks) makes every event stored.
   */
  async record(trx: Knex.Transaction, events: OutboxEvent[]): Promise<void> {
    const wanted = events.filter((e) => this.o.kernel.isSubscribed(e.type));
    if (!wanted.length) return;
    const until = new Date(Date.now() + this.o.leaseMs).toISOString();
    const codec = this.o.codec();
    const rows = wanted.map((e) => codec.toDb({
      id: e.id, organization_id: e.org_id, type: e.type, resource: e.resource, resource_id: e.resource_id, actor: e.actor, payload: e.payload,
      claimed_until: until, claimed_by: this.instance, attempts: 0,
      delivered_at: null, failed_at: null, last_error: null, created_at: e.created_at, updated_at: e.created_at,
    }));
    await insertRows(this.o.statements, trx, TABLE, rows);
  }

  /** Hands committed events to their subscribers, off the request's path. */
  dispatch(events: OutboxEvent[]): void {
    const wanted = events.filter((e) => this.o.kernel.isSubscribed(e.type));
    if (!wanted.length || this.closed) return;
    this.track(this.deliverAll(wanted));
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private async deliverAll(events: OutboxEvent[], attempts = new Map<string, number>()): Promise<void> {
    for (const event of events) {
      try {
        for (const sub of this.o.kernel.subscribersOf(event.type)) await this.deliver(sub, event);
        this.markDelivered(event.id);
      } catch (err) {
        await this.markFailed(event, attempts.get(event.id) ?? 0, err);
      }
    }
  }

  private async deliver(sub: Subscription, event: OutboxEvent): Promise<void> {
    if (typeof sub === 'function') {
      await sub(event, this.o.services);
      return;
    }
    // The event id makes the job's dedupe key: a redelivered event never enqueues it twice.
    await this.o.services.enqueue(sub.job, { orgId: event.org_id, payload: event, dedupeKey: `event:${event.id}:${sub.job}` });
  }

  private markDelivered(id: string): void {
    this.delivered.push(id);
    if (this.delivered.length >= 200) void this.flushDelivered();
    else if (!this.flushTimer) {
      this.flushTimer = setTimeout(() => void this.flushDelivered(), 50);
      this.flushTimer.unref();
    }
  }

  private async flushDelivered(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const ids = this.delivered;
    this.delivered = [];
    if (!ids.length) return;
    try {
      const now = new Date().toISOString();
      for (const part of powerOfTwoSlices(ids, 256)) {
        await this.o.statements.run(this.o.knex, `update "${TABLE}" set "delivered_at" = ?, "claimed_until" = null, "updated_at" = ? where "id" in (${part.map(() => '?').join(', ')})`, [now, now, ...part]);
      }
    } catch (err) {
      // Not marked means delivered again later: at least once, never lost.
      this.o.logger.warn({ code: (err as { code?: string }).code, events: ids.length }, 'could not mark events delivered');
    }
  }

  private async markFailed(event: OutboxEvent, previousAttempts: number, err: unknown): Promise<void> {
    const attempts = previousAttempts + 1;
    const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'subscriber_failed';
    this.o.logger.warn({ event_id: event.id, type: event.type, attempts, code }, 'event delivery failed');
    const now = Date.now();
    const retryAt = new Date(now + Math.min(this.o.leaseMs * 2 ** (attempts - 1), 3600_000)).toISOString();
    try {
      await this.o.knex(TABLE).where({ id: event.id }).update({
        attempts, last_error: code.slice(0, 100), claimed_until: retryAt, updated_at: new Date(now).toISOString(),
        ...(attempts >= MAX_ATTEMPTS ? { failed_at: new Date(now).toISOString(), claimed_until: null } : {}),
      });
    } catch {
      // The lease still ends: the event is retried then.
    }
  }

  /** Claims undelivered events whose lease ended and delivers them. */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweepOnce(): Promise<void> {
    const { knex, leaseMs } = this.o;
    const now = new Date().toISOString();
    if (Date.now() - this.lastPurge > PURGE_EVERY_MS) {
      // Delivered events are kept a day (to look into a delivery), then dropped.
      this.lastPurge = Date.now();
      await knex(TABLE).whereNotNull('delivered_at').where('delivered_at', '<', new Date(Date.now() - RETENTION_MS).toISOString()).delete();
    }
    const until = new Date(Date.now() + leaseMs).toISOString();
    const due = knex(TABLE).select('id').whereNull('delivered_at').whereNull('failed_at').where('claimed_until', '<', now).orderBy('created_at').limit(100);
    const claimed = await knex(TABLE).whereIn('id', due).where('claimed_until', '<', now).update({ claimed_until: until, claimed_by: this.instance, updated_at: now });
    if (!claimed) return;
    const codec = this.o.codec();
    const rows = (await knex(TABLE).where({ claimed_by: this.instance, claimed_until: until }).whereNull('delivered_at').orderBy('created_at')).map((r: Row) => codec.fromDb(r));
    const events = rows.map((r: Row) => ({
      id: r.id as string, type: r.type as string, org_id: r.organization_id as string, resource: r.resource as string,
      resource_id: (r.resource_id as string | null) ?? null, actor: r.actor as string, payload: (r.payload as Row) ?? {}, created_at: r.created_at as string,
    }));
    await this.deliverAll(events, new Map(rows.map((r: Row) => [r.id as string, r.attempts as number])));
  }

  /** Sweeps once now (what a crash left), then every sweepMs. */
  start(): void {
    this.track(this.sweep().catch((err) => this.o.logger.warn({ code: (err as { code?: string }).code }, 'outbox sweep failed')));
    this.sweepTimer = setInterval(() => {
      void this.sweep().catch((err) => this.o.logger.warn({ code: (err as { code?: string }).code }, 'outbox sweep failed'));
    }, this.o.sweepMs);
    this.sweepTimer.unref();
  }

  /** Resolves once every dispatch under way has finished and its marks are written. */
  async idle(): Promise<void> {
    while (this.inflight.size || this.sweeping) {
      await Promise.allSettled([...this.inflight, this.sweeping]);
    }
    await this.flushDelivered();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    await this.idle();
  }
}
