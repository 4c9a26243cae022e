import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Context, Next } from 'koa';
import { AppError } from '../core/errors.js';
import type { Principal } from '../auth/api-keys.js';
import type { Runtime } from '../runtime.js';

/**
 * Per-key limits over a one-minute window. With Redis the counters live there, so every server
 * process shares one limit per key; without it they live in this process.
 */
export function rateLimitMiddleware(rt: Runtime) {
  const limiters = new Map<number, RateLimiterAbstract>();
  const limiterFor = (points: number): RateLimiterAbstract => {
    let limiter = limiters.get(points);
    if (!limiter) {
      const options = { points, duration: 60, keyPrefix: `${rt.redisPrefix}rl:${points}` };
      limiter = rt.redis
        ? new RateLimiterRedis({ ...options, storeClient: rt.redis, insuranceLimiter: new RateLimiterMemory(options) })
        : new RateLimiterMemory(options);
      limiters.set(points, limiter);
    }
    return limiter;
  };

  return async (ctx: Context, next: Next) => {
    const principal = ctx.state.principal as Principal;
    const points = principal.rateLimit ?? rt.config.rateLimitPerMinute;
    const setHeaders = (res: RateLimiterRes) => {
      ctx.set('RateLimit-Limit', String(points));
      ctx.set('RateLimit-Remaining', String(Math.max(0, res.remainingPoints)));
      ctx.set('RateLimit-Reset', String(Math.ceil(res.msBeforeNext / 1000)));
    };
    try {
      setHeaders(await limiterFor(points).consume(principal.keyId));
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) throw err;
      setHeaders(err);
      const retryAfter = String(Math.max(1, Math.ceil(err.msBeforeNext / 1000)));
      throw new AppError('rate_limit_exceeded', `Rate limit of ${points} requests per minute exceeded; retry in ${retryAfter} s`, undefined, {
        'Retry-After': retryAfter,
        'RateLimit-Limit': String(points),
        'RateLimit-Remaining': '0',
        'RateLimit-Reset': retryAfter,
      });
    }
    await next();
  };
}
