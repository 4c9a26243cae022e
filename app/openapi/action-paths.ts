// Operations contributed by plugins beyond CRUD (`POST /patients/{id}/transition-status`,
// `POST /patients/check-duplicates`, …): each one a POST under its resource's collection or item
// path, described by an OpenApiAction.

import type { Kernel } from '../kernel/kernel.js';
import type { Registry } from '../core/registry.js';
import { dataEnvelope, jsonContent, paramRef, schemaRef, type Obj } from './common.js';
import type { OpenApiAction } from './document.js';
import { errorRefsWithCodes, isErrorCode } from './errors.js';
import { camelCase, collectionPath, plural, resourceTag } from './names.js';
import { pathParameters } from './parameters.js';
import { requiresScope, scopeSentence } from './security.js';
import type { DocumentView } from './view.js';

/** Kebab-case URL segments separated by `/` (`counts/by-location`). */
const KEBAB = /^[a-z][a-z0-9]*(-[a-z0-9]+)*(\/[a-z][a-z0-9]*(-[a-z0-9]+)*)*$/;

/** Every action can answer these besides its own codes: a bad body, credentials, scope, a missing org or record, size, rate, crash. */
const ACTION_STATUSES = [400, 401, 403, 404, 413, 429, 500];

function invalid(action: OpenApiAction, message: string): Error {
  return new Error(`OpenAPI: action '${action.resource}.${action.name}' ${message}`);
}

/** Checks an action against the registry; a mistake in a plugin fails the build of the document. */
function check(registry: Registry, action: OpenApiAction): void {
  if (!registry.has(action.resource) || registry.get(action.resource).internal) throw invalid(action, 'names no exposed resource');
  if (!KEBAB.test(action.name)) throw invalid(action, 'needs a kebab-case name (it is the URL segment)');
  if (action.on !== 'record' && action.on !== 'collection') throw invalid(action, `has on: '${action.on}', not 'record' or 'collection'`);
  const [scopeName, level] = action.scope.split(':');
  const known = new Set(registry.exposed().map((d) => d.scope));
  const wellFormed = action.scope === '*' || action.scope === '*:read' || (known.has(scopeName) && ['read', 'write', 'sensitive'].includes(level));
  if (!wellFormed) throw invalid(action, `has scope '${action.scope}', which no API key can hold`);
  const unknown = action.errors.filter((code) => !isErrorCode(code));
  if (unknown.length) throw invalid(action, `names unknown error codes: ${unknown.join(', ')}`);
}

/** The path of one action, or nothing when this view does not hold its scope. */
export function actionPaths(registry: Registry, action: OpenApiAction, view: DocumentView): Record<string, Obj> {
  check(registry, action);
  if (!view.holds(action.scope)) return {};
  const def = registry.get(action.resource);
  const onRecord = action.on === 'record';
  const base = collectionPath(registry, def);
  const path = onRecord ? `${base}/{id}/${action.name}` : `${base}/${action.name}`;
  const codes = action.errors.filter(isErrorCode);
  const ownErrors = codes.length ? `\n\nBesides the usual errors it may answer ${codes.map((c) => `\`${c}\``).join(', ')}.` : '';
  const get = action.method === 'get';
  const input = get ? { parameters: queryParameters(action.input) } : { requestBody: { required: true, content: jsonContent(action.input) } };
  return {
    [path]: {
      parameters: onRecord ? [...pathParameters(registry, def), paramRef('Id')] : pathParameters(registry, def),
      [get ? 'get' : 'post']: {
        operationId: `${camelCase(action.name.replace(/\//g, '-'))}${onRecord ? def.subject : plural(def.subject)}`,
        tags: [resourceTag(def)],
        summary: action.summary,
        description: `${action.description ? `${action.description}\n\n` : ''}${scopeSentence(action.scope)}${ownErrors}`,
        ...requiresScope(action.scope),
        ...input,
        responses: {
          200: {
            description: `The result of ${action.name}.`,
            content: jsonContent(dataEnvelope(action.output ?? schemaRef(def.subject))),
          },
          ...errorRefsWithCodes(ACTION_STATUSES, codes),
        },
      },
    },
  };
}

/** A GET action's input schema as query parameters; an array parameter is given by repeating it. */
function queryParameters(input: Record<string, unknown>): Obj[] {
  const properties = (input.properties ?? {}) as Record<string, Obj>;
  const required = new Set((input.required ?? []) as string[]);
  return Object.entries(properties).map(([name, schema]) => {
    const { description, ...rest } = schema;
    return {
      name,
      in: 'query',
      required: required.has(name),
      ...(description ? { description } : {}),
      ...(rest.type === 'array' ? { style: 'form', explode: true } : {}),
      schema: rest,
    };
  });
}

/** The actions plugins declare, as the document describes them: body schema, scope and errors. */
export function pluginActions(kernel: Kernel, registry: Registry): OpenApiAction[] {
  return kernel.allActions().map((action) => ({
    resource: action.resource,
    name: action.name,
    on: action.on,
    ...(action.method === 'get' ? { method: 'get' as const } : {}),
    summary: action.summary,
    description: action.description,
    scope: `${registry.get(action.resource).scope}:${action.access === 'read' ? 'read' : 'write'}`,
    input: { type: 'object', additionalProperties: false, ...action.input },
    output: action.output,
    errors: [...(action.errors ?? [])],
  }));
}
