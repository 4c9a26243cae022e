import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Router from '@koa/router';
import { authenticate } from '../auth/api-keys.js';
import { validationError } from '../core/errors.js';
import type { Registry } from '../core/registry.js';
import { OpenApiDocumentCache } from '../openapi/document-cache.js';
import { docsHtml, swaggerUiDistPath } from '../openapi/docs-page.js';
import type { Runtime } from '../runtime.js';
import type { createMetrics } from './metrics.js';

const DOCS_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
};

/** `?scoped=true|false`; anything else is a 400 like any other bad query value. */
function scopedFlag(value: string | string[] | undefined): boolean {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw validationError([{ path: '/query/scoped', message: 'must be true or false' }]);
}

/**
 * Health, metrics, the OpenAPI document and its browsable reference. No authentication, except
 * for the scoped document (`/api/openapi.json?scoped=true`), which is the caller's.
 */
export function systemRouter(rt: Runtime, metrics: ReturnType<typeof createMetrics>): Router {
  const router = new Router();
  // One cache per registry: the documents follow the registry the runtime serves.
  let documents: { registry: Registry; cache: OpenApiDocumentCache } | undefined;
  const documentsOf = (registry: Registry): OpenApiDocumentCache => {
    if (documents?.registry !== registry) {
      documents = { registry, cache: new OpenApiDocumentCache(registry, { serverUrl: rt.config.publicUrl, rateLimitPerMinute: rt.config.rateLimitPerMinute }) };
    }
    return documents.cache;
  };

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

  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });

  router.get('/api/openapi.json', async (ctx) => {
    const cache = documentsOf(rt.registry);
    if (scopedFlag(ctx.query.scoped)) {
      const principal = await authenticate(rt, ctx.get('Authorization') || undefined);
      ctx.set('Vary', 'Authorization');
      ctx.set('Cache-Control', 'private, no-store');
      ctx.body = cache.scopedDocument(principal.scopes);
    } else {
      ctx.body = cache.fullDocument();
    }
    ctx.type = 'application/json';
  });

  router.get('/api/docs', (ctx) => {
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = docsHtml('/api/openapi.json');
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
