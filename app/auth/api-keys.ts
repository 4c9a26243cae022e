import { createHash, randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { v7 as uuidv7 } from 'uuid';
import { AppError, validationError } from '../core/errors.js';
import { loggableError } from '../core/loggable-error.js';
import type { Runtime } from '../runtime.js';
import type { Actor, Org } from '../core/context.js';
import { buildAbility, type AppAbility } from './ability.js';
import { findOrgsBySlugs } from './orgs.js';
import { systemColumns } from '../core/define.js';
import { apiKeysDefinition, organizationsDefinition, partnersDefinition, settingsDefinition } from '../core/system-definitions.js';

export const KEY_PREFIX = 'sk_live_';
const KEYS_TABLE = apiKeysDefinition.table;
const PARTNERS_TABLE = partnersDefinition.table;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** An authenticated caller: who it is, which orgs it may touch, and what it may do there. */
export interface Principal {
  actor: Actor;
  keyId: string;
  partnerId: string;
  scopes: string[];
  orgIds: string[];
  rateLimit: number | null;
  ability: AppAbility;
  fieldCache: Map<string, Set<string>>;
}

interface KeyRow {
  id: string;
  name: string;
  partner_id: string;
  prefix: string;
  scopes: string[];
  org_ids: string[];
  rate_limit: number | null;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  partner_name?: string;
}

function randomSecret(length: number): string {
  const bytes = randomBytes(length * 2);
  let out = '';
  // Rejection sampling keeps every character equally likely.
  for (const b of bytes) {
    if (b < 248) out += BASE62[b % 62];
    if (out.length === length) break;
  }
  return out.length === length ? out : randomSecret(length);
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

const VALID_SCOPE = /^(\*|\*:read|[a-z][a-z0-9-]*:(read|write|sensitive))$/;

export function validateScopes(rt: Runtime, scopes: string[]): void {
  const known = new Set(rt.registry.exposed().map((d) => d.scope));
  const bad = scopes.filter((s) => !VALID_SCOPE.test(s) || (s.includes(':') && !s.startsWith('*') && !known.has(s.split(':')[0])));
  if (!scopes.length) throw validationError([{ path: '/scopes', message: 'at least one scope is required' }]);
  if (bad.length) {
    throw validationError(bad.map((s) => ({ path: '/scopes', message: `unknown scope '${s}' (known resources: ${[...known].sort().join(', ')})` })));
  }
}

export interface CreateKeyInput {
  orgSlugs: string[];
  partnerName: string;
  scopes: string[];
  name?: string;
  expiresAt?: string;
  rateLimit?: number;
}

export interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
  partner: string;
  orgs: string[];
  scopes: string[];
  expires_at: string | null;
  rate_limit: number | null;
}

async function insertKey(rt: Runtime, input: { partnerId: string; partnerName: string; orgIds: string[]; orgSlugs: string[]; scopes: string[]; name: string; expiresAt: string | null; rateLimit: number | null; rotatedFrom?: string }): Promise<CreatedKey> {
  const secret = randomSecret(40);
  const key = `${KEY_PREFIX}${secret}`;
  const prefix = `${KEY_PREFIX}${secret.slice(0, 8)}`;
  const id = uuidv7();
  const codec = rt.schema.codec('api-key');
  await rt.db.knex(KEYS_TABLE).insert(codec.toDb({
    id, name: input.name, partner_id: input.partnerId, prefix, key_hash: hashKey(key), scopes: input.scopes, org_ids: input.orgIds,
    rate_limit: input.rateLimit, expires_at: input.expiresAt, revoked_at: null, last_used_at: null, rotated_from: input.rotatedFrom ?? null,
    ...systemColumns(apiKeysDefinition),
  }));
  return { id, key, prefix, partner: input.partnerName, orgs: input.orgSlugs, scopes: input.scopes, expires_at: input.expiresAt, rate_limit: input.rateLimit };
}

/** Issues a key. The whole key is returned once; only its hash and a short prefix are kept. */
export async function createApiKey(rt: Runtime, input: CreateKeyInput): Promise<CreatedKey> {
  validateScopes(rt, input.scopes);
  const orgs = await findOrgsBySlugs(rt, input.orgSlugs);
  if (input.expiresAt !== undefined && Number.isNaN(Date.parse(input.expiresAt))) {
    throw validationError([{ path: '/expires', message: `'${input.expiresAt}' is not a date` }]);
  }
  if (input.rateLimit !== undefined && (!Number.isInteger(input.rateLimit) || input.rateLimit < 1)) {
    throw validationError([{ path: '/rate_limit', message: 'must be a positive integer (requests per minute)' }]);
  }
  const partnerId = await ensurePartner(rt, input.partnerName);
  return insertKey(rt, {
    partnerId,
    partnerName: input.partnerName,
    orgIds: orgs.map((o) => o.id),
    orgSlugs: orgs.map((o) => o.slug),
    scopes: input.scopes,
    name: input.name ?? `${input.partnerName} key`,
    expiresAt: input.expiresAt ? new Date(input.expiresAt).toISOString() : null,
    rateLimit: input.rateLimit ?? null,
  });
}

async function ensurePartner(rt: Runtime, name: string): Promise<string> {
  if (!name.trim()) throw validationError([{ path: '/partner', message: 'is required' }]);
  const existing = await rt.db.knex(PARTNERS_TABLE).where({ name }).first('id');
  if (existing) return existing.id;
  const id = uuidv7();
  await rt.db.knex(PARTNERS_TABLE).insert({ id, name, ...systemColumns(partnersDefinition) }).onConflict('name').ignore();
  return (await rt.db.knex(PARTNERS_TABLE).where({ name }).first('id')).id;
}

async function loadKey(rt: Runtime, where: { id?: string; key_hash?: string }): Promise<KeyRow | undefined> {
  const row = await rt.db.knex(KEYS_TABLE).join(PARTNERS_TABLE, `${PARTNERS_TABLE}.id`, `${KEYS_TABLE}.partner_id`).where(Object.fromEntries(Object.entries(where).map(([k, v]) => [`${KEYS_TABLE}.${k}`, v])))
    .first(`${KEYS_TABLE}.*`, `${PARTNERS_TABLE}.name as partner_name`);
  return row ? (rt.schema.codec('api-key').fromDb(row) as unknown as KeyRow) : undefined;
}

/** Revokes a key at once; its JWTs stop working with it. */
export async function revokeApiKey(rt: Runtime, id: string): Promise<{ id: string; revoked_at: string }> {
  const key = await loadKey(rt, { id });
  if (!key) throw new AppError('not_found', 'API key not found');
  const revokedAt = key.revoked_at ?? new Date().toISOString();
  await rt.db.knex(KEYS_TABLE).where({ id }).update({ revoked_at: revokedAt, updated_at: new Date().toISOString() });
  await keysChanged(rt);
  return { id, revoked_at: revokedAt };
}

/**
 * Issues a replacement key with the same partner, orgs, scopes and limit. The old key keeps
 * working for `overlapSeconds` so that deployments can switch over, then expires.
 */
export async function rotateApiKey(rt: Runtime, id: string, overlapSeconds = 24 * 3600): Promise<CreatedKey & { previous_key_expires_at: string }> {
  const old = await loadKey(rt, { id });
  if (!old) throw new AppError('not_found', 'API key not found');
  if (old.revoked_at) throw new AppError('unprocessable', 'A revoked key cannot be rotated');
  const orgs = await rt.db.knex(organizationsDefinition.table).whereIn('id', old.org_ids).select('slug');
  const created = await insertKey(rt, {
    partnerId: old.partner_id, partnerName: old.partner_name!, orgIds: old.org_ids, orgSlugs: orgs.map((o: { slug: string }) => o.slug),
    scopes: old.scopes, name: old.name, expiresAt: old.expires_at, rateLimit: old.rate_limit, rotatedFrom: old.id,
  });
  const overlapEnd = new Date(Date.now() + overlapSeconds * 1000).toISOString();
  const expiresAt = old.expires_at && old.expires_at < overlapEnd ? old.expires_at : overlapEnd;
  await rt.db.knex(KEYS_TABLE).where({ id }).update({ expires_at: expiresAt, updated_at: new Date().toISOString() });
  await keysChanged(rt);
  return { ...created, previous_key_expires_at: expiresAt };
}

// --- authentication -------------------------------------------------------------------------

interface CacheEntry {
  principal: Principal;
  expiresAt: string | null;
  revoked: boolean;
  cachedUntil: number;
  lastUsedWritten: number;
  /** The api_keys write generation and schema version the entry was built under. */
  keysGeneration: string;
  schemaVersion: number;
}

/**
 * Key lookups are cached, and the cache is checked against the api_keys table's write generation
 * on every request (SQLite's data_version, Redis, or PostgreSQL's NOTIFY, as for the list
 * caches): a revocation or rotation in any process takes effect at once everywhere. Where no
 * generation is known (PostgreSQL while its listener is down) entries live AUTH_CACHE_TTL_MS.
 */
const principalCaches = new WeakMap<Runtime, Map<string, CacheEntry>>();

function principalCache(rt: Runtime): Map<string, CacheEntry> {
  let cache = principalCaches.get(rt);
  if (!cache) principalCaches.set(rt, (cache = new Map()));
  return cache;
}

/** After a committed change to a key: this process's cache at once, every other one by the generation. */
async function keysChanged(rt: Runtime): Promise<void> {
  principalCache(rt).clear();
  await rt.generations.bump(KEYS_TABLE);
}


function toPrincipal(rt: Runtime, key: KeyRow): Principal {
  return {
    actor: { type: 'api_key', id: key.id, label: key.partner_name ?? key.name },
    keyId: key.id,
    partnerId: key.partner_id,
    scopes: key.scopes,
    orgIds: key.org_ids,
    rateLimit: key.rate_limit,
    ability: buildAbility(rt.schema.registry, { scopes: key.scopes, orgIds: key.org_ids }, rt.kernel.jobReadScopes),
    fieldCache: new Map(),
  };
}

const unauthorized = (message: string) => new AppError('unauthorized', message, undefined, { 'WWW-Authenticate': 'Bearer' });

async function principalFor(rt: Runtime, cacheKey: string, where: { id?: string; key_hash?: string }): Promise<Principal> {
  const now = Date.now();
  const cache = principalCache(rt);
  const generation = await rt.generations.current(KEYS_TABLE);
  const schemaVersion = rt.schema.version;
  let entry = cache.get(cacheKey);
  const fresh = entry && (generation === null ? entry.cachedUntil >= now : entry.keysGeneration === generation) && entry.schemaVersion === schemaVersion;
  if (!entry || !fresh) {
    const key = await loadKey(rt, where);
    if (!key) throw unauthorized('The API key is not valid');
    entry = {
      principal: toPrincipal(rt, key),
      expiresAt: key.expires_at,
      revoked: !!key.revoked_at,
      cachedUntil: now + rt.config.authCacheTtlMs,
      lastUsedWritten: key.last_used_at ? Date.parse(key.last_used_at) : 0,
      keysGeneration: generation ?? '',
      schemaVersion,
    };
    if (cache.size > 10000) cache.clear();
    cache.set(cacheKey, entry);
  }
  if (entry.revoked) throw unauthorized('The API key has been revoked');
  if (entry.expiresAt && Date.parse(entry.expiresAt) <= now) throw unauthorized('The API key has expired');
  // last_used_at is kept to the minute: one write per key per minute, off the request path.
  if (now - entry.lastUsedWritten > 60_000) {
    entry.lastUsedWritten = now;
    rt.db.knex(KEYS_TABLE).where({ id: entry.principal.keyId }).update({ last_used_at: new Date(now).toISOString() })
      .catch((err: unknown) => rt.logger.warn({ err: loggableError(err) }, 'could not record last_used_at'));
  }
  return entry.principal;
}

/** Resolves `Authorization: Bearer <sk_live_… | JWT>` to a principal, or throws 401. */
export async function authenticate(rt: Runtime, header: string | undefined): Promise<Principal> {
  if (!header) throw unauthorized('Missing Authorization header: send "Authorization: Bearer <API key or token>"');
  const match = /^Bearer\s+(\S+)$/i.exec(header.trim());
  if (!match) throw unauthorized('The Authorization header must be "Bearer <API key or token>"');
  const credential = match[1];
  if (credential.startsWith(KEY_PREFIX)) {
    const hash = hashKey(credential);
    return principalFor(rt, `h:${hash}`, { key_hash: hash });
  }
  const keyId = await verifyToken(rt, credential);
  return principalFor(rt, `i:${keyId}`, { id: keyId });
}

// --- token exchange -------------------------------------------------------------------------

const secrets = new WeakMap<Runtime, Uint8Array>();

/** JWT_SECRET, or one generated once and kept in the database so every process shares it. */
async function signingSecret(rt: Runtime): Promise<Uint8Array> {
  let secret = secrets.get(rt);
  if (secret) return secret;
  let text = rt.config.jwtSecret;
  if (!text) {
    await rt.db.knex(settingsDefinition.table).insert({ id: uuidv7(), key: 'jwt_secret', value: randomBytes(48).toString('base64url'), ...systemColumns(settingsDefinition) }).onConflict('key').ignore();
    text = (await rt.db.knex(settingsDefinition.table).where({ key: 'jwt_secret' }).first('value')).value as string;
  }
  secret = new TextEncoder().encode(text);
  secrets.set(rt, secret);
  return secret;
}

async function verifyToken(rt: Runtime, token: string): Promise<string> {
  try {
    const { payload } = await jwtVerify(token, await signingSecret(rt), { algorithms: ['HS256'], issuer: 'emr' });
    if (typeof payload.sub !== 'string') throw unauthorized('The token is not valid');
    return payload.sub;
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (err instanceof joseErrors.JWTExpired) throw unauthorized('The token has expired: exchange the API key for a new one');
    throw unauthorized('The API key or token is not valid');
  }
}

/** Seed 002's token exchange: an API key for a short-lived JWT carrying its scopes and orgs. */
export async function exchangeToken(rt: Runtime, apiKey: unknown): Promise<{ accessToken: string; tokenType: 'Bearer'; expiresIn: string }> {
  if (typeof apiKey !== 'string' || !apiKey) throw validationError([{ path: '/body/apiKey', message: 'is required' }]);
  if (!apiKey.startsWith(KEY_PREFIX)) throw unauthorized('The API key is not valid');
  const principal = await authenticate(rt, `Bearer ${apiKey}`);
  const ttl = rt.config.tokenTtlSeconds;
  const orgs = await rt.db.knex(organizationsDefinition.table).whereIn('id', principal.orgIds).select('slug');
  const accessToken = await new SignJWT({ scopes: principal.scopes, orgs: orgs.map((o: { slug: string }) => o.slug) })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(principal.keyId)
    .setIssuer('emr')
    .setIssuedAt()
    .setJti(uuidv7())
    .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
    .sign(await signingSecret(rt));
  const expiresIn = ttl % 3600 === 0 ? `${ttl / 3600}h` : `${ttl}s`;
  return { accessToken, tokenType: 'Bearer', expiresIn };
}

export type { Org };
