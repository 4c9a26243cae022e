import { Model } from 'objection';
import type { Knex } from 'knex';
import type { Registry } from '../core/registry.js';
import type { ResolvedDefinition } from '../core/types.js';
import { outputSchema } from '../schema/json-schema.js';

export type ModelClass = typeof Model;

/** Objection's own validation is off: the engine validates with its compiled Ajv schemas. */
class EngineModel extends Model {
  override $validate(json?: Record<string, unknown>) {
    return json ?? {};
  }
}

/** jsonSchema for Objection and the admin: the output schema without null unions. */
function modelJsonSchema(def: ResolvedDefinition) {
  const schema = outputSchema(def);
  const properties: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries<any>(schema.properties)) {
    const { type, enum: values, ...rest } = prop;
    properties[name] = {
      ...rest,
      type: Array.isArray(type) ? type.find((t: string) => t !== 'null') : type,
      ...(values ? { enum: values.filter((v: unknown) => v !== null) } : {}),
    };
  }
  return { type: 'object', properties };
}

/** One Objection model per definition, bound to this database, with its relations. */
export function buildModels(registry: Registry, knex: Knex): Map<string, ModelClass> {
  const models = new Map<string, ModelClass>();
  for (const def of registry.all()) {
    const jsonSchema = modelJsonSchema(def);
    const model = class extends EngineModel {
      static override tableName = def.table;
      static override idColumn = 'id';
      static override jsonSchema = jsonSchema as any;
    };
    Object.defineProperty(model, 'name', { value: def.subject });
    models.set(def.name, model.bindKnex(knex) as ModelClass);
  }
  for (const def of registry.all()) {
    const model = models.get(def.name)! as any;
    const mappings: Record<string, unknown> = {};
    for (const [rel, bt] of Object.entries(def.belongsTo)) {
      const target = registry.get(bt.resource);
      mappings[rel] = {
        relation: Model.BelongsToOneRelation,
        modelClass: models.get(bt.resource),
        join: { from: `${def.table}.${bt.field}`, to: `${target.table}.id` },
      };
    }
    for (const [rel, hm] of Object.entries(def.hasMany ?? {})) {
      const child = registry.get(hm.resource);
      mappings[rel] = {
        relation: Model.HasManyRelation,
        modelClass: models.get(hm.resource),
        join: { from: `${def.table}.id`, to: `${child.table}.${hm.foreignKey}` },
      };
    }
    model.relationMappings = mappings;
  }
  return models;
}
