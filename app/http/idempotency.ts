import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Context, Next } from 'koa';
import { v7 as uuidv7 } from 'uuid';
import { AppError, validationError } from '../core/errors.js';
import { idempotencyKeysDefinition } from '../core/system-definitions.js';
import { isUniqueViolation } from '../db/errors.js';
import type { Principal } from '../auth/api-keys.js';
import type { Runtime } from '../runtime.js';

const RETENTION_MS = 24 * 3600 * 1000;
const TABLE = idempotencyKeysDefinition.table;

/** JSON with object keys sorted at every level: the same body hashes the same in any key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const parseStored = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

/** What a route does with the reservation: complete it inside the write's own transaction. */
export interface IdempotencyReservation {
  complete(trx: Knex.Transaction, status: number, body: unknown, headers: Record<string, string>): Promise<void>;
}

/**
 * `Idempotency-Key` on POST. The key is reserved before the request runs (a unique row per caller
 * and key), so two concurrent requests with one key cannot both write. The response is stored in
 * the same transaction as the write it answers, so a write that committed can always be replayed
 * (for 24 hours), even if the process died before answering; the same key with another body is a
 * 409. A request that fails releases its key so that a corrected retry can use it.
 */
export function idempotencyMiddleware(rt: Runtime) {
  const table = () => rt.db.knex(TABLE);
  let lastPurge = 0;
  return async (ctx: Context, next: Next) => {
    const key = ctx.get('Idempotency-Key');
    if (!key || ctx.method !== 'POST') return next();
    if (key.length > 255) throw validationError([{ path: '/headers/idempotency-key', message: 'must be at most 255 characters' }]);
    const owner = (ctx.state.principal as Principal).keyId;
    const requestHash = createHash('sha256').update(`${ctx.method} ${ctx.path}\n${canonicalJson((ctx.request as any).body ?? null)}`).digest('hex');
    const now = Date.now();
    if (now - lastPurge > 60_000) {
      lastPurge = now;
      await table().whereNotNull('status').where('expires_at', '<', new Date(now).toISOString()).delete();
    }

    const existing = await table().where({ owner, key }).first();
    if (existing) {
      if (existing.request_hash !== requestHash) {
        throw new AppError('idempotency_conflict', 'This Idempotency-Key was already used with a different request', [{ path: '/headers/idempotency-key', message: 'was used for another request body or path' }]);
      }
      if (existing.status !== null) {
        ctx.status = existing.status;
        ctx.body = parseStored(existing.response);
        const headers = parseStored(existing.headers);
        if (headers) ctx.set(headers);
        ctx.set('Idempotent-Replayed', 'true');
        return;
      }
      if (Date.parse(existing.expires_at) > now) throw new AppError('idempotency_conflict', 'A request with this Idempotency-Key is still in progress');
      // Orphaned by a process that died mid-request: nothing it did committed. Take it over.
      await table().where({ id: existing.id }).whereNull('status').delete();
    }

    const reservationId = uuidv7();
    const stamp = new Date(now).toISOString();
    try {
      await table().insert({ id: reservationId, owner, key, request_hash: requestHash, status: null, response: null, headers: null, expires_at: new Date(now + rt.config.idempotencyLeaseMs).toISOString(), created_at: stamp, updated_at: stamp });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      throw new AppError('idempotency_conflict', 'A request with this Idempotency-Key is still in progress');
    }
    let completed = false;
    const reservation: IdempotencyReservation = {
      async complete(trx, status, body, headers) {
        const updated = await trx(TABLE).where({ id: reservationId }).whereNull('status').update({
          status, response: JSON.stringify(body ?? null), headers: JSON.stringify(headers), expires_at: new Date(Date.now() + RETENTION_MS).toISOString(), updated_at: new Date().toISOString(),
        });
        if (updated !== 1) throw new AppError('idempotency_conflict', 'This request outlived its Idempotency-Key reservation; it was not applied');
        completed = true;
      },
    };
    ctx.state.idempotency = reservation;
    try {
      await next();
    } catch (err) {
      if (!completed) await table().where({ id: reservationId }).whereNull('status').delete();
      throw err;
    }
    if (!completed) {
      // A route that wrote nothing transactional (a read-only action): store its answer now.
      await rt.db.knex.transaction((trx) => reservation.complete(trx, ctx.status, ctx.body, { ...(ctx.response.get('location') ? { location: ctx.response.get('location') } : {}) }));
    }
  };
}
