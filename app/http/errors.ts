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

/** Errors from the body parser and Koa itself, mapped onto the stable codes. */
function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = err as { status?: number; type?: string; expose?: boolean; message?: string };
  if (e.status === 413 || e.type === 'entity.too.large') return new AppError('payload_too_large', 'The request body is too large');
  if (e.status === 400 && (e.type === 'entity.parse.failed' || /JSON/i.test(e.message ?? ''))) {
    return new AppError('validation_error', 'The request body is not valid JSON', [{ path: '/body', message: 'is not valid JSON' }]);
  }
  if (e.status === 415 || e.type === 'unsupported') return new AppError('validation_error', 'The request body must be JSON (Content-Type: application/json)', [{ path: '/body', message: 'must be application/json' }]);
  return new AppError('internal_error', 'An unexpected error occurred');
}
