import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { AppError } from '../core/errors.js';
import { loggableError } from '../core/loggable-error.js';

/** The documented error body. */
function envelope(appError: AppError, requestId: string) {
  return {
    error: appError.code,
    message: appError.message,
    ...(appError.details?.length ? { details: appError.details } : {}),
    request_id: requestId,
  };
}

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
      if (appError.status >= 500) {
        // The request id comes with the request's logger; nothing that can quote stored values does.
        ctx.state.log?.error({ error: appError.code, route: (ctx as { _matchedRoute?: string })._matchedRoute ?? 'unmatched', err: loggableError(err) }, 'request failed');
      }
      ctx.status = appError.status;
      if (appError.headers) ctx.set(appError.headers);
      ctx.body = envelope(appError, ctx.state.requestId);
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

/** What Node's HTTP parser refused, as an error value. */
function parserError(code: string | undefined): AppError {
  if (code === 'HPE_HEADER_OVERFLOW') return new AppError('headers_too_large', 'The request headers (or the URL) are larger than the server accepts');
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return new AppError('request_timeout', 'The request was not received in time');
  return new AppError('bad_request', 'The request is not well-formed HTTP');
}

/** Writes the envelope straight to a socket that Koa never saw, and closes it. */
function answerOnSocket(socket: Duplex, appError: AppError, logger: Logger, parserCode?: string): void {
  const requestId = uuidv7();
  const body = JSON.stringify(envelope(appError, requestId));
  logger.info({ request_id: requestId, status: appError.status, error: appError.code, parser_code: parserCode }, 'request refused before routing');
  socket.end(
    [
      `HTTP/1.1 ${appError.status} ${STATUS_CODES[appError.status]}`,
      'Content-Type: application/json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      `X-Request-Id: ${requestId}`,
      'X-Content-Type-Options: nosniff',
      "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'",
      'Connection: close',
      '',
      body,
    ].join('\r\n'),
  );
}

/**
 * The server's `clientError` listener: Node's HTTP parser refuses some requests (a URL or header
 * over 16 KB, a bad byte in the request line) before Koa runs, and by default answers them with
 * an empty body. This answers with the envelope and a request id instead.
 */
export function clientErrorListener(logger: Logger) {
  return (err: NodeJS.ErrnoException, socket: Duplex) => {
    // Nothing can be sent on a reset or closed connection, nor once a response has begun on it.
    const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    answerOnSocket(socket, parserError(err.code), logger, err.code);
  };
}

/** The server's `connect` listener: Node hands CONNECT to it, not to Koa, and without one just closes the connection. */
export function connectListener(logger: Logger) {
  return (_req: unknown, socket: Duplex) => {
    if (!socket.writable) return void socket.destroy();
    answerOnSocket(socket, new AppError('not_implemented', 'CONNECT is not a method this API implements'), logger);
  };
}
