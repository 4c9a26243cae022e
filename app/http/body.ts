import { Transform, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import type { Context, Middleware, Next } from 'koa';
import bodyParser from 'koa-bodyparser';
import { AppError, validationError } from '../core/errors.js';
import type { Runtime } from '../runtime.js';
import { inputProblems } from '../schema/validators.js';

/** What @hapi/bourne, co-body's JSON parser, throws for a `__proto__` key at any depth. */
const PROTO_KEY_ERROR = 'Object contains forbidden prototype property';

/**
 * The API's JSON body: parsed, then checked at once (nesting depth, NUL, unpaired surrogates,
 * `__proto__` keys) so that nothing after it, such as the idempotency hash, ever walks a body
 * nested thousands of levels deep. Whatever goes wrong while reading it becomes an error value
 * here, where it is known to come from the body.
 */
export function jsonBody(rt: Runtime): Middleware {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: rt.config.bodyLimit, strict: true });
  // The parser calls its `next` once the body is read: a no-op keeps the route's errors out of bodyError.
  const parsed = async () => {};
  return async (ctx: Context, next: Next) => {
    // No body to read (every GET, most DELETEs): nothing to parse or check.
    if (ctx.request.length === undefined && !ctx.get('Transfer-Encoding')) return next();
    // A route that reads its body itself (routeBody) does so with its own limit.
    if (ctx.state.ownBody) return next();
    try {
      await parse(ctx, parsed);
    } catch (err) {
      throw bodyError(ctx, err);
    }
    const problems = inputProblems((ctx.request as { body?: unknown }).body, '/body');
    if (problems.length) throw validationError(problems);
    await next();
  };
}

/**
 * The parser's failures (co-body, raw-body, inflation, zlib) as error values. Only the parser's
 * own errors carry a status; a stream error without one, on a compressed body, is zlib's.
 */
function bodyError(ctx: Context, err: unknown): unknown {
  const e = err as { status?: number; message?: string };
  const encoding = ctx.get('Content-Encoding') || 'identity';
  if (e.status === 413) return new AppError('payload_too_large', 'The request body is too large');
  if (e.status === 415) return new AppError('unsupported_media_type', `Content-Encoding '${encoding.slice(0, 40)}' is not supported: send gzip, deflate, br or identity`);
  if (e.status === 400 && err instanceof SyntaxError) {
    if (e.message === PROTO_KEY_ERROR) return validationError([{ path: '/body', message: "must not contain a '__proto__' key" }], 'The request body is not valid');
    return validationError([{ path: '/body', message: 'is not valid JSON' }], 'The request body is not valid JSON');
  }
  if (e.status === undefined && encoding !== 'identity') {
    return validationError([{ path: '/body', message: `could not be decompressed as ${encoding}` }], 'The request body is not valid compressed data');
  }
  // Aborted, or shorter or longer than its Content-Length.
  if (e.status !== undefined && e.status >= 400 && e.status < 500) return new AppError('bad_request', 'The request body could not be read');
  return err;
}

/**
 * The body of a plugin route that declares its own (PluginRoute.body): JSON checked as above, or
 * text of the media types it names (`text/csv`), each up to the route's own limit. The API's JSON
 * parser skips such routes (ctx.state.ownBody, set by a marker route in front of it).
 */
export function routeBody(spec: { limit: string; text?: readonly string[]; stream?: boolean }): Middleware {
  const text = [...(spec.text ?? [])];
  if (spec.stream) return streamedBody(spec.limit, text);
  const parse = bodyParser({
    enableTypes: text.length ? ['json', 'text'] : ['json'],
    jsonLimit: spec.limit,
    textLimit: spec.limit,
    strict: true,
    extendTypes: text.length ? { text } : undefined,
  });
  const parsed = async () => {};
  return async (ctx: Context, next: Next) => {
    if (ctx.request.length === undefined && !ctx.get('Transfer-Encoding')) return next();
    if (!ctx.request.is('json', ...text)) {
      throw validationError([{ path: '/body', message: `must be JSON${text.length ? ` or ${text.join(', ')}` : ''} (Content-Type)` }]);
    }
    try {
      await parse(ctx, parsed);
    } catch (err) {
      throw bodyError(ctx, err);
    }
    const body = (ctx.request as { body?: unknown }).body;
    if (typeof body === 'string') {
      ctx.state.text = body;
      (ctx.request as { body?: unknown }).body = undefined;
    } else {
      const problems = inputProblems(body, '/body');
      if (problems.length) throw validationError(problems);
    }
    await next();
  };
}

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/** A size such as `500mb` (the notation of the other body limits) in bytes. */
export function byteLimit(limit: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?\s*$/i.exec(limit);
  if (!m) throw new Error(`'${limit}' is not a size such as 500mb`);
  return Math.floor(Number(m[1]) * UNITS[(m[2] ?? 'b').toLowerCase()]);
}

const DECODERS: Record<string, () => Transform> = { gzip: zlib.createGunzip, 'x-gzip': zlib.createGunzip, deflate: zlib.createInflate, br: zlib.createBrotliDecompress };

/**
 * A body the route parses as it arrives (PluginRoute.body.stream), so that a large one is never
 * held whole: handed over as `ctx.state.bodyStream`, decompressed, cut off at the limit, and
 * failing only with error values (413, 400 bad_request or validation_error), never a bare error.
 */
function streamedBody(limit: string, text: string[]): Middleware {
  const max = byteLimit(limit);
  return async (ctx: Context, next: Next) => {
    if (ctx.request.length === undefined && !ctx.get('Transfer-Encoding')) return next();
    if (!ctx.request.is('json', ...text)) {
      throw validationError([{ path: '/body', message: `must be JSON${text.length ? ` or ${text.join(', ')}` : ''} (Content-Type)` }]);
    }
    if (ctx.request.length !== undefined && ctx.request.length > max) throw new AppError('payload_too_large', 'The request body is too large');
    const encoding = (ctx.get('Content-Encoding') || 'identity').toLowerCase();
    const decoder = encoding === 'identity' ? undefined : DECODERS[encoding];
    if (encoding !== 'identity' && !decoder) throw bodyError(ctx, Object.assign(new Error('unsupported encoding'), { status: 415 }));
    let seen = 0;
    const out = new Transform({
      transform(chunk: Buffer, _enc, done) {
        seen += chunk.length;
        if (seen > max) done(new AppError('payload_too_large', 'The request body is too large'));
        else done(null, chunk);
      },
    });
    const fail = (status: number | undefined) => (err: unknown) => {
      if (out.destroyed) return;
      out.destroy(err instanceof AppError ? err : (bodyError(ctx, Object.assign(err as Error, { status: (err as { status?: number }).status ?? status })) as Error));
    };
    const source: Readable = decoder ? ctx.req.pipe(decoder()) : ctx.req;
    // An aborted upload (400 bad_request); a decoder's failure is the body's (validation_error).
    ctx.req.on('error', fail(400));
    ctx.req.on('aborted', () => fail(400)(new Error('aborted')));
    if (decoder) source.on('error', fail(undefined));
    source.pipe(out);
    ctx.state.bodyStream = out;
    await next();
  };
}
