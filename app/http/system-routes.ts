import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Router from '@koa/router';
import type { Runtime } from '../runtime.js';
import type { createMetrics } from './metrics.js';
import { buildOpenApiDocument } from '../openapi/document.js';
import { docsHtml, swaggerUiDistPath } from '../openapi/docs-page.js';

const DOCS_ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'application/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'application/javascript; charset=utf-8',
};

/** Health, metrics, the OpenAPI document and its browsable reference. No authentication. */
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

  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });

  router.get('/api/openapi.json', (ctx) => {
    const gen = rt.schema;
    ctx.type = 'application/json';
    ctx.body = gen.memo('openapi', () => JSON.stringify(buildOpenApiDocument(gen.registry, { serverUrl: rt.config.publicUrl })));
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
