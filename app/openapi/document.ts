// The OpenAPI 3.1 document of the API, generated from the exposed definitions of a registry.
// Schemas come from app/schema/json-schema.ts (the same ones Ajv validates with), so the document
// can never drift from what the server accepts and returns.

import { readFileSync } from 'node:fs';
import { errorCatalogue } from '../core/errors.js';
import type { Registry } from '../core/registry.js';
import type { ResolvedDefinition } from '../core/types.js';
import {
  createSchema,
  filterParams,
  getQuerySchema,
  listQuerySchema,
  outputSchema,
  updateSchema,
  type JsonSchema,
} from '../schema/json-schema.js';

type Obj = Record<string, any>;

export interface OpenApiOptions {
  /** `servers[0].url`; defaults to `/` (the host serving the document). */
  serverUrl?: string;
}

const JSON_TYPE = 'application/json';

let packageVersion: string | undefined;
function apiVersion(): string {
  if (packageVersion === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
      packageVersion = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
    } catch {
      packageVersion = '0.0.0';
    }
  }
  return packageVersion!;
}

const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const responseRef = (name: string) => ({ $ref: `#/components/responses/${name}` });
const paramRef = (name: string) => ({ $ref: `#/components/parameters/${name}` });
const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });

/** A deep copy without `undefined` values (the document is served as JSON). */
function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** Reusable error responses, one per HTTP status the API answers with. */
const ERROR_RESPONSES: { name: string; status: number; description: string }[] = [
  { name: 'BadRequest', status: 400, description: 'The request is not valid: a body or query problem (`details` lists each one with its JSON path), an id that is not a UUID, or a malformed cursor.' },
  { name: 'Unauthorized', status: 401, description: 'No credentials, or an API key / token that is unknown, expired or revoked.' },
  { name: 'Forbidden', status: 403, description: 'The credentials do not carry the scope this operation needs.' },
  { name: 'NotFound', status: 404, description: 'The record (or organization, or parent record) does not exist or is not visible to the caller. A record of another organization is always `not_found`.' },
  { name: 'Conflict', status: 409, description: 'A stale `base_version` / `If-Match` (`version_conflict`, with the current version in `details`), a unique value already taken (`duplicate`), or an `Idempotency-Key` reused with a different body (`idempotency_conflict`).' },
  { name: 'PayloadTooLarge', status: 413, description: 'The request body is too large.' },
  { name: 'Unprocessable', status: 422, description: 'The request is well-formed but cannot be applied: a referenced record does not exist, a state transition is not allowed, or (restore) the record is not archived.' },
  { name: 'TooManyRequests', status: 429, description: 'The rate limit of the API key is exhausted; retry after `Retry-After` seconds.' },
  { name: 'InternalError', status: 500, description: 'An unexpected error; the message never leaks internals. Quote the `request_id` when reporting it.' },
  { name: 'ServiceUnavailable', status: 503, description: 'The service (or one of its dependencies) is unavailable.' },
];

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
  const codes = [...errorCatalogue()].filter(([, info]) => info.status === status).map(([c]) => c);
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

function errorComponents(): { schemas: Obj; responses: Obj; headers: Obj } {
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
  for (const r of ERROR_RESPONSES) responses[r.name] = errorResponse(r.status, r.description);
  const headers: Obj = {
    RetryAfter: { description: 'Seconds to wait before retrying.', schema: { type: 'integer', minimum: 0 } },
    RateLimitLimit: { description: 'Requests allowed per window (per minute by default).', schema: { type: 'integer', minimum: 0 } },
    RateLimitRemaining: { description: 'Requests left in the current window.', schema: { type: 'integer', minimum: 0 } },
    RateLimitReset: { description: 'Seconds until the current window resets.', schema: { type: 'integer', minimum: 0 } },
    ETag: { description: 'Weak validator of the record version, `W/"<version>"`; send it back in `If-Match` to update safely.', schema: { type: 'string', pattern: '^W/"\\d+"$' } },
  };
  return { schemas, responses, headers };
}

const errorRefs = (...statuses: number[]): Obj => {
  const out: Obj = {};
  for (const status of statuses) {
    const r = ERROR_RESPONSES.find((e) => e.status === status);
    if (!r) throw new Error(`no error response for status ${status}`);
    out[String(status)] = responseRef(r.name);
  }
  return out;
};

// ---------------------------------------------------------------------------------------------
// Names

/** `Patient` → `Patients`, `Category` → `Categories`, `Address` → `Addresses`. */
export function plural(word: string): string {
  if (/[^aeiou]y$/i.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/i.test(word)) return `${word}es`;
  return `${word}s`;
}

/** Path parameter of a parent record: `ticket` → `ticket_id`. */
export const parentParamName = (resource: string) => `${resource.replace(/-/g, '_')}_id`;

const label = (def: ResolvedDefinition) => def.name.replace(/-/g, ' ');

/** The collection path of a definition, e.g. `/api/v1/{org}/tickets/{ticket_id}/comments`. */
export function collectionPath(registry: Registry, def: ResolvedDefinition): string {
  if (def.parent) {
    const parent = registry.get(def.parent.resource);
    return `${collectionPath(registry, parent)}/{${parentParamName(parent.name)}}/${def.path}`;
  }
  return def.tenant ? `/api/v1/{org}/${def.path}` : `/api/v1/${def.path}`;
}

// ---------------------------------------------------------------------------------------------
// Schemas of one definition

/** Adds `examples` from the definition's field examples to a copy of a generated object schema. */
function withExamples(def: ResolvedDefinition, schema: JsonSchema): JsonSchema {
  const out = clone(schema);
  for (const [name, prop] of Object.entries(out.properties ?? {}) as [string, Obj][]) {
    const field = def.fields[name];
    if (field?.example !== undefined && prop.examples === undefined) prop.examples = [field.example];
    if (field?.sensitive) {
      prop['x-sensitive'] = true;
      const note = `Sensitive: returned only with the \`${def.scope}:sensitive\` scope.`;
      if (!String(prop.description ?? '').includes(`${def.scope}:sensitive`)) {
        prop.description = prop.description ? `${prop.description} ${note}` : note;
      }
    }
  }
  return out;
}

function resourceSchemas(registry: Registry, def: ResolvedDefinition, exposed: Set<string>): Obj {
  const output = withExamples(def, outputSchema(def));
  if (def.description) output.description = def.description;
  // Relations embedded with ?include= (outputSchema forbids additional properties).
  for (const [rel, bt] of Object.entries(def.belongsTo)) {
    const target = registry.get(bt.resource);
    const embedded = exposed.has(target.name) ? schemaRef(target.subject) : { type: 'object' };
    output.properties[rel] = {
      description: `The ${label(target)} referenced by \`${bt.field}\`; present only with \`?include=${rel}\` (null when \`${bt.field}\` is null).`,
      readOnly: true,
      oneOf: [embedded, { type: 'null' }],
    };
  }
  for (const [rel, hm] of Object.entries(def.hasMany ?? {})) {
    const child = registry.get(hm.resource);
    const items = exposed.has(child.name) ? schemaRef(child.subject) : { type: 'object' };
    output.properties[rel] = {
      description: `The ${plural(label(child))} whose \`${hm.foreignKey}\` is this record; present only with \`?include=${rel}\`.`,
      readOnly: true,
      type: 'array',
      items,
    };
  }

  const create = withExamples(def, createSchema(def));
  create.description = `The body that creates a ${label(def)}. Unknown and read-only fields are rejected with 400.`;
  const update = withExamples(def, updateSchema(def));
  update.description = `A partial update of a ${label(def)}: only the fields sent change; \`null\` or an empty string clears an optional field.${
    def.requireBaseVersion ? ' `base_version` (or an `If-Match` header) is required.' : ''
  }`;
  return { [def.subject]: output, [`${def.subject}Create`]: create, [`${def.subject}Update`]: update };
}

// ---------------------------------------------------------------------------------------------
// Parameters

const OP_TEXT: Record<string, string> = {
  eq: 'equals',
  ne: 'is not',
  gt: 'is greater than',
  gte: 'is at least',
  lt: 'is less than',
  lte: 'is at most',
  in: 'is one of (comma-separated list)',
  like: "contains the value (case-insensitive); a value with '%' is used as the whole LIKE pattern",
  null: 'is null (`true`) or is not null (`false`)',
};

function queryParameters(def: ResolvedDefinition, query: JsonSchema, extraDescriptions: Record<string, string> = {}): Obj[] {
  const filters = new Map(filterParams(def).map((f) => [f.name, f]));
  const params: Obj[] = [];
  for (const [name, raw] of Object.entries(query.properties ?? {}) as [string, Obj][]) {
    const schema = clone(raw);
    let description: string | undefined = schema.description;
    delete schema.description;
    const filter = filters.get(name);
    if (filter) {
      description = `Filter: \`${filter.field}\` ${OP_TEXT[filter.op] ?? filter.op}.`;
      if (def.sensitiveFields.includes(filter.field)) description += ` Needs the \`${def.scope}:sensitive\` scope.`;
    }
    if (extraDescriptions[name]) description = description ? `${description} ${extraDescriptions[name]}` : extraDescriptions[name];
    const param: Obj = { name, in: 'query', required: false, schema };
    if (description) param.description = description;
    if (schema.type === 'array') {
      param.style = 'form';
      param.explode = false;
    }
    params.push(param);
  }
  return params;
}

function queryHelp(def: ResolvedDefinition): Record<string, string> {
  const relations = [...Object.keys(def.belongsTo), ...Object.keys(def.hasMany ?? {})];
  const sortable = def.columns.filter((c) => c.field.sort).map((c) => c.name);
  return {
    include: relations.length ? `Relations: ${relations.map((r) => `\`${r}\``).join(', ')}.` : 'This resource declares no relations.',
    sort: sortable.length ? `Sortable fields: ${sortable.map((s) => `\`${s}\``).join(', ')}. Default: \`${def.defaultSort}\`.` : '',
    fields: `Fields: ${def.outputFields.map((f) => `\`${f}\``).join(', ')}.`,
  };
}

function pathParameters(registry: Registry, def: ResolvedDefinition): Obj[] {
  const params: Obj[] = [];
  if (def.tenant) params.push(paramRef('Org'));
  const chain: ResolvedDefinition[] = [];
  for (let d = def; d.parent; ) {
    d = registry.get(d.parent.resource);
    chain.unshift(d);
  }
  for (const parent of chain) {
    params.push({
      name: parentParamName(parent.name),
      in: 'path',
      required: true,
      description: `Id of the parent ${label(parent)}.`,
      schema: { type: 'string', format: 'uuid' },
    });
  }
  return params;
}

// ---------------------------------------------------------------------------------------------
// Operations of one definition

function dataEnvelope(subject: string): Obj {
  return {
    type: 'object',
    properties: { data: schemaRef(subject) },
    required: ['data'],
    additionalProperties: false,
  };
}

function jsonContent(schema: Obj): Obj {
  return { [JSON_TYPE]: { schema } };
}

function scopeText(def: ResolvedDefinition, access: 'read' | 'write'): string {
  const alternatives = access === 'read' ? `\`${def.scope}:write\`, \`*:read\` or \`*\` also grant it` : '`*` also grants it';
  let text = `Requires the \`${def.scope}:${access}\` scope (${alternatives}).`;
  if (def.sensitiveFields.length) {
    text += ` Sensitive fields (${def.sensitiveFields.map((f) => `\`${f}\``).join(', ')}) are returned only with \`${def.scope}:sensitive\`; without it they are absent.`;
  }
  if (def.tenant) text += ' Only records of the organizations the credentials are bound to are visible.';
  return text;
}

function resourcePaths(registry: Registry, def: ResolvedDefinition): Record<string, Obj> {
  const base = collectionPath(registry, def);
  const tag = def.admin?.group ?? 'General';
  const one = def.subject;
  const many = plural(def.subject);
  const what = label(def);
  const baseParams = pathParameters(registry, def);
  const intro = def.description ? `${def.description}\n\n` : '';
  const parentNote = def.parent ? ` of one ${label(registry.get(def.parent.resource))}` : '';
  const security = (access: 'read' | 'write') => [{ bearerAuth: [`${def.scope}:${access}`] }];
  const describe = (text: string, access: 'read' | 'write') => `${intro}${text}\n\n${scopeText(def, access)}`;

  const collection: Obj = { parameters: baseParams };
  const item: Obj = { parameters: [...baseParams, paramRef('Id')] };
  const paths: Record<string, Obj> = { [base]: collection, [`${base}/{id}`]: item };

  collection.get = {
    operationId: `list${many}`,
    tags: [tag],
    summary: `List ${plural(what)}${parentNote}`,
    description: describe(
      `Returns a page of ${plural(what)}. Paging by \`limit\`/\`offset\` (or \`page\`/\`page_size\`), or by keyset with \`after=<page_info.end_cursor>\`. ` +
        `Filters, \`search\`, \`sort\`, \`fields\` and \`include\` as listed below; an unknown parameter is a 400.` +
        (def.archivable ? ' Archived records are left out unless `include_archived=true`.' : ''),
      'read',
    ),
    security: security('read'),
    parameters: queryParameters(def, listQuerySchema(def), queryHelp(def)),
    responses: {
      200: {
        description: `A page of ${plural(what)}.`,
        content: jsonContent(schemaRef(`${one}List`)),
      },
      ...errorRefs(400, 401, 403, 404, 429, 500),
    },
  };

  const getResponse: Obj = { description: `The ${what}.`, content: jsonContent(dataEnvelope(one)) };
  if (def.versioned) getResponse.headers = { ETag: headerRef('ETag') };
  const help = queryHelp(def);
  item.get = {
    operationId: `get${one}`,
    tags: [tag],
    summary: `Get a ${what}`,
    description: describe(
      `Returns one ${what} by id.${def.archivable ? ' An archived record answers only with `include_archived=true`.' : ''}`,
      'read',
    ),
    security: security('read'),
    parameters: queryParameters(def, getQuerySchema(def), { include: help.include, fields: help.fields }),
    responses: { 200: getResponse, ...errorRefs(400, 401, 403, 404, 429, 500) },
  };

  if (def.readOnlyResource) return paths;

  collection.post = {
    operationId: `create${one}`,
    tags: [tag],
    summary: `Create a ${what}`,
    description: describe(
      `Creates a ${what}${parentNote}. A repeat with the same \`Idempotency-Key\` and body returns the first response.`,
      'write',
    ),
    security: security('write'),
    parameters: [paramRef('IdempotencyKey')],
    requestBody: { required: true, content: jsonContent(schemaRef(`${one}Create`)) },
    responses: {
      201: { description: `The created ${what}.`, content: jsonContent(dataEnvelope(one)) },
      ...errorRefs(400, 401, 403, 404, 409, 413, 422, 429, 500),
    },
  };

  if (!def.appendOnly) {
    const updateText = (verb: string) =>
      describe(
        `${verb} Only the fields sent change. ` +
          (def.versioned
            ? `Send \`base_version\` in the body or \`If-Match: W/"<version>"\`${def.requireBaseVersion ? ' (one of them is required)' : ''}; a stale one is a 409 \`version_conflict\`.`
            : ''),
        'write',
      );
    const update = (operationId: string, summary: string, verb: string): Obj => ({
      operationId,
      tags: [tag],
      summary,
      description: updateText(verb),
      security: security('write'),
      parameters: def.versioned ? [paramRef('IfMatch')] : [],
      requestBody: { required: true, content: jsonContent(schemaRef(`${one}Update`)) },
      responses: {
        200: { description: `The updated ${what}.`, content: jsonContent(dataEnvelope(one)) },
        ...errorRefs(400, 401, 403, 404, 409, 413, 422, 429, 500),
      },
    });
    item.patch = update(`update${one}`, `Update a ${what}`, `Updates a ${what}.`);
    item.put = update(`replace${one}`, `Update a ${what} (PUT alias)`, `Same partial semantics as PATCH (PUT is accepted as an alias).`);
  }

  if (def.archivable) {
    const archiveResponses = (status: 'archived' | 'restored', ...errors: number[]): Obj => ({
      200: { description: `The ${status} ${what}.`, content: jsonContent(dataEnvelope(one)) },
      ...errorRefs(...errors),
    });
    item.delete = {
      operationId: `delete${one}`,
      tags: [tag],
      summary: `Archive (soft-delete) a ${what}`,
      description: describe(`Soft delete: sets \`deleted_at\`; nothing is hard-deleted. Same as \`POST …/{id}/archive\`.`, 'write'),
      security: security('write'),
      responses: archiveResponses('archived', 400, 401, 403, 404, 429, 500),
    };
    paths[`${base}/{id}/archive`] = {
      parameters: [...baseParams, paramRef('Id')],
      post: {
        operationId: `archive${one}`,
        tags: [tag],
        summary: `Archive a ${what}`,
        description: describe(`Sets \`deleted_at\`: the ${what} leaves default lists and GETs (see \`include_archived\`).`, 'write'),
        security: security('write'),
        responses: archiveResponses('archived', 400, 401, 403, 404, 429, 500),
      },
    };
    paths[`${base}/{id}/restore`] = {
      parameters: [...baseParams, paramRef('Id')],
      post: {
        operationId: `restore${one}`,
        tags: [tag],
        summary: `Restore an archived ${what}`,
        description: describe(`Clears \`deleted_at\`. A ${what} that is not archived is a 422 \`unprocessable\`.`, 'write'),
        security: security('write'),
        responses: archiveResponses('restored', 400, 401, 403, 404, 422, 429, 500),
      },
    };
  }
  return paths;
}

function listSchema(subject: string): Obj {
  return {
    type: 'object',
    description: `A page of ${subject} records. \`total_count\` and \`offset\` are present in offset mode; in cursor mode (\`after\`) \`total_count\` only with \`count=true\`.`,
    properties: {
      data: { type: 'array', items: schemaRef(subject) },
      total_count: { type: 'integer', minimum: 0, description: 'All records matching the filters.' },
      limit: { type: 'integer', minimum: 1, maximum: 100 },
      offset: { type: 'integer', minimum: 0 },
      page_info: schemaRef('PageInfo'),
    },
    required: ['data', 'limit', 'page_info'],
    additionalProperties: false,
  };
}

// ---------------------------------------------------------------------------------------------
// Fixed routes

function fixedPaths(): Record<string, Obj> {
  return {
    '/api/v1/auth/token': {
      post: {
        operationId: 'createAccessToken',
        tags: ['Auth'],
        summary: 'Exchange an API key for a JWT',
        description: 'Returns a JWT carrying the scopes and organizations of the API key; it is accepted like the key (`Authorization: Bearer <accessToken>`). Revoking the key invalidates its tokens.',
        security: [],
        requestBody: {
          required: true,
          content: jsonContent({
            type: 'object',
            properties: { apiKey: { type: 'string', minLength: 1, description: 'An API key, `sk_live_…`.', examples: ['sk_live_…'] } },
            required: ['apiKey'],
            additionalProperties: false,
          }),
        },
        responses: {
          200: {
            description: 'The access token.',
            content: jsonContent({
              type: 'object',
              properties: {
                accessToken: { type: 'string', description: 'The JWT.' },
                tokenType: { type: 'string', enum: ['Bearer'] },
                expiresIn: { type: 'string', description: 'Lifetime of the token.', examples: ['24h'] },
              },
              required: ['accessToken', 'tokenType', 'expiresIn'],
              additionalProperties: false,
            }),
          },
          ...errorRefs(400, 401, 413, 429, 500),
        },
      },
    },
    '/health': {
      get: {
        operationId: 'getHealth',
        tags: ['System'],
        summary: 'Health check',
        description: 'Liveness and readiness of the server and its dependencies. No authentication.',
        security: [],
        responses: {
          200: {
            description: 'The server is healthy.',
            content: jsonContent({
              type: 'object',
              properties: { status: { type: 'string', examples: ['ok'] } },
              required: ['status'],
              additionalProperties: true,
            }),
          },
          ...errorRefs(503),
        },
      },
    },
    '/metrics': {
      get: {
        operationId: 'getMetrics',
        tags: ['System'],
        summary: 'Prometheus metrics',
        description: 'Metrics in the Prometheus text exposition format. No authentication.',
        security: [],
        responses: {
          200: {
            description: 'The metrics.',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
        },
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** The `{org}` path parameter: the slug pattern of the organization definition when there is one. */
function orgSlugSchema(registry: Registry): Obj {
  const pattern = registry.has('organization') ? registry.get('organization').fields.slug?.pattern : undefined;
  return pattern ? { type: 'string', pattern } : { type: 'string' };
}

/** The complete OpenAPI 3.1.0 document for the exposed definitions of `registry`. */
export function buildOpenApiDocument(registry: Registry, opts: OpenApiOptions = {}): Record<string, unknown> {
  const defs = registry.exposed();
  const exposed = new Set(defs.map((d) => d.name));
  const errors = errorComponents();

  const schemas: Obj = {
    ...errors.schemas,
    PageInfo: {
      type: 'object',
      description: 'Keyset paging: pass `end_cursor` as `after` (with the same filters and sort) for the next page.',
      properties: {
        end_cursor: { type: ['string', 'null'], description: 'Opaque cursor of the last record of the page; null on an empty page.' },
        has_next_page: { type: 'boolean' },
      },
      required: ['end_cursor', 'has_next_page'],
      additionalProperties: false,
    },
  };
  const addSchema = (name: string, schema: Obj) => {
    if (schemas[name]) throw new Error(`OpenAPI: component schema '${name}' is generated twice`);
    schemas[name] = schema;
  };

  const paths: Record<string, Obj> = {};
  const tags = new Map<string, string>();
  const tagged = new Map<string, string[]>();
  for (const def of defs) {
    for (const [name, schema] of Object.entries(resourceSchemas(registry, def, exposed))) addSchema(name, schema);
    addSchema(`${def.subject}List`, listSchema(def.subject));
    for (const [path, item] of Object.entries(resourcePaths(registry, def))) {
      if (paths[path]) throw new Error(`OpenAPI: path '${path}' is generated twice`);
      paths[path] = item;
    }
    const group = def.admin?.group ?? 'General';
    tagged.set(group, [...(tagged.get(group) ?? []), plural(label(def))]);
  }
  for (const [group, names] of [...tagged.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    tags.set(group, `Resources: ${names.join(', ')}.`);
  }
  tags.set('Auth', 'Token exchange.');
  tags.set('System', 'Health and metrics (no authentication).');
  Object.assign(paths, fixedPaths());

  // operationIds must be unique across the document.
  const seen = new Set<string>();
  for (const item of Object.values(paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters') continue;
      const id = (op as Obj).operationId;
      if (seen.has(id)) throw new Error(`OpenAPI: operationId '${id}' is generated twice`);
      seen.add(id);
    }
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'EMR Platform API',
      version: apiVersion(),
      description:
        'The partner API of the EMR platform, generated from the resource definitions.\n\n' +
        '**Authentication**: `Authorization: Bearer <API key or JWT>`; each operation lists the scope it needs. ' +
        '**Envelopes**: one record is `{"data": {...}}`; a list is `{"data": [...], "total_count", "limit", "offset", "page_info"}`; ' +
        'an error is `{"error", "message", "details", "request_id"}`. ' +
        '**Rate limits**: 100 requests/minute per key by default; a 429 carries `Retry-After` and `RateLimit-*` headers.',
    },
    servers: [{ url: opts.serverUrl ?? '/' }],
    tags: [...tags.entries()].map(([name, description]) => ({ name, description })),
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      schemas,
      responses: errors.responses,
      headers: errors.headers,
      parameters: {
        Org: {
          name: 'org',
          in: 'path',
          required: true,
          description: 'Slug of the organization, e.g. `demo-clinic`.',
          schema: orgSlugSchema(registry),
        },
        Id: {
          name: 'id',
          in: 'path',
          required: true,
          description: 'Id of the record (a UUID; anything else is a 400 `invalid_id`).',
          schema: { type: 'string', format: 'uuid' },
        },
        IdempotencyKey: {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          description: 'Makes the create safe to retry: a repeat with the same body returns the first response; the same key with another body is a 409 `idempotency_conflict`.',
          schema: { type: 'string', minLength: 1, maxLength: 255 },
        },
        IfMatch: {
          name: 'If-Match',
          in: 'header',
          required: false,
          description: 'The `ETag` of the version the change is based on (`W/"<version>"`); a stale one is a 409 `version_conflict`.',
          schema: { type: 'string' },
        },
      },
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: 'An API key (sk_live_…) or a JWT from /api/v1/auth/token',
        },
      },
    },
  };
}
