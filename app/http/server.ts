import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { Context, Next } from 'koa';
import Router from '@koa/router';
import { randomBytes } from 'node:crypto';
import { PLATFORM_ORG_ID } from '../core/context.js';
import type { Runtime } from '../runtime.js';
import { jsonBody } from './body.js';
import { clientErrorListener, connectListener, errorMiddleware } from './errors.js';
import { createMetrics } from './metrics.js';
import { ownBodyMarkers, pluginRouter, resourceRouter } from './routes.js';
import { securityHeaders } from './security-headers.js';
import { systemRouter } from './system-routes.js';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * Request ids: this process's random prefix and a counter. Unique across processes without
 * drawing random bytes for every request.
 */
function requestIds(): () => string {
  const prefix = randomBytes(6).toString('base64url');
  let n = 0;
  return () => `${prefix}-${(++n).toString(36)}`;
}

const API_PREFIX = '/api/v1';

/**
 * Request id, structured access log (path without query string: no patient data), metrics, and
 * the request log of API calls (the route template, never the path or query; see app/usage).
 */
function requestContext(rt: Runtime, metrics: ReturnType<typeof createMetrics>) {
  const nextId = requestIds();
  const requestLog = rt.requestLog.enabled ? rt.requestLog : undefined;
  // With the access log off (LOG_LEVEL above info), no per-request child logger is made until an
  // error needs one.
  const accessLog = rt.logger.isLevelEnabled('info');
  return async (ctx: Context, next: Next) => {
    const started = process.hrtime.bigint();
    const at = Date.now();
    const incoming = ctx.get('X-Request-Id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : nextId();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    let log: typeof rt.logger | undefined;
    Object.defineProperty(ctx.state, 'log', { get: () => (log ??= rt.logger.child({ request_id: requestId })) });
    try {
      await next();
    } finally {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const route = (ctx as any)._matchedRoute ?? 'unmatched';
      metrics.observe(ctx.method, String(route), ctx.status, ms);
      if (requestLog && ctx.path.startsWith(API_PREFIX) && (ctx.path.length === API_PREFIX.length || ctx.path[API_PREFIX.length] === '/')) {
        const principal = ctx.state.principal as { keyId: string; partnerId: string } | undefined;
        requestLog.record({
          at, method: ctx.method, route: String(route), status: ctx.status, durationMs: ms,
          orgId: (ctx.state.org as { id: string } | undefined)?.id ?? PLATFORM_ORG_ID,
          partnerId: principal?.partnerId ?? null, keyId: principal?.keyId ?? null, ip: ctx.ip || null,
        });
      }
      if (accessLog) ctx.state.log.info({ method: ctx.method, route, path: ctx.path, status: ctx.status, ms: Math.round(ms * 100) / 100, actor: ctx.state.principal?.actor?.id }, 'request');
    }
  };
}

export interface HttpServer {
  app: Koa;
  listen(port?: number, host?: string): Promise<{ server: Server; url: string }>;
  close(): Promise<void>;
}

export function createHttpApp(rt: Runtime): HttpServer {
  const app = new Koa({ proxy: process.env.TRUST_PROXY === 'true' });
  app.silent = true;
  const metrics = createMetrics(rt);
  app.use(requestContext(rt, metrics));
  app.use(securityHeaders());
  app.use(errorMiddleware());

  // The back office (admin/): built while the server starts, loaded only when enabled.
  let adminReady: Promise<unknown> = Promise.resolve();
  if (rt.config.admin.enabled) {
    const panel = import('../../admin/panel.js').then((m) => m.createAdminPanel(rt, app));
    adminReady = panel;
    app.use(async (ctx, next) => {
      if (ctx.path !== '/admin' && !ctx.path.startsWith('/admin/')) return next();
      return (await panel)(ctx, next);
    });
  }

  const api = new Router({ prefix: '/api/v1' });
  // The JSON body parser belongs to the API alone (a later admin panel parses its own bodies).
  api.use(ownBodyMarkers(rt).routes());
  api.use(jsonBody(rt));
  // Plugin routes first: their fixed segments (`/auth/token`) are never read as an organization.
  api.use(pluginRouter(rt).routes());
  api.use(resourceRouter(rt).routes());

  const system = systemRouter(rt, metrics);
  app.use(system.routes());
  app.use(api.routes());
  app.use(api.allowedMethods());

  let server: Server | undefined;
  return {
    app,
    async listen(port = rt.config.port, host = rt.config.host) {
      await adminReady;
      server = await new Promise<Server>((resolve, reject) => {
        const s = app.listen(port, host, () => resolve(s));
        s.on('clientError', clientErrorListener(rt.logger));
        s.on('connect', connectListener(rt.logger));
        s.once('error', reject);
      });
      server.keepAliveTimeout = 65_000;
      const address = server.address() as AddressInfo;
      const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
      return { server, url: `http://${shownHost}:${address.port}` };
    },
    async close() {
      if (server) {
        await new Promise<void>((resolve) => {
          server!.close(() => resolve());
          server!.closeAllConnections?.();
        });
      }
    },
  };
}
