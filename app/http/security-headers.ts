import type { Middleware } from 'koa';
import helmet from 'koa-helmet';

/**
 * Helmet's security headers on every response (nosniff, no X-Powered-By, HSTS, no framing…).
 * The API answers JSON, which never needs to load anything: its policy allows nothing. The one
 * HTML page, the API reference, replaces it with its own (`pagePolicy`).
 */
export function securityHeaders(): Middleware {
  return helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': ["'none'"], 'frame-ancestors': ["'none'"] } },
    xFrameOptions: { action: 'deny' },
  });
}

/** A route's own Content-Security-Policy, replacing the API's. */
export function pagePolicy(directives: Record<string, string[]>): Middleware {
  return helmet.contentSecurityPolicy({ useDefaults: false, directives });
}
