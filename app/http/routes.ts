import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import type { Principal } from '../auth/api-keys.js';
import { authenticate } from '../auth/api-keys.js';
import { resolveOrg } from '../auth/orgs.js';
import { AppError, validationError } from '../core/errors.js';
import type { ResolvedDefinition } from '../core/types.js';
import { archiveRecord, restoreRecord } from '../operations/archive.js';
import type { OperationContext } from '../operations/context.js';
import { createRecord } from '../operations/create.js';
import { getRecord } from '../operations/get.js';
import { listRecords } from '../operations/list.js';
import { parseFields, parseInclude } from '../operations/records.js';
import { updateRecord } from '../operations/update.js';
import type { Runtime } from '../runtime.js';
import { idempotencyMiddleware } from './idempotency.js';
import { parseListQuery, readQueryString } from './query-parser.js';
import { limitAuthFailures, rateLimitMiddleware } from './rate-limit.js';

/** The URL of a resource's collection, with Koa params: `/:org/tickets/:ticket_id/comments`. */
export function collectionPath(rt: Runtime, def: ResolvedDefinition): string {
  const segments: string[] = [def.path];
  let current = def;
  while (current.parent) {
    const parent = rt.registry.get(current.parent.resource);
    segments.unshift(`${parent.path}/:${parentParam(current)}`);
    current = parent;
  }
  return `${def.tenant ? '/:org' : ''}/${segments.join('/')}`;
}

export function parentParam(def: ResolvedDefinition): string {
  return `${def.parent!.resource.replace(/-/g, '_')}_id`;
}

/** Builds the operation context from what the middleware chain established. */
export function operationContext(ctx: Context): OperationContext {
  const principal = ctx.state.principal as Principal;
  return {
    actor: principal.actor,
    ability: principal.ability,
    org: ctx.state.org,
    requestId: ctx.state.requestId,
    ip: ctx.ip,
    fieldCache: principal.fieldCache,
  };
}

/** The JSON object a write carries; `{}` when there is no body. */
export function requestBody(ctx: Context): Record<string, unknown> {
  if (ctx.request.length && !ctx.request.is('json')) {
    throw validationError([{ path: '/body', message: 'must be JSON (Content-Type: application/json)' }]);
  }
  const b = (ctx.request as any).body ?? {};
  if (typeof b !== 'object' || Array.isArray(b)) throw validationError([{ path: '/body', message: 'must be a JSON object' }]);
  return b;
}

function ifMatch(ctx: Context): number | undefined {
  const header = ctx.get('If-Match');
  if (!header) return undefined;
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(header.trim());
  if (!m) throw validationError([{ path: '/headers/if-match', message: 'must be an ETag such as W/"3"' }]);
  return Number(m[1]);
}

function setEtag(ctx: Context, def: ResolvedDefinition, record: Record<string, unknown>) {
  if (def.versioned && typeof record.version === 'number') ctx.set('ETag', `W/"${record.version}"`);
}

export function authMiddleware(rt: Runtime): Middleware {
  return async (ctx: Context, next: Next) => {
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

/** Generated CRUD routes for every exposed definition, each a thin call of an operation. */
export function resourceRouter(rt: Runtime): Router {
  const router = new Router();
  const auth = authMiddleware(rt);
  const limit = rateLimitMiddleware(rt);
  const org = orgMiddleware(rt);
  const idempotency = idempotencyMiddleware(rt);
  // Global resources first so that `/kb/…` is never read as an organization slug.
  const defs = [...rt.registry.exposed()].sort((a, b) => Number(a.tenant) - Number(b.tenant));
  for (const def of defs) {
    const base = collectionPath(rt, def);
    const item = `${base}/:id`;
    const pre: Middleware[] = def.tenant ? [auth, limit, org] : [auth, limit];
    const parentId = (ctx: Context) => (def.parent ? ctx.params[parentParam(def)] : undefined);
    const validators = rt.validators.get(def.name)!;

    router.get(base, ...pre, async (ctx) => {
      const query = parseListQuery(def, validators, readQueryString(ctx.querystring));
      ctx.body = await listRecords(rt, def, operationContext(ctx), query, { parentId: parentId(ctx) });
    });
    router.get(item, ...pre, async (ctx) => {
      const q = validators.getQuery(readQueryString(ctx.querystring));
      const data = await getRecord(rt, def, operationContext(ctx), ctx.params.id, {
        parentId: parentId(ctx),
        includeArchived: q.include_archived === true,
        fields: parseFields(def, q.fields as string | undefined),
        include: parseInclude(def, q.include as string | undefined),
      });
      setEtag(ctx, def, data);
      ctx.body = { data };
    });
    if (def.readOnlyResource) continue;

    router.post(base, ...pre, idempotency, async (ctx) => {
      const data = await createRecord(rt, def, operationContext(ctx), requestBody(ctx), { parentId: parentId(ctx) });
      ctx.status = 201;
      ctx.set('Location', `${ctx.path.replace(/\/$/, '')}/${data.id}`);
      setEtag(ctx, def, data);
      ctx.body = { data };
    });
    if (def.appendOnly) continue;

    const update = async (ctx: Context) => {
      const data = await updateRecord(rt, def, operationContext(ctx), ctx.params.id, requestBody(ctx), { parentId: parentId(ctx), ifMatch: ifMatch(ctx) });
      setEtag(ctx, def, data);
      ctx.body = { data };
    };
    router.patch(item, ...pre, update);
    router.put(item, ...pre, update);
    if (!def.archivable) continue;

    const archive = async (ctx: Context) => {
      const data = await archiveRecord(rt, def, operationContext(ctx), ctx.params.id, { parentId: parentId(ctx) });
      setEtag(ctx, def, data);
      ctx.body = { data };
    };
    router.delete(item, ...pre, archive);
    router.post(`${item}/archive`, ...pre, archive);
    router.post(`${item}/restore`, ...pre, async (ctx) => {
      const data = await restoreRecord(rt, def, operationContext(ctx), ctx.params.id, { parentId: parentId(ctx) });
      setEtag(ctx, def, data);
      ctx.body = { data };
    });
  }
  return router;
}
