// The error part of the document: the Error schema, one reusable response per HTTP status with
// an example of each error code it carries, and the rate-limit headers.

import { errorCatalogue, statusOf } from '../core/errors.js';
import { JSON_TYPE, headerRef, responseRef, schemaRef, type Obj } from './common.js';

/** Names and descriptions of the reusable error responses, by HTTP status. */
const RESPONSES_BY_STATUS: Record<number, { name: string; description: string }> = {
  400: { name: 'BadRequest', description: 'The request is not valid: a body or query problem (`details` lists each one with its JSON path), an id that is not a UUID, or a malformed cursor.' },
  401: { name: 'Unauthorized', description: 'No credentials, or an API key / token that is unknown, expired or revoked.' },
  403: { name: 'Forbidden', description: 'The credentials do not carry the scope this operation needs.' },
  404: { name: 'NotFound', description: 'The record (or organization, or parent record) does not exist or is not visible to the caller. A record of another organization is always `not_found`.' },
  405: { name: 'MethodNotAllowed', description: 'The route exists but does not answer this HTTP method.' },
  408: { name: 'RequestTimeout', description: 'The request was not received in time.' },
  409: { name: 'Conflict', description: 'A stale `base_version` / `If-Match` (`version_conflict`, with the current version in `details`), a unique value already taken (`duplicate`), or an `Idempotency-Key` reused with a different body (`idempotency_conflict`).' },
  413: { name: 'PayloadTooLarge', description: 'The request body is too large.' },
  415: { name: 'UnsupportedMediaType', description: 'The body is not JSON, or uses a Content-Encoding the API does not accept.' },
  422: { name: 'Unprocessable', description: 'The request is well-formed but cannot be applied: a referenced record does not exist, a state transition is not allowed, or (restore) the record is not archived.' },
  429: { name: 'TooManyRequests', description: 'The rate limit of the API key is exhausted; retry after `Retry-After` seconds.' },
  431: { name: 'HeadersTooLarge', description: 'The request line or headers are over the size limit.' },
  500: { name: 'InternalError', description: 'An unexpected error; the message never leaks internals. Quote the `request_id` when reporting it.' },
  501: { name: 'NotImplemented', description: 'The method is not one this API implements.' },
  503: { name: 'ServiceUnavailable', description: 'The service (or one of its dependencies) is unavailable.' },
};

/** One reusable response per status of the error catalogue (core and plugin codes alike). */
function errorResponses(): { name: string; status: number; description: string }[] {
  const statuses = [...new Set([...errorCatalogue().values()].map((info) => info.status))].sort((a, b) => a - b);
  return statuses.map((status) => {
    const known = RESPONSES_BY_STATUS[status];
    if (known) return { status, ...known };
    const descriptions = [...errorCatalogue().values()].filter((info) => info.status === status).map((info) => info.description);
    return { status, name: `Status${status}`, description: descriptions.join(' ') };
  });
}

/** Example messages; a code without one (a plugin's) shows its catalogue description. */
const ERROR_MESSAGES: Record<string, string> = {
  bad_request: 'The request body could not be read',
  invalid_id: "'123' is not a valid id: ids are UUIDs",
  validation_error: 'The request is not valid',
  invalid_cursor: 'The cursor is invalid or malformed',
  unauthorized: 'Missing or invalid credentials',
  forbidden: "This key may not read patients: it needs the 'patients:read' scope",
  not_found: 'Patient not found',
  method_not_allowed: 'Method not allowed',
  request_timeout: 'The request was not received in time',
  version_conflict: 'The record has changed since version 3: it is now at version 4',
  duplicate: 'A patient with this chart_number already exists',
  idempotency_conflict: 'The Idempotency-Key was already used with a different request body',
  invalid_transition: 'The status cannot change from closed to pending',
  unprocessable: 'A referenced record does not exist',
  payload_too_large: 'The request body is too large',
  headers_too_large: 'The request headers (or the URL) are too large',
  unsupported_media_type: "Content-Encoding 'compress' is not supported: send gzip, deflate, br or identity",
  rate_limit_exceeded: 'Rate limit exceeded',
  service_unavailable: 'The service is unavailable',
  not_implemented: 'PROPFIND is not a method this API implements',
  internal_error: 'An unexpected error occurred',
};

function errorResponse(status: number, description: string): Obj {
  const codes = [...errorCatalogue()].filter(([, info]) => info.status === status).map(([code]) => code);
  const examples: Obj = {};
  for (const code of codes) {
    const value: Obj = { error: code, message: ERROR_MESSAGES[code] ?? errorCatalogue().get(code)!.description, request_id: '01J8Z3V4Q2K7M5N6P8R9S0T1U2' };
    if (code === 'validation_error') value.details = [{ path: '/body/last_name', message: 'must NOT have fewer than 1 characters' }];
    if (code === 'version_conflict') value.details = [{ path: '/body/base_version', message: 'current version is 4', current_version: 4 }];
    examples[code] = { summary: code, value };
  }
  const response: Obj = {
    description: `${description} Error codes: ${codes.map((c) => `\`${c}\``).join(', ')}.`,
    content: {
      [JSON_TYPE]: {
        schema: { allOf: [schemaRef('Error')], properties: { error: { enum: codes } } },
        examples,
      },
    },
  };
  if (status === 429) {
    response.headers = {
      'Retry-After': headerRef('RetryAfter'),
      'RateLimit-Limit': headerRef('RateLimitLimit'),
      'RateLimit-Remaining': headerRef('RateLimitRemaining'),
      'RateLimit-Reset': headerRef('RateLimitReset'),
    };
  }
  if (status === 401) response.headers = { 'WWW-Authenticate': { description: 'The authentication scheme: `Bearer`.', schema: { type: 'string' } } };
  return response;
}

export function errorComponents(): { schemas: Obj; responses: Obj; headers: Obj } {
  const codes = [...errorCatalogue().keys()];
  const schemas: Obj = {
    ErrorDetail: {
      type: 'object',
      description: 'One problem with one input value.',
      properties: {
        path: { type: 'string', description: 'JSON pointer of the offending value, e.g. `/body/email` or `/query/sort`.', examples: ['/body/email'] },
        message: { type: 'string', description: 'What is wrong with it.', examples: ['must match format "email"'] },
      },
      required: ['path', 'message'],
      additionalProperties: true,
    },
    Error: {
      type: 'object',
      description: 'The body of every error response.',
      properties: {
        error: { type: 'string', enum: codes, description: 'A stable, machine-readable error code.' },
        message: { type: 'string', description: 'A human-readable explanation.' },
        details: { type: 'array', items: schemaRef('ErrorDetail'), description: 'Each individual problem (validation errors, version conflicts, …).' },
        request_id: { type: 'string', description: 'Id of the request, also in the audit trail and the logs.' },
      },
      required: ['error', 'message', 'request_id'],
      additionalProperties: false,
    },
  };
  const responses: Obj = {};
  for (const r of errorResponses()) responses[r.name] = errorResponse(r.status, r.description);
  const headers: Obj = {
    RetryAfter: { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } },
    RateLimitLimit: { description: 'Requests allowed per window (per minute by default).', schema: { type: 'integer', minimum: 0 } },
    RateLimitRemaining: { description: 'Requests left in the current window.', schema: { type: 'integer', minimum: 0 } },
    RateLimitReset: { description: 'Seconds until the current window resets.', schema: { type: 'integer', minimum: 0 } },
    ETag: { description: 'Weak validator of the record version, `W/"<version>"`; send it back in `If-Match` to update safely.', schema: { type: 'string', pattern: '^W/"\\d+"$' } },
  };
  return { schemas, responses, headers };
}

export const errorRefs = (...statuses: number[]): Obj => {
  const out: Obj = {};
  for (const status of statuses) {
    const r = errorResponses().find((e) => e.status === status);
    if (!r) throw new Error(`no error response for status ${status}`);
    out[String(status)] = responseRef(r.name);
  }
  return out;
};

export function isErrorCode(code: string): boolean {
  return errorCatalogue().has(code);
}

/** The reusable error responses of these statuses and of the statuses of these error codes. */
export function errorRefsWithCodes(statuses: readonly number[], codes: readonly string[]): Obj {
  const all = new Set([...statuses, ...codes.map(statusOf)]);
  return errorRefs(...[...all].sort((a, b) => a - b));
}
