// Component schemas of one definition: the record, its create and update bodies, and a list page.

import type { Registry } from '../core/registry.js';
import type { ResolvedDefinition } from '../core/types.js';
import { createSchema, outputSchema, updateSchema, type JsonSchema } from '../schema/json-schema.js';
import { clone, schemaRef, type Obj } from './common.js';
import { label, plural } from './names.js';
import type { DocumentView } from './view.js';

/**
 * A copy of a generated object schema as this view documents it: fields the view may not see are
 * left out, the others get the definition's examples, and sensitive ones say which scope they need.
 */
function documentedFields(def: ResolvedDefinition, schema: JsonSchema, view: DocumentView): JsonSchema {
  const out = clone(schema);
  for (const [name, prop] of Object.entries(out.properties ?? {}) as [string, Obj][]) {
    if (!view.sees(def, name)) {
      delete out.properties[name];
      continue;
    }
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
  if (out.required) out.required = out.required.filter((name: string) => name in out.properties);
  return out;
}

/**
 * The record schema of a definition, and its create and update bodies where this view has those
 * operations (an append-only resource has no update body, a read-only one neither).
 */
export function resourceSchemas(registry: Registry, def: ResolvedDefinition, view: DocumentView): Obj {
  const output = documentedFields(def, outputSchema(def), view);
  if (def.description) output.description = def.description;
  // Relations embedded with ?include= (outputSchema forbids additional properties).
  for (const rel of view.relations(registry, def)) {
    output.properties[rel.name] = rel.many
      ? {
          description: `The ${plural(label(rel.target))} whose \`${rel.field}\` is this record; present only with \`?include=${rel.name}\`.`,
          readOnly: true,
          type: 'array',
          items: schemaRef(rel.target.subject),
        }
      : {
          description: `The ${label(rel.target)} referenced by \`${rel.field}\`; present only with \`?include=${rel.name}\` (null when \`${rel.field}\` is null).`,
          readOnly: true,
          oneOf: [schemaRef(rel.target.subject), { type: 'null' }],
        };
  }
  const schemas: Obj = { [def.subject]: output };

  if (view.creates(def)) {
    const create = documentedFields(def, createSchema(def), view);
    create.description = `The body that creates a ${label(def)}. Unknown and read-only fields are rejected with 400.`;
    schemas[`${def.subject}Create`] = create;
  }
  if (view.updates(def)) {
    const update = documentedFields(def, updateSchema(def), view);
    update.description = `A partial update of a ${label(def)}: only the fields sent change; \`null\` or an empty string clears an optional field.${
      def.requireBaseVersion ? ' `base_version` (or an `If-Match` header) is required.' : ''
    }`;
    schemas[`${def.subject}Update`] = update;
  }
  return schemas;
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

export function pageInfoSchema(): Obj {
  return {
    type: 'object',
    description: 'Keyset paging: pass `end_cursor` as `after` (with the same filters and sort) for the next page.',
    properties: {
      end_cursor: { type: ['string', 'null'], description: 'Opaque cursor of the last record of the page; null on an empty page.' },
      has_next_page: { type: 'boolean' },
    },
    required: ['end_cursor', 'has_next_page'],
    additionalProperties: false,
  };
}
