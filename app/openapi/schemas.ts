// Component schemas of one definition: the record, its create and update bodies, and a list page.

import type { Registry } from '../core/registry.js';
import type { ResolvedDefinition } from '../core/types.js';
import { createSchema, outputSchema, updateSchema, type JsonSchema } from '../schema/json-schema.js';
import { clone, schemaRef, type Obj } from './common.js';
import { label, plural } from './names.js';

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

export function resourceSchemas(registry: Registry, def: ResolvedDefinition, exposed: Set<string>): Obj {
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

export function listSchema(subject: string): Obj {
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
