// The OpenAPI 3.1 document of the API, generated from the exposed definitions of a registry.
// Schemas come from app/schema/json-schema.ts (the same ones Ajv validates with), so the document
// can never drift from what the server accepts and returns.

import { readFileSync } from 'node:fs';
import type { Registry } from '../core/registry.js';
import { schemaRef, type Obj } from './common.js';
import { errorComponents } from './errors.js';
import { fixedPaths } from './fixed-paths.js';
import { label, plural } from './names.js';
import { resourcePaths } from './resource-paths.js';
import { listSchema, resourceSchemas } from './schemas.js';

export { collectionPath, parentParamName, plural } from './names.js';

export interface OpenApiOptions {
  /** `servers[0].url`; defaults to `/` (the host serving the document). */
  serverUrl?: string;
}

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
