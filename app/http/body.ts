import type { Context, Middleware, Next } from 'koa';
import bodyParser from 'koa-bodyparser';
import { validationError } from '../core/errors.js';
import type { Runtime } from '../runtime.js';
import { inputProblems } from '../schema/validators.js';

/**
 * The API's JSON body: parsed, then checked at once (nesting depth, NUL, unpaired surrogates,
 * `__proto__` keys) so that nothing after it, such as the idempotency hash, ever walks a body
 * nested thousands of levels deep.
 */
export function jsonBody(rt: Runtime): Middleware {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: rt.config.bodyLimit, strict: true });
  const parsed = async () => {};
  return async (ctx: Context, next: Next) => {
    await parse(ctx, parsed);
    const problems = inputProblems((ctx.request as { body?: unknown }).body, '/body');
    if (problems.length) throw validationError(problems);
    await next();
  };
}
