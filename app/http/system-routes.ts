import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Router from '@koa/router';
import type { Middleware } from 'koa';
import { AppError } from '../core/errors.js';
import type { Runtime } from '../runtime.js';
import type { createMetrics } from './metrics.js';
import { buildOpenApiDocument } from '../openapi/document.js';
import { docsHtml, docsPageDirectives, swaggerUiDistPath } from '../openapi/docs-page.js';
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

/** Health, metrics, the OpenAPI document and its browsable reference. No API key: /metrics may need its own token. */
export function systemRouter(rt: Runtime, metrics: ReturnType<typeof createMetrics>): Router {
  const router = new Router();

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

  router.get(SPEC_URL, (ctx) => {
    const gen = rt.schema;
    ctx.type = 'application/json';
    ctx.body = gen.memo('openapi', () => JSON.stringify(buildOpenApiDocument(gen.registry, { serverUrl: rt.config.publicUrl })));
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
