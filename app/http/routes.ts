import type { Readable } from 'node:stream';
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { Principal } from '../auth/api-keys.js';
import { authenticate } from '../auth/api-keys.js';
import { resolveOrg } from '../auth/orgs.js';
import type { OperationContext } from '../core/context.js';
import { AppError, validationError } from '../core/errors.js';
import type { ResolvedDefinition } from '../core/types.js';
import { runAction } from '../operations/action.js';
import { bodyObject } from '../operations/pipeline.js';
import { archiveRecord, restoreRecord } from '../operations/archive.js';
import { createRecord } from '../operations/create.js';
import { getRecord } from '../operations/get.js';
import { listRecords, SERIALIZED_DATA, type ListResult } from '../operations/list.js';
import { parentParam, type Row } from '../operations/records.js';
import { updateRecord } from '../operations/update.js';
import type { Registry } from '../core/registry.js';
import type { Runtime } from '../runtime.js';
import { routeBody } from './body.js';
import { idempotencyMiddleware, type IdempotencyReservation } from './idempotency.js';
import { readQueryString } from './query-parser.js';
import { limitAuthFailures, rateLimitMiddleware } from './rate-limit.js';

// Routes only translate HTTP into an operation's argument object and its result (or error value)
// back; every rule is the operation's.

/** The URL of a resource's collection, with Koa params: `/:org/tickets/:ticket_id/comments`. */
export function collectionPath(registry: Registry, def: ResolvedDefinition): string {
  const segments: string[] = [def.path];
  let current = def;
  while (current.parent) {
    const parent = registry.get(current.parent.resource);
    segments.unshift(`${parent.path}/:${parentParam(current)}`);
    current = parent;
  }
  return `${def.tenant ? '/:org' : ''}/${segments.join('/')}`;
}

/** The operation context of a request: who, where, and the schema generation it started on. */
export function operationContext(ctx: Context): OperationContext {
  const principal = ctx.state.principal as Principal;
  return {
    actor: principal.actor,
    ability: principal.ability,
    org: ctx.state.org,
    schema: ctx.state.schema,
    requestId: ctx.state.requestId,
    ip: ctx.ip,
    fieldCache: principal.fieldCache,
  };
}

/** The JSON a request carries (undefined without a body); what it must be is the operation's rule. */
export function requestBody(ctx: Context): Record<string, unknown> {
  if (ctx.request.length && !ctx.request.is('json')) {
    throw validationError([{ path: '/body', message: 'must be JSON (Content-Type: application/json)' }]);
  }
  return (ctx.request as { body?: Record<string, unknown> }).body as Record<string, unknown>;
}

function ifMatch(ctx: Context): number | undefined {
  const header = ctx.get('If-Match');
  if (!header) return undefined;
  const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(header.trim());
  if (!m) throw validationError([{ path: '/headers/if-match', message: 'must be an ETag such as W/"3"' }]);
  return Number(m[1]);
}

/**
 * An archive's base version: `?base_version=` (as seed 001 sends it on archives) or `If-Match`;
 * the two must agree. Archives take no other query parameter.
 */
function archiveBaseVersion(ctx: Context): number | undefined {
  const query = readQueryString(ctx.querystring);
  const problems = Object.keys(query).filter((k) => k !== 'base_version').map((k) => ({ path: `/query/${k}`, message: 'is not a parameter of an archive' }));
  const raw = query.base_version;
  let fromQuery: number | undefined;
  if (raw !== undefined) {
    if (typeof raw !== 'string' || !/^[1-9]\d{0,8}$/.test(raw)) problems.push({ path: '/query/base_version', message: 'must be a positive integer' });
    else fromQuery = Number(raw);
  }
  if (problems.length) throw validationError(problems);
  const header = ifMatch(ctx);
  if (fromQuery !== undefined && header !== undefined && fromQuery !== header) {
    throw validationError([{ path: '/query/base_version', message: 'differs from the If-Match header' }]);
  }
  return fromQuery ?? header;
}

function etagOf(def: ResolvedDefinition, record: Row | null | undefined): Record<string, string> {
  return def.versioned && record && typeof record.version === 'number' ? { etag: `W/"${record.version}"` } : {};
}

/** A list's envelope as JSON, splicing in its rows as the page cache already serialized them. */
function listJson(result: ListResult): string {
  const data = (result as { [SERIALIZED_DATA]?: string })[SERIALIZED_DATA] ?? JSON.stringify(result.data);
  const rest: Record<string, unknown> = { limit: result.limit, page_info: result.page_info };
  if (result.total_count !== undefined) rest.total_count = result.total_count;
  if (result.offset !== undefined) rest.offset = result.offset;
  return `{"data":${data},${JSON.stringify(rest).slice(1)}`;
}

/** The query parameters of a GET action that may repeat: those its input schema makes arrays. */
function arrayParameters(input: Record<string, unknown>): Set<string> {
  const properties = (input.properties ?? {}) as Record<string, { type?: unknown }>;
  return new Set(Object.entries(properties).filter(([, p]) => p.type === 'array').map(([name]) => name));
}

/** Answers `{data}` with the record's ETag. */
function answer(ctx: Context, def: ResolvedDefinition, data: unknown, status = 200): void {
  ctx.status = status;
  ctx.set(etagOf(def, data as Row));
  ctx.body = { data };
}

export function authMiddleware(rt: Runtime): Middleware {
  return async (ctx: Context, next: Next) => {
    // The schema generation is pinned for the whole request, before anything reads it.
    ctx.state.schema = rt.schema;
    ctx.state.principal = await limitAuthFailures(rt, ctx.ip, () => authenticate(rt, ctx.get('Authorization') || undefined));
    await next();
  };
}

/** The org of the path must exist and be one the key is bound to; otherwise it does not exist. */
export function orgMiddleware(rt: Runtime): Middleware {
  return async (ctx: Context, next: Next) => {
    const slug = ctx.params.org;
    const org = await resolveOrg(rt, slug);
    const principal = ctx.state.principal as Principal;
    if (!org || !principal.orgIds.includes(org.id)) throw new AppError('not_found', `Organization '${slug}' not found`);
    ctx.state.org = org;
    await next();
  };
}

/** Runs the write in a handler, completing an Idempotency-Key reservation inside its transaction. */
function idempotentCommit(ctx: Context, def: ResolvedDefinition, status: number, location?: (data: Row) => string) {
  const reservation = ctx.state.idempotency as IdempotencyReservation | undefined;
  if (!reservation) return undefined;
  return (trx: Parameters<IdempotencyReservation['complete']>[0], data: Row | null) =>
    reservation.complete(trx, status, { data }, { ...etagOf(def, data), ...(location && data ? { location: location(data) } : {}) });
}

/**
 * Generated routes for every exposed definition of the starting generation (a generation may
 * change validation and documentation, never the set of routes): CRUD, archive and restore, and
 * the actions plugins declare.
 */
export function resourceRouter(rt: Runtime): Router {
  const router = new Router();
  const auth = authMiddleware(rt);
  const limit = rateLimitMiddleware(rt);
  const org = orgMiddleware(rt);
  const idempotency = idempotencyMiddleware(rt);
  const registry = rt.schema.registry;
  // Global resources first so that `/kb/…` is never read as an organization slug.
  const defs = [...registry.exposed()].sort((a, b) => Number(a.tenant) - Number(b.tenant));
  for (const def of defs) {
    if (def.generatedRoutes === false) continue;
    const base = collectionPath(registry, def);
    const item = `${base}/:id`;
    const pre: Middleware[] = def.tenant ? [auth, limit, org] : [auth, limit];
    const target = (ctx: Context) => ({ resource: def.name, ctx: operationContext(ctx), parentId: def.parent ? ctx.params[parentParam(def)] : undefined });
    const location = (ctx: Context) => (data: Row) => `${ctx.path.replace(/\/$/, '')}/${data.id}`;

    // Collection actions before `/:id` routes so that `POST /patients/check-duplicates` and
    // `GET /patients/search` are actions, never a record id.
    for (const action of rt.kernel.actionsOf(def.name)) {
      if (action.on !== 'collection') continue;
      if (action.method === 'get') {
        const repeatable = arrayParameters(action.input);
        router.get(`${base}/${action.name}`, ...pre, async (ctx) => {
          answer(ctx, def, await runAction(rt, { ...target(ctx), action: action.name, body: readQueryString(ctx.querystring, repeatable) }));
        });
        continue;
      }
      router.post(`${base}/${action.name}`, ...pre, idempotency, async (ctx) => {
        const data = await runAction(rt, { ...target(ctx), action: action.name, body: requestBody(ctx) });
        answer(ctx, def, data);
      });
    }
    router.get(base, ...pre, async (ctx) => {
      ctx.type = 'json';
      ctx.body = listJson(await listRecords(rt, { ...target(ctx), query: readQueryString(ctx.querystring) }));
    });
    router.get(item, ...pre, async (ctx) => {
      answer(ctx, def, await getRecord(rt, { ...target(ctx), id: ctx.params.id, query: readQueryString(ctx.querystring) }));
    });
    if (def.readOnlyResource) continue;

    router.post(base, ...pre, idempotency, async (ctx) => {
      const data = await createRecord(rt, { ...target(ctx), body: requestBody(ctx), commitWith: idempotentCommit(ctx, def, 201, location(ctx)) });
      ctx.set('Location', location(ctx)(data));
      answer(ctx, def, data, 201);
    });
    for (const action of rt.kernel.actionsOf(def.name)) {
      if (action.on !== 'record') continue;
      if (action.method === 'get') {
        // A read action: its input is the query string.
        const repeatable = arrayParameters(action.input);
        router.get(`${item}/${action.name}`, ...pre, async (ctx) => {
          answer(ctx, def, await runAction(rt, { ...target(ctx), id: ctx.params.id, action: action.name, body: readQueryString(ctx.querystring, repeatable) }));
        });
        continue;
      }
      router.post(`${item}/${action.name}`, ...pre, idempotency, async (ctx) => {
        answer(ctx, def, await runAction(rt, { ...target(ctx), id: ctx.params.id, action: action.name, body: requestBody(ctx) }));
      });
    }
    if (def.appendOnly) continue;

    const update = async (ctx: Context) => {
      answer(ctx, def, await updateRecord(rt, { ...target(ctx), id: ctx.params.id, body: requestBody(ctx), ifMatch: ifMatch(ctx) }));
    };
    router.patch(item, ...pre, update);
    router.put(item, ...pre, update);
    if (!def.archivable) continue;

    const archive = async (ctx: Context) => {
      answer(ctx, def, await archiveRecord(rt, { ...target(ctx), id: ctx.params.id, baseVersion: archiveBaseVersion(ctx) }));
    };
    router.delete(item, ...pre, archive);
    router.post(`${item}/archive`, ...pre, archive);
    router.post(`${item}/restore`, ...pre, async (ctx) => {
      answer(ctx, def, await restoreRecord(rt, { ...target(ctx), id: ctx.params.id }));
    });
  }
  return router;
}

/** Routes plugins serve beside the generated ones (the token exchange, …). */
export function pluginRouter(rt: Runtime): Router {
  const router = new Router();
  const auth = authMiddleware(rt);
  const limit = rateLimitMiddleware(rt);
  const org = orgMiddleware(rt);
  for (const route of rt.kernel.routes) {
    const authenticated = route.authenticated !== false;
    const path = `${route.tenant ? '/:org' : ''}${route.path}`;
    const pre: Middleware[] = authenticated ? (route.tenant ? [auth, limit, org] : [auth, limit]) : [];
    if (route.body) pre.push(routeBody(route.body));
    router[route.method](path, ...pre, async (ctx: Context) => {
      const text = ctx.state.text as string | undefined;
      const stream = ctx.state.bodyStream as Readable | undefined;
      const body = text === undefined && !route.body?.stream && ['post', 'patch', 'put'].includes(route.method) ? bodyObject(route.body ? (ctx.request as { body?: Row }).body : requestBody(ctx)) : {};
      const contentType = ctx.request.type || undefined;
      const run = () => route.handler({ rt, ctx: authenticated ? operationContext(ctx) : null, params: { ...ctx.params }, query: readQueryString(ctx.querystring), body, text, stream, contentType, ip: ctx.ip });
      // An unauthenticated route that answers 401 checks credentials itself (the token exchange):
      // its failures count toward the per-IP limit like the Authorization header's.
      const out = authenticated ? await run() : await limitAuthFailures(rt, ctx.ip, run);
      ctx.status = out.status ?? 200;
      if (out.headers) ctx.set(out.headers);
      ctx.body = out.body;
    });
  }
  return router;
}

/**
 * Marks the requests of plugin routes that read their own body, so that the API's JSON parser,
 * which runs before any route, leaves it to them.
 */
export function ownBodyMarkers(rt: Runtime): Router {
  const router = new Router();
  for (const route of rt.kernel.routes) {
    if (!route.body) continue;
    router[route.method](`${route.tenant ? '/:org' : ''}${route.path}`, async (ctx: Context, next: Next) => {
      ctx.state.ownBody = true;
      await next();
    });
  }
  return router;
}
