import type { Context, Next } from 'koa';
import { AppError } from '../core/errors.js';

/** The only place errors become HTTP: the documented envelope, never a stack trace. */
export function errorMiddleware() {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new AppError('not_found', `No route for ${ctx.method} ${ctx.path}`);
      if (ctx.status === 405 && ctx.body === undefined) throw new AppError('method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`);
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

/** Anything that is not an error value is a bug: answered as internal_error, never with its message. */
function toAppError(err: unknown): AppError {
  return err instanceof AppError ? err : new AppError('internal_error', 'An unexpected error occurred');
}
