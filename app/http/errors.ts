import type { Context, Next } from 'koa';
import { AppError } from '../core/errors.js';

/** The only place errors become HTTP: the documented envelope, never a stack trace. */
export function errorMiddleware() {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new AppError('not_found', `No route for ${ctx.method} ${ctx.path}`);
      if (ctx.status === 405 && ctx.body === undefined) throw new AppError('method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`);
      if (ctx.status === 501 && ctx.body === undefined) throw unimplementedMethod(ctx);
    } catch (err) {
      const appError = toAppError(err);
      if (appError.status >= 500) ctx.state.log?.error({ err }, 'request failed');
      ctx.status = appError.status;
      if (appError.headers) ctx.set(appError.headers);
      ctx.body = {
        error: appError.code,
        message: appError.message,
        ...(appError.details?.length ? { details: appError.details } : {}),
        request_id: ctx.state.requestId,
      };
    }
  };
}

/**
 * The router answers a method it does not implement at all (PROPFIND, TRACE…) with a bare 501.
 * Where the path exists that is a method not allowed there, with the methods that are.
 */
function unimplementedMethod(ctx: Context): AppError {
  const allow = ctx.response.get('Allow');
  if (allow) return new AppError('method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`, undefined, { Allow: allow });
  ctx.remove('Allow');
  return new AppError('not_implemented', `${ctx.method} is not a method this API implements`);
}

/** Anything that is not an error value is a bug: answered as internal_error, never with its message. */
function toAppError(err: unknown): AppError {
  return err instanceof AppError ? err : new AppError('internal_error', 'An unexpected error occurred');
}
