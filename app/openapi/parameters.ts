// Parameters: the query of list and get routes, and the path parameters of nested resources.

import type { Registry } from '../core/registry.js';
import type { ResolvedDefinition } from '../core/types.js';
import { filterParams, type JsonSchema } from '../schema/json-schema.js';
import { clone, paramRef, type Obj } from './common.js';
import { label, parentParamName } from './names.js';


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

export function queryParameters(def: ResolvedDefinition, query: JsonSchema, extraDescriptions: Record<string, string> = {}): Obj[] {
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

export function queryHelp(def: ResolvedDefinition): Record<string, string> {
  const relations = [...Object.keys(def.belongsTo), ...Object.keys(def.hasMany ?? {})];
  const sortable = def.columns.filter((c) => c.field.sort).map((c) => c.name);
  return {
    include: relations.length ? `Relations: ${relations.map((r) => `\`${r}\``).join(', ')}.` : 'This resource declares no relations.',
    sort: sortable.length ? `Sortable fields: ${sortable.map((s) => `\`${s}\``).join(', ')}. Default: \`${def.defaultSort}\`.` : '',
    fields: `Fields: ${def.outputFields.map((f) => `\`${f}\``).join(', ')}.`,
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
