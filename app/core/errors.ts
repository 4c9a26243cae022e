// Errors are values with a stable code. Operations throw them; one HTTP middleware maps them.

export type ErrorCode =
  | 'bad_request'
  | 'invalid_id'
  | 'validation_error'
  | 'invalid_cursor'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'request_timeout'
  | 'version_conflict'
  | 'duplicate'
  | 'idempotency_conflict'
  | 'invalid_transition'
  | 'unprocessable'
  | 'payload_too_large'
  | 'headers_too_large'
  | 'unsupported_media_type'
  | 'rate_limit_exceeded'
  | 'service_unavailable'
  | 'not_implemented'
  | 'internal_error';

export const STATUS_BY_CODE: Record<ErrorCode, number> = {
  bad_request: 400,
  invalid_id: 400,
  validation_error: 400,
  invalid_cursor: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  version_conflict: 409,
  duplicate: 409,
  idempotency_conflict: 409,
  invalid_transition: 422,
  unprocessable: 422,
  payload_too_large: 413,
  headers_too_large: 431,
  unsupported_media_type: 415,
  rate_limit_exceeded: 429,
  service_unavailable: 503,
  not_implemented: 501,
  internal_error: 500,
};

/** One problem with one input value; `path` is a JSON pointer such as `/body/email` or `/query/sort`. */
export interface ErrorDetail {
  path: string;
  message: string;
  [key: string]: unknown;
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.status = STATUS_BY_CODE[code];
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const validationError = (details: ErrorDetail[], message = 'The request is not valid') =>
  new AppError('validation_error', message, details);
