import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { authenticate } from '../auth/api-keys.js';
import { resolveOrg } from '../auth/orgs.js';
import { AppError, validationError } from '../core/errors.js';
import type { SchemaGeneration } from '../core/schema-generation.js';
import { customFieldsOf } from '../custom-fields/types.js';
import { pluginActions } from '../openapi/action-paths.js';
import { OpenApiDocumentCache } from '../openapi/document-cache.js';
import { docsHtml, docsPageDirectives, swaggerUiDistPath } from '../openapi/docs-page.js';
import { documentedRoutes } from '../openapi/route-paths.js';
import type { Runtime } from '../runtime.js';
import type { createMetrics } from './metrics.js';
import { pagePolicy } from './security-headers.js';

const DOCS_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

const SPEC_URL = '/api/openapi.json';

/**
 * /metrics shows routes, traffic and process details. With METRICS_TOKEN set it needs
 * `Authorization: Bearer <METRICS_TOKEN>`. Without it /metrics stays open, which suits a scraper
 * on a private network only: production should set METRICS_TOKEN.
 */
function metricsAccess(token: string | undefined): Middleware {
  if (!token) return (_ctx, next) => next();
  const expected = createHash('sha256').update(token).digest();
  return async (ctx, next) => {
    const presented = /^Bearer\s+(\S+)$/i.exec(ctx.get('Authorization').trim())?.[1];
    // Digests have one length, so the comparison takes the same time whatever was sent.
    const matches = presented !== undefined && timingSafeEqual(createHash('sha256').update(presented).digest(), expected);
    if (!matches) throw new AppError('unauthorized', 'GET /metrics needs "Authorization: Bearer <METRICS_TOKEN>"', undefined, { 'WWW-Authenticate': 'Bearer' });
    await next();
  };
}

/** `?scoped=true|false`; anything else is a 400 like any other bad query value. */
function scopedFlag(value: string | string[] | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw validationError([{ path: '/query/scoped', message: 'must be true or false' }]);
}

/**
 * Health, metrics, the OpenAPI document and its browsable reference. No API key, except for the
 * scoped document (`/api/openapi.json?scoped=true`), which is the caller's; /metrics may need its
 * own token.
 */
export function systemRouter(rt: Runtime, metrics: ReturnType<typeof createMetrics>): Router {
  const router = new Router();
  // The documents belong to a schema generation: a new one documents the new schema at once.
  // An organization's document adds its custom fields; it is always scoped to the caller.
  const documentsOf = (gen: SchemaGeneration, orgId?: string): OpenApiDocumentCache =>
    gen.memo(orgId ? `openapi-documents:${orgId}` : 'openapi-documents', () => new OpenApiDocumentCache(gen.registry, {
      serverUrl: rt.config.publicUrl,
      rateLimitPerMinute: rt.config.rateLimitPerMinute,
      actions: pluginActions(rt.kernel, gen.registry),
      routes: documentedRoutes(rt.kernel.routes),
      customFields: orgId ? Object.fromEntries(gen.registry.all().filter((d) => d.customFields).map((d) => [d.name, customFieldsOf(d, orgId)])) : undefined,
      listParams: rt.kernel.listParams(),
      operationErrors: rt.kernel.operationErrors(),
    }));

  router.get('/health', async (ctx) => {
    const checks: Record<string, string> = {};
    let healthy = true;
    try {
      await rt.db.knex.raw('select 1');
      checks.database = 'ok';
    } catch {
      checks.database = 'unavailable';
      healthy = false;
    }
    if (rt.redis) {
      try {
        await rt.redis.ping();
        checks.redis = 'ok';
      } catch {
        checks.redis = 'unavailable';
        healthy = false;
      }
    } else {
      checks.redis = 'not_configured';
    }
    ctx.status = healthy ? 200 : 503;
    ctx.body = { status: healthy ? 'ok' : 'degraded', checks };
  });

  router.get('/metrics', metricsAccess(rt.config.metricsToken), async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });

  router.get(SPEC_URL, async (ctx) => {
    const slug = ctx.query.org;
    if (slug !== undefined && typeof slug !== 'string') throw validationError([{ path: '/query/org', message: 'must be one organization slug' }]);
    if (slug !== undefined || scopedFlag(ctx.query.scoped)) {
      const principal = await authenticate(rt, ctx.get('Authorization') || undefined);
      let orgId: string | undefined;
      if (slug !== undefined) {
        const org = await resolveOrg(rt, slug);
        if (!org || !principal.orgIds.includes(org.id)) throw new AppError('not_found', `Organization '${slug}' not found`);
        orgId = org.id;
      }
      ctx.set('Vary', 'Authorization');
      ctx.set('Cache-Control', 'private, no-store');
      ctx.body = documentsOf(rt.schema, orgId).scopedDocument(principal.scopes);
    } else {
      ctx.body = documentsOf(rt.schema).fullDocument();
    }
    ctx.type = 'application/json';
  });

  router.get('/api/docs', pagePolicy(docsPageDirectives(SPEC_URL, rt.config.publicUrl)), (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = docsHtml(SPEC_URL);
  });

  router.get('/api/docs/:asset', async (ctx) => {
    const type = DOCS_ASSETS[ctx.params.asset];
    if (!type) return;
    ctx.type = type;
    ctx.set('Cache-Control', 'public, max-age=86400');
    ctx.body = await readFile(path.join(swaggerUiDistPath(), ctx.params.asset));
  });

  return router;
}
