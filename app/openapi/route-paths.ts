// Routes plugins serve outside the generated ones (`GET /patients/{patient_id}/field-values/form`),
// described from the PluginRouteDoc each one carries: its resource's tag and scope, its path and
// query parameters, body, response and error codes.

import type { Registry } from '../core/registry.js';
import type { PluginRoute, PluginRouteDoc } from '../core/plugin.js';
import { jsonContent, paramRef, type Obj } from './common.js';
import { errorRefsWithCodes, isErrorCode } from './errors.js';
import { camelCase, resourceTag } from './names.js';
import { requiresScope, scopeSentence } from './security.js';
import type { DocumentView } from './view.js';

/** A documented route as the document builder takes it. */
export interface OpenApiRoute {
  method: PluginRoute['method'];
  /** The full path in OpenAPI form, e.g. `/api/v1/{org}/patients/{patient_id}/field-values`. */
  path: string;
  doc: PluginRouteDoc;
}

const STATUSES: Record<string, number[]> = {
  get: [400, 401, 403, 404, 429, 500],
  write: [400, 401, 403, 404, 409, 413, 422, 429, 500],
};

/** `/patients/:patient_id/x` under `/api/v1` (and `/{org}`) → `/api/v1/{org}/patients/{patient_id}/x`. */
export function openApiRoutePath(route: Pick<PluginRoute, 'path' | 'tenant'>): string {
  return `/api/v1${route.tenant ? '/{org}' : ''}${route.path.replace(/:([a-z_]+)/g, '{$1}')}`;
}

/** The plugin routes that carry documentation. */
export function documentedRoutes(routes: readonly PluginRoute[]): OpenApiRoute[] {
  return routes.filter((r) => r.openapi).map((r) => ({ method: r.method, path: openApiRoutePath(r), doc: r.openapi! }));
}

/** The path items of the routes this view may call, several methods of one path merged. */
export function routePaths(registry: Registry, routes: readonly OpenApiRoute[], view: DocumentView): Record<string, Obj> {
  const paths: Record<string, Obj> = {};
  for (const { method, path, doc } of routes) {
    if (!registry.has(doc.resource)) throw new Error(`OpenAPI: route ${method.toUpperCase()} ${path} names unknown resource '${doc.resource}'`);
    const def = registry.get(doc.resource);
    const scope = `${def.scope}:${doc.access}`;
    if (!view.holds(scope)) continue;
    const unknown = (doc.errors ?? []).filter((c) => !isErrorCode(c));
    if (unknown.length) throw new Error(`OpenAPI: route ${method.toUpperCase()} ${path} names unknown error codes: ${unknown.join(', ')}`);
    const item = (paths[path] ??= {
      parameters: [...path.matchAll(/\{([a-z_]+)\}/g)].map(([, name]) =>
        name === 'org' ? paramRef('Org') : { name, in: 'path', required: true, description: `Id (${name.replace(/_id$/, '').replace(/_/g, ' ')}).`, schema: { type: 'string', format: 'uuid' } }),
    });
    if (item[method]) throw new Error(`OpenAPI: route ${method.toUpperCase()} ${path} is declared twice`);
    const codes = [...(doc.errors ?? [])];
    const ownErrors = codes.length ? `\n\nBesides the usual errors it may answer ${codes.map((c) => `\`${c}\``).join(', ')}.` : '';
    const operation: Obj = {
      operationId: camelCase(`${method}-${path.split('/').filter((p) => p && !p.startsWith('{') && p !== 'api' && p !== 'v1').join('-')}`),
      tags: [resourceTag(def)],
      summary: doc.summary,
      description: `${doc.description ? `${doc.description}\n\n` : ''}${scopeSentence(scope)}${ownErrors}`,
      ...requiresScope(scope),
    };
    if (doc.query) {
      operation.parameters = Object.entries(doc.query).map(([name, schema]) => {
        const { description, ...rest } = schema as Obj;
        const param: Obj = { name, in: 'query', required: false, schema: rest };
        if (description) param.description = description;
        if (rest.type === 'array') Object.assign(param, { style: 'form', explode: true });
        return param;
      });
    }
    if (doc.body) {
      const content: Obj = jsonContent(doc.body);
      for (const [type, schema] of Object.entries(doc.bodyTypes ?? {})) content[type] = { schema };
      operation.requestBody = { required: true, content };
    }
    operation.responses = {
      [doc.status ?? 200]: { description: doc.summary, content: jsonContent(doc.response) },
      ...Object.fromEntries(Object.entries(doc.otherResponses ?? {}).map(([status, r]) => [status, { description: r.description, content: jsonContent(r.schema) }])),
      ...errorRefsWithCodes(method === 'get' ? STATUSES.get : STATUSES.write, codes),
    };
    item[method] = operation;
  }
  return paths;
}
