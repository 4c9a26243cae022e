import { createHash } from 'node:crypto';
import type { Context, Next } from 'koa';
import { v7 as uuidv7 } from 'uuid';
import { AppError, validationError } from '../core/errors.js';
import { isUniqueViolation } from '../db/errors.js';
import type { Principal } from '../auth/api-keys.js';
import type { Runtime } from '../runtime.js';

const RETENTION_MS = 24 * 3600 * 1000;

/** JSON with object keys sorted at every level: the same body hashes the same in any key order. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

const REPLAYED_HEADERS = ['location', 'etag'];

function replayedHeaders(ctx: Context): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of REPLAYED_HEADERS) {
    const value = ctx.response.get(name);
    if (value) out[name] = value;
  }
  return out;
}

/**
 * `Idempotency-Key` on POST: the key is reserved before the request runs (a unique row per
 * caller and key), so two concurrent requests with one key cannot both create. The first
 * response is stored and replayed for 24 hours; the same key with another body is a 409.
 * A request that fails releases its key so that a corrected retry can use it.
 */
export function idempotencyMiddleware(rt: Runtime) {
  const table = () => rt.db.knex('idempotency_keys');
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
      await table().where('expires_at', '<', new Date(now).toISOString()).delete();
    }
    const reservationId = uuidv7();
    try {
      await table().insert({ id: reservationId, owner, key, request_hash: requestHash, status: null, response: null, expires_at: new Date(now + RETENTION_MS).toISOString(), created_at: new Date(now).toISOString(), updated_at: new Date(now).toISOString() });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const existing = await table().where({ owner, key }).first();
      if (!existing) throw new AppError('idempotency_conflict', 'A request with this Idempotency-Key was just released; retry');
      if (existing.request_hash !== requestHash) {
        throw new AppError('idempotency_conflict', 'This Idempotency-Key was already used with a different request', [{ path: '/headers/idempotency-key', message: 'was used for another request body or path' }]);
      }
      if (existing.status === null) throw new AppError('idempotency_conflict', 'A request with this Idempotency-Key is still in progress');
      ctx.status = existing.status;
      ctx.body = typeof existing.response === 'string' ? JSON.parse(existing.response) : existing.response;
      const headers = typeof existing.headers === 'string' ? JSON.parse(existing.headers) : existing.headers;
      if (headers) ctx.set(headers);
      ctx.set('Idempotent-Replayed', 'true');
      return;
    }
    try {
      await next();
    } catch (err) {
      await table().where({ id: reservationId }).delete();
      throw err;
    }
    await table().where({ id: reservationId }).update({ status: ctx.status, response: JSON.stringify(ctx.body ?? null), headers: JSON.stringify(replayedHeaders(ctx)), updated_at: new Date().toISOString() });
  };
}
