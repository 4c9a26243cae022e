// Parameters: the query of list and get routes, and the path parameters of nested resources.

import type { Registry } from '../core/registry.js';
import type { ResolvedDefinition } from '../core/types.js';
import { filterParams, type JsonSchema } from '../schema/json-schema.js';
import { clone, paramRef, type Obj } from './common.js';
import { label, parentParamName } from './names.js';
import type { DocumentView } from './view.js';

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

/**
 * The query parameters of a list or get route as this view documents them: filters on fields the
 * view may not see are left out (the server answers them with 403), and `search` names only the
 * fields it matches for this view.
 */
export function queryParameters(def: ResolvedDefinition, query: JsonSchema, view: DocumentView, extraDescriptions: Record<string, string> = {}): Obj[] {
  const filters = new Map(filterParams(def).map((f) => [f.name, f]));
  const params: Obj[] = [];
  for (const [name, raw] of Object.entries(query.properties ?? {}) as [string, Obj][]) {
    const filter = filters.get(name);
    if (filter && !view.sees(def, filter.field)) continue;
    const schema = clone(raw);
    let description: string | undefined = schema.description;
    delete schema.description;
    if (filter) {
      description = `Filter: \`${filter.field}\` ${OP_TEXT[filter.op] ?? filter.op}.`;
      if (def.sensitiveFields.includes(filter.field)) description += ` Needs the \`${def.scope}:sensitive\` scope.`;
    }
    if (name === 'search') {
      const matched = def.searchFields.filter((f) => view.sees(def, f.name)).map((f) => `\`${f.name}\``);
      description = `Case-insensitive match on ${matched.join(', ')}.`;
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

/** What `include`, `sort` and `fields` accept, for the descriptions of those parameters. */
export function queryHelp(registry: Registry, def: ResolvedDefinition, view: DocumentView): Record<string, string> {
  const relations = view.relations(registry, def).map((r) => r.name);
  const sortable = def.columns.filter((c) => c.field.sort && view.sees(def, c.name)).map((c) => c.name);
  const fields = def.outputFields.filter((f) => view.sees(def, f));
  return {
    include: relations.length ? `Relations: ${relations.map((r) => `\`${r}\``).join(', ')}.` : 'No relation can be embedded.',
    sort: sortable.length ? `Sortable fields: ${sortable.map((s) => `\`${s}\``).join(', ')}. Default: \`${def.defaultSort}\`.` : '',
    fields: `Fields: ${fields.map((f) => `\`${f}\``).join(', ')}.`,
  };
}

export function pathParameters(registry: Registry, def: ResolvedDefinition): Obj[] {
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

/** The `{org}` path parameter: the slug pattern of the organization definition when there is one. */
function orgSlugSchema(registry: Registry): Obj {
  const pattern = registry.has('organization') ? registry.get('organization').fields.slug?.pattern : undefined;
  return pattern ? { type: 'string', pattern } : { type: 'string' };
}

/** The parameters operations share by `$ref`. */
export function componentParameters(registry: Registry): Obj {
  return {
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
  };
}
