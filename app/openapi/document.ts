// The OpenAPI 3.1 document of the API, generated from the exposed definitions of a registry.
// Schemas come from app/schema/json-schema.ts (the same ones Ajv validates with), so the document
// can never drift from what the server accepts and returns. A document is built for a set of
// scopes: the full one for `*`, a scoped one for a caller's key (app/openapi/view.ts).

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Registry } from '../core/registry.js';
import type { CustomField } from '../custom-fields/types.js';
import { actionPaths } from './action-paths.js';
import { addCustomFieldDocs } from './custom-field-docs.js';
import { addOperationErrors, narrowOwnedFields } from './operation-rules.js';
import type { Obj } from './common.js';
import { errorComponents } from './errors.js';
import { fixedPaths } from './fixed-paths.js';
import { label, plural, resourceTag } from './names.js';
import { componentParameters } from './parameters.js';
import { pruneUnusedComponents } from './prune.js';
import { resourcePaths } from './resource-paths.js';
import { routePaths, type OpenApiRoute } from './route-paths.js';
import { listSchema, pageInfoSchema, resourceSchemas } from './schemas.js';
import { bearerScheme } from './security.js';
import { DocumentView, FULL_VIEW } from './view.js';

export { collectionPath, parentParamName, plural } from './names.js';

/** An operation a plugin adds to a resource: `POST {collection path}/{name}` or `POST {item path}/{name}`. */
export interface OpenApiAction {
  /** The definition name, e.g. `patient`. */
  resource: string;
  /** Kebab-case; the URL segment, e.g. `transition-status`. */
  name: string;
  on: 'record' | 'collection';
  /** `get` takes its input as query parameters (read actions); `post` (the default) as a body. */
  method?: 'post' | 'get';
  summary: string;
  description?: string;
  /** The scope it needs, e.g. `patients:write`. */
  scope: string;
  /** JSON Schema of the request body (of the query parameters for `get`). */
  input: Record<string, unknown>;
  /** JSON Schema of `data` in the `{data: ...}` response; without it, the resource's record. */
  output?: Record<string, unknown>;
  /** The error codes it may answer besides those every operation may (app/core/errors.ts). */
  errors: string[];
}

export interface OpenApiOptions {
  /** `servers[0].url`; defaults to `/` (the host serving the document). */
  serverUrl?: string;
  /** The caller's scopes: only the operations and fields they allow. Without them, everything. */
  scopes?: readonly string[];
  /** Operations contributed by plugins. */
  actions?: readonly OpenApiAction[];
  /** Boolean list parameters plugins add, by resource (ListRule), with sentences for the list's description. */
  listParams?: Record<string, { params: Record<string, { type: 'boolean'; description: string }>; descriptions: string[] }>;
  /** The server's default per-key limit (RATE_LIMIT_PER_MINUTE); the description states it when given. */
  rateLimitPerMinute?: number;
  /** Routes plugins serve, with their documentation. */
  routes?: readonly OpenApiRoute[];
  /** Error codes plugin hooks may refuse writes with, by resource and operation. */
  operationErrors?: Record<string, Record<string, string[]>>;
  /** One organization's custom fields, by definition name: the document of that organization. */
  customFields?: Record<string, readonly CustomField[]>;
}

let packageVersion: string | undefined;

/** The version in the nearest package.json above this module (found from the source tree and from dist/). */
function apiVersion(): string {
  packageVersion ??= readPackageVersion();
  return packageVersion;
}

function readPackageVersion(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (existsSync(file)) {
      const version = JSON.parse(readFileSync(file, 'utf8')).version;
      return typeof version === 'string' ? version : '0.0.0';
    }
    if (path.dirname(dir) === dir) return '0.0.0';
  }
}

function describeApi(view: DocumentView, opts: OpenApiOptions): string {
  const rateLimit = opts.rateLimitPerMinute
    ? `${opts.rateLimitPerMinute} requests per minute per key by default on this server (\`RATE_LIMIT_PER_MINUTE\`); a key may carry its own limit`
    : 'a number of requests per minute per key, set by the server (`RATE_LIMIT_PER_MINUTE`) unless the key carries its own limit';
  const scoped = opts.scopes
    ? `\n\n**This document is scoped** to ${view.scopes.length ? view.scopes.map((s) => `\`${s}\``).join(', ') : 'no scope'}: ` +
      'it lists only the operations these scopes allow, and sensitive fields only with `<scope>:sensitive`.'
    : '';
  return (
    'The partner API of the EMR platform, generated from the resource definitions.\n\n' +
    '**Authentication**: `Authorization: Bearer <API key or JWT>`. Each operation names the scope it needs in its description ' +
    'and in `x-required-scopes`; `x-scopes` on the `bearerAuth` security scheme lists every scope. ' +
    '**Your own document**: `GET /api/openapi.json?scoped=true` with your `Authorization` header returns this document ' +
    'narrowed to your key: only the operations its scopes allow, without sensitive fields unless it holds `<scope>:sensitive`. ' +
    '**Envelopes**: one record is `{"data": {...}}`; a list is `{"data": [...], "total_count", "limit", "offset", "page_info"}`; ' +
    'an error is `{"error", "message", "details", "request_id"}`. ' +
    `**Rate limits**: ${rateLimit}; a 429 carries \`Retry-After\` and \`RateLimit-*\` headers.` +
    scoped
  );
}

/** The OpenAPI 3.1.0 document of `registry`: the full one, or with `scopes` the one of a caller. */
export function buildOpenApiDocument(registry: Registry, opts: OpenApiOptions = {}): Record<string, unknown> {
  const view = opts.scopes ? new DocumentView(opts.scopes) : FULL_VIEW;
  const errors = errorComponents();
  const schemas: Obj = { ...errors.schemas, PageInfo: pageInfoSchema() };
  const paths: Record<string, Obj> = {};
  const addPaths = (more: Record<string, Obj>) => {
    for (const [p, item] of Object.entries(more)) {
      if (paths[p]) throw new Error(`OpenAPI: path '${p}' is generated twice`);
      paths[p] = item;
    }
  };
  const tagged = new Map<string, Set<string>>();
  const tag = (group: string, name: string) => tagged.set(group, (tagged.get(group) ?? new Set()).add(name));

  // Every exposed definition's schemas are generated: an action's response may use one its
  // caller cannot list. Pruning drops those no operation of this document refers to.
  for (const def of registry.exposed()) {
    for (const [name, schema] of Object.entries({ ...resourceSchemas(registry, def, view), [`${def.subject}List`]: listSchema(def.subject) })) {
      if (schemas[name]) throw new Error(`OpenAPI: component schema '${name}' is generated twice`);
      schemas[name] = schema;
    }
    const crud = def.generatedRoutes === false ? {} : resourcePaths(registry, def, view, opts.listParams?.[def.name]);
    addPaths(crud);
    if (Object.keys(crud).length) tag(resourceTag(def), plural(label(def)));
  }
  for (const action of opts.actions ?? []) {
    const added = actionPaths(registry, action, view);
    addPaths(added);
    const def = registry.get(action.resource);
    if (Object.keys(added).length) tag(resourceTag(def), plural(label(def)));
  }
  for (const [p, item] of Object.entries(routePaths(registry, opts.routes ?? [], view))) {
    const existing = paths[p];
    if (existing) {
      for (const method of Object.keys(item)) {
        if (method !== 'parameters' && existing[method]) throw new Error(`OpenAPI: ${method.toUpperCase()} ${p} is generated twice`);
      }
      Object.assign(existing, { ...item, parameters: existing.parameters ?? item.parameters });
    } else {
      paths[p] = item;
    }
  }
  addCustomFieldDocs(registry, paths, schemas, opts.customFields);
  addOperationErrors(registry, paths, opts.operationErrors);
  narrowOwnedFields(registry, schemas, opts.actions);
  const tags = [...tagged.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, names]) => ({ name, description: `Resources: ${[...names].join(', ')}.` }));
  for (const fixed of [{ name: 'Auth', description: 'Token exchange.' }, { name: 'System', description: 'Health, metrics and this document.' }]) {
    // A resource grouped under the same name (jobs under System) shares the tag.
    const existing = tags.find((t) => t.name === fixed.name);
    if (existing) existing.description = `${fixed.description} ${existing.description}`;
    else tags.push(fixed);
  }
  addPaths(fixedPaths());

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

  const serverUrl = opts.serverUrl ?? '/';
  const doc: Obj = {
    openapi: '3.1.0',
    info: {
      title: 'EMR Platform API',
      version: apiVersion(),
      description: describeApi(view, opts),
      // Each deployment is run by its own operator, who is the partners' contact.
      contact: { name: 'The operator of this deployment', ...(/^https?:\/\//.test(serverUrl) ? { url: serverUrl } : {}) },
    },
    servers: [{ url: serverUrl }],
    tags,
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      schemas,
      responses: errors.responses,
      headers: errors.headers,
      parameters: componentParameters(registry),
      securitySchemes: { bearerAuth: bearerScheme(registry) },
    },
  };
  pruneUnusedComponents(doc);
  return doc;
}
