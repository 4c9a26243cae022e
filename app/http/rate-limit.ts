import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Context, Next } from 'koa';
import { AppError } from '../core/errors.js';
import type { Principal } from '../auth/api-keys.js';
import type { Runtime } from '../runtime.js';

/**
 * A limiter of `points` per one-minute window. With Redis the counters live there, so every
 * server process shares one limit; without it they live in this process.
 */
function perMinuteLimiter(rt: Runtime, points: number, name: string): RateLimiterAbstract {
  const options = { points, duration: 60, keyPrefix: `${rt.redisPrefix}${name}` };
  return rt.redis
    ? new RateLimiterRedis({ ...options, storeClient: rt.redis, insuranceLimiter: new RateLimiterMemory(options) })
    : new RateLimiterMemory(options);
}

/** Per-key limits over a one-minute window. */
export function rateLimitMiddleware(rt: Runtime) {
  const limiters = new Map<number, RateLimiterAbstract>();
  const limiterFor = (points: number): RateLimiterAbstract => {
    let limiter = limiters.get(points);
    if (!limiter) {
      limiter = perMinuteLimiter(rt, points, `rl:${points}`);
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

const authFailureLimiters = new WeakMap<Runtime, RateLimiterAbstract>();

/**
 * Runs an authentication and counts its failure against the client's IP: up to
 * AUTH_FAILURES_PER_MINUTE failures (default 20) are answered 401, later ones in the same minute
 * 429 with Retry-After.
 *
 * Only failures are refused: a valid key or token from a blocked IP still works. Many clients can
 * share one address (a clinic's NAT, or every client when a proxy hides them and TRUST_PROXY is
 * off), and anyone sending bad keys must not lock them all out. The limit therefore does not stop
 * someone from trying candidates (a valid one still succeeds); that protection is the keys' 238
 * random bits and the tokens' signatures. It turns a flood of bad credentials into 429s that
 * well-behaved clients back off from and that monitoring can count.
 */
export async function limitAuthFailures<T>(rt: Runtime, ip: string, authenticate: () => Promise<T>): Promise<T> {
  try {
    return await authenticate();
  } catch (err) {
    if (!(err instanceof AppError) || err.code !== 'unauthorized') throw err;
    let limiter = authFailureLimiters.get(rt);
    if (!limiter) authFailureLimiters.set(rt, (limiter = perMinuteLimiter(rt, rt.config.authFailuresPerMinute, 'auth-fail')));
    try {
      await limiter.consume(ip || 'unknown');
    } catch (refused) {
      if (!(refused instanceof RateLimiterRes)) throw refused;
      const retryAfter = String(Math.max(1, Math.ceil(refused.msBeforeNext / 1000)));
      throw new AppError('rate_limit_exceeded', `Too many failed authentications from this address; retry in ${retryAfter} s`, undefined, { 'Retry-After': retryAfter });
    }
    throw err;
  }
}
