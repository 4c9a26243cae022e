// Errors are values with a stable code. Operations throw them; one HTTP middleware maps them.
// The catalogue below is the core's; plugins add their own codes (definePlugin({errors})) and a
// code must be in the catalogue before an error may carry it.

export const CORE_ERRORS = {
  bad_request: { status: 400, description: 'The request could not be read (a malformed body or request line).' },
  invalid_id: { status: 400, description: 'An id in the path is not a UUID.' },
  validation_error: { status: 400, description: 'The request does not match the schema; `details` lists each problem with its JSON path.' },
  invalid_cursor: { status: 400, description: 'The `after` cursor is malformed or was made for another sort.' },
  unauthorized: { status: 401, description: 'Missing, invalid, expired or revoked credentials.' },
  forbidden: { status: 403, description: 'The credentials lack a scope the operation needs.' },
  not_found: { status: 404, description: 'No such record (or it belongs to another organization).' },
  method_not_allowed: { status: 405, description: 'The path exists but not with this method.' },
  request_timeout: { status: 408, description: 'The request was not received in time.' },
  version_conflict: { status: 409, description: 'The record changed since the base version sent.' },
  duplicate: { status: 409, description: 'A unique field already has this value.' },
  idempotency_conflict: { status: 409, description: 'The Idempotency-Key was used for another request, or its first request is still running.' },
  payload_too_large: { status: 413, description: 'The request body is over the size limit.' },
  unsupported_media_type: { status: 415, description: 'The body is not JSON, or uses a Content-Encoding the API does not accept.' },
  headers_too_large: { status: 431, description: 'The request line or headers are over the size limit.' },
  invalid_transition: { status: 422, description: 'The state change is not allowed from the current state.' },
  unprocessable: { status: 422, description: 'The request is well-formed but cannot be applied (a missing referenced record, …).' },
  rate_limit_exceeded: { status: 429, description: 'Too many requests; retry after `Retry-After` seconds.' },
  internal_error: { status: 500, description: 'An unexpected error; nothing was changed.' },
  not_implemented: { status: 501, description: 'The method is not supported by this server.' },
  service_unavailable: { status: 503, description: 'A dependency (database, Redis) is unavailable.' },
} as const satisfies Record<string, ErrorCodeInfo>;

export interface ErrorCodeInfo {
  status: number;
  description: string;
}

export type CoreErrorCode = keyof typeof CORE_ERRORS;
/** A core code, or one a plugin registered. */
export type ErrorCode = CoreErrorCode | (string & {});

// A plugin may reach this module through another path (its own copy of the package, a loader
// that instantiates it twice): the catalogue and the error brand are process-wide, so its errors
// are recognized and its codes known wherever they are checked.
const CATALOGUE_KEY = Symbol.for('emr.errors.catalogue');
const APP_ERROR_BRAND = Symbol.for('emr.errors.AppError');
const catalogue: Map<string, ErrorCodeInfo> = ((globalThis as Record<symbol, unknown>)[CATALOGUE_KEY] as Map<string, ErrorCodeInfo> | undefined)
  ?? ((globalThis as Record<symbol, unknown>)[CATALOGUE_KEY] = new Map<string, ErrorCodeInfo>(Object.entries(CORE_ERRORS))) as Map<string, ErrorCodeInfo>;

/** Adds a plugin's codes. A code may be registered again only with the same status. */
export function registerErrorCodes(codes: Record<string, ErrorCodeInfo>, owner: string): void {
  for (const [code, info] of Object.entries(codes)) {
    if (!/^[a-z][a-z0-9_]*$/.test(code)) throw new Error(`${owner}: error code '${code}' must be snake_case`);
    if (!Number.isInteger(info.status) || info.status < 400 || info.status > 599) throw new Error(`${owner}: error code '${code}' needs a 4xx or 5xx status`);
    const existing = catalogue.get(code);
    if (existing && existing.status !== info.status) throw new Error(`${owner}: error code '${code}' is already registered with status ${existing.status}`);
    catalogue.set(code, info);
  }
}

export function errorCatalogue(): ReadonlyMap<string, ErrorCodeInfo> {
  return catalogue;
}

export function statusOf(code: string): number {
  return catalogue.get(code)?.status ?? 500;
}

/** One problem with one input value; `path` is a JSON pointer such as `/body/email` or `/query/sort`. */
export interface ErrorDetail {
  path: string;
  message: string;
  [key: string]: unknown;
}

export class AppError extends Error {
  static [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[APP_ERROR_BRAND] === true;
  }

  readonly [APP_ERROR_BRAND] = true;
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    if (!catalogue.has(code)) throw new Error(`error code '${code}' is not in the catalogue`);
    this.status = statusOf(code);
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const validationError = (details: ErrorDetail[], message = 'The request is not valid') =>
  new AppError('validation_error', message, details);
