// The CRUD operations of one definition: list, get, create, update (PATCH and PUT), archive, restore.

import type { Registry } from '../core/registry.js';
import type { ResolvedDefinition } from '../core/types.js';
import { getQuerySchema, listQuerySchema } from '../schema/json-schema.js';
import { dataEnvelope, headerRef, jsonContent, paramRef, schemaRef, type Obj } from './common.js';
import { errorRefs } from './errors.js';
import { collectionPath, label, plural, resourceTag } from './names.js';
import { pathParameters, queryHelp, queryParameters } from './parameters.js';
import { requiresScope, scopeSentence } from './security.js';
import type { Access, DocumentView } from './view.js';

function scopeText(def: ResolvedDefinition, access: Access, view: DocumentView): string {
  let text = scopeSentence(`${def.scope}:${access}`);
  if (def.sensitiveFields.length && view.seesSensitive(def)) {
    text += ` Sensitive fields (${def.sensitiveFields.map((f) => `\`${f}\``).join(', ')}) are returned only with \`${def.scope}:sensitive\`; without it they are absent.`;
  } else if (def.sensitiveFields.length) {
    text += ` This resource also has sensitive fields, returned only with \`${def.scope}:sensitive\` and left out of this document.`;
  }
  if (def.tenant) text += ' Only records of the organizations the credentials are bound to are visible.';
  return text;
}

/** The operations of one definition that this view may call (none when it may not read it). */
export function resourcePaths(
  registry: Registry,
  def: ResolvedDefinition,
  view: DocumentView,
  extra?: { params: Record<string, { type: 'boolean'; description: string }>; descriptions: string[] },
): Record<string, Obj> {
  if (!view.can(def, 'read')) return {};
  const base = collectionPath(registry, def);
  const tag = resourceTag(def);
  const one = def.subject;
  const many = plural(def.subject);
  const what = label(def);
  const baseParams = pathParameters(registry, def);
  const intro = def.description ? `${def.description}\n\n` : '';
  const parentNote = def.parent ? ` of one ${label(registry.get(def.parent.resource))}` : '';
  const security = (access: Access) => requiresScope(`${def.scope}:${access}`);
  const describe = (text: string, access: Access) => `${intro}${text}\n\n${scopeText(def, access, view)}`;
  const help = queryHelp(registry, def, view);
  const record = dataEnvelope(schemaRef(one));

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
        (def.archivable ? ' Archived records are left out unless `include_archived=true`.' : '') +
        (extra?.descriptions.length ? ` ${extra.descriptions.join(' ')}` : ''),
      'read',
    ),
    ...security('read'),
    parameters: [
      ...queryParameters(def, listQuerySchema(def, registry), view, help),
      ...Object.entries(extra?.params ?? {}).map(([name, p]) => ({ name, in: 'query', required: false, description: p.description, schema: { type: 'boolean', default: false } })),
    ],
    responses: {
      200: {
        description: `A page of ${plural(what)}.`,
        content: jsonContent(schemaRef(`${one}List`)),
      },
      ...errorRefs(400, 401, 403, 404, 429, 500),
    },
  };

  const getResponse: Obj = { description: `The ${what}.`, content: jsonContent(record) };
  if (def.versioned) getResponse.headers = { ETag: headerRef('ETag') };
  item.get = {
    operationId: `get${one}`,
    tags: [tag],
    summary: `Get a ${what}`,
    description: describe(
      `Returns one ${what} by id.${def.archivable ? ' An archived record answers only with `include_archived=true`.' : ''}`,
      'read',
    ),
    ...security('read'),
    parameters: queryParameters(def, getQuerySchema(def), view, { include: help.include, fields: help.fields }),
    responses: { 200: getResponse, ...errorRefs(400, 401, 403, 404, 429, 500) },
  };

  if (view.creates(def)) {
    collection.post = {
      operationId: `create${one}`,
      tags: [tag],
      summary: `Create a ${what}`,
      description: describe(
        `Creates a ${what}${parentNote}. A repeat with the same \`Idempotency-Key\` and body returns the first response.`,
        'write',
      ),
      ...security('write'),
      parameters: [paramRef('IdempotencyKey')],
      requestBody: { required: true, content: jsonContent(schemaRef(`${one}Create`)) },
      responses: {
        201: { description: `The created ${what}.`, content: jsonContent(record) },
        ...errorRefs(400, 401, 403, 404, 409, 413, 422, 429, 500),
      },
    };
  }

  if (view.updates(def)) {
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
      ...security('write'),
      parameters: def.versioned ? [paramRef('IfMatch')] : [],
      requestBody: { required: true, content: jsonContent(schemaRef(`${one}Update`)) },
      responses: {
        200: { description: `The updated ${what}.`, content: jsonContent(record) },
        ...errorRefs(400, 401, 403, 404, 409, 413, 422, 429, 500),
      },
    });
    item.patch = update(`update${one}`, `Update a ${what}`, `Updates a ${what}.`);
    item.put = update(`replace${one}`, `Update a ${what} (PUT alias)`, `Same partial semantics as PATCH (PUT is accepted as an alias).`);
  }

  if (view.archives(def)) {
    const archiveResponses = (status: 'archived' | 'restored', ...errors: number[]): Obj => ({
      200: { description: `The ${status} ${what}.`, content: jsonContent(record) },
      ...errorRefs(...errors),
    });
    // An archive may name the version it is based on, in the query (as seed 001 does) or If-Match.
    const archiveParams: Obj[] = def.versioned
      ? [
          {
            name: 'base_version',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 1 },
            description: `The version the archive is based on (or send \`If-Match\`)${def.requireBaseVersionToArchive ? '; one of them is required' : ''}; a stale one is a 409 \`version_conflict\`.`,
          },
          paramRef('IfMatch'),
        ]
      : [];
    const archiveErrors = def.versioned ? [400, 401, 403, 404, 409, 429, 500] : [400, 401, 403, 404, 429, 500];
    item.delete = {
      operationId: `delete${one}`,
      tags: [tag],
      summary: `Archive (soft-delete) a ${what}`,
      description: describe(`Soft delete: sets \`deleted_at\`; nothing is hard-deleted. Same as \`POST …/{id}/archive\`.`, 'write'),
      ...security('write'),
      parameters: archiveParams,
      responses: archiveResponses('archived', ...archiveErrors),
    };
    paths[`${base}/{id}/archive`] = {
      parameters: [...baseParams, paramRef('Id')],
      post: {
        operationId: `archive${one}`,
        tags: [tag],
        summary: `Archive a ${what}`,
        description: describe(`Sets \`deleted_at\`: the ${what} leaves default lists and GETs (see \`include_archived\`).`, 'write'),
        ...security('write'),
        parameters: archiveParams,
        responses: archiveResponses('archived', ...archiveErrors),
      },
    };
    paths[`${base}/{id}/restore`] = {
      parameters: [...baseParams, paramRef('Id')],
      post: {
        operationId: `restore${one}`,
        tags: [tag],
        summary: `Restore an archived ${what}`,
        description: describe(`Clears \`deleted_at\`. A ${what} that is not archived is a 422 \`unprocessable\`; one whose unique values a live record has taken since is a 409.`, 'write'),
        ...security('write'),
        responses: archiveResponses('restored', 400, 401, 403, 404, 409, 422, 429, 500),
      },
    };
  }
  return paths;
}
