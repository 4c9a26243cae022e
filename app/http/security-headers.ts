import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Middleware } from 'koa';
import helmet from 'helmet';
import koaHelmet from 'koa-helmet';

const API_POLICY = {
  contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] } },
  xFrameOptions: { action: 'deny' as const },
};

/**
 * The headers Helmet sets for these options. Its headers depend on the options alone (no nonces
 * here), so they are worked out once instead of running Helmet's dozen middlewares per response.
 */
function helmetHeaders(options: Parameters<typeof helmet>[0]): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name];
    },
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => {});
  return headers;
}

/**
 * Helmet's security headers on every response (nosniff, no X-Powered-By, HSTS, no framing…).
 * The API answers JSON, which never needs to load anything: its policy allows nothing. The one
 * HTML page, the API reference, replaces it with its own (`pagePolicy`).
 */
export function securityHeaders(): Middleware {
  const headers = helmetHeaders(API_POLICY);
  return (ctx, next) => {
    ctx.set(headers);
    ctx.remove('X-Powered-By');
    return next();
  };
}

/** A route's own Content-Security-Policy, replacing the API's. */
export function pagePolicy(directives: Record<string, string[]>): Middleware {
  return koaHelmet.contentSecurityPolicy({ useDefaults: false, directives });
}
