import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { VALUES_RESOURCE_FIELDS } from '../custom-fields/types.js';
import { DefinitionError, RESERVED_QUERY_PARAMS, resolveDefinition } from './define.js';
import type { EntityDefinition, ResolvedDefinition } from './types.js';

/** Global segments the core's own routes answer at (`/api/openapi.json`, `/api/docs`). */
const CORE_GLOBAL_SEGMENTS = ['openapi.json', 'docs'];

export interface RegistryOptions {
  /** Global URL segments that plugins own (`auth`, `me`, …): no organization slug may take them. */
  reservedNames?: Iterable<string>;
  /** Resolutions of earlier registries, reused for definitions that did not change. */
  resolved?: WeakMap<EntityDefinition, ResolvedDefinition>;
}

/** All resource definitions of one schema generation, resolved and cross-checked. */
export class Registry {
  private readonly byName = new Map<string, ResolvedDefinition>();
  private readonly reservedNames: string[];

  constructor(definitions: EntityDefinition[], options: RegistryOptions = {}) {
    for (const def of definitions) {
      if (this.byName.has(def.name)) throw new DefinitionError(`definition '${def.name}' is declared twice`);
      let resolved = options.resolved?.get(def);
      if (!resolved) {
        resolved = resolveDefinition(def);
        options.resolved?.set(def, resolved);
      }
      this.byName.set(def.name, resolved);
    }
    this.reservedNames = [...CORE_GLOBAL_SEGMENTS, ...(options.reservedNames ?? [])];
    this.crossCheck();
  }

  get(name: string): ResolvedDefinition {
    const def = this.byName.get(name);
    if (!def) throw new Error(`unknown resource '${name}'`);
    return def;
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  all(): ResolvedDefinition[] {
    return [...this.byName.values()];
  }

  /** Definitions served over HTTP. */
  exposed(): ResolvedDefinition[] {
    return this.all().filter((d) => !d.internal);
  }

  /** Names an org slug may not use because a global route already answers there. */
  reservedSlugs(): string[] {
    const globals = this.exposed().filter((d) => !d.tenant && !d.parent).map((d) => d.path);
    return [...new Set([...this.reservedNames, ...globals])];
  }

  private crossCheck(): void {
    const routes = new Set<string>();
    for (const def of this.all()) {
      for (const [name, field] of Object.entries(def.fields)) {
        if (field.ref && !this.byName.has(field.ref)) {
          throw new DefinitionError(`definition '${def.name}': field '${name}' refers to unknown resource '${field.ref}'`);
        }
        if (field.ref) {
          const target = this.byName.get(field.ref)!;
          if (target.tenant && !def.tenant) {
            throw new DefinitionError(`definition '${def.name}': a global resource cannot refer to tenant resource '${field.ref}'`);
          }
        }
      }
      for (const [rel, hm] of Object.entries(def.hasMany ?? {})) {
        const child = this.byName.get(hm.resource);
        if (!child) throw new DefinitionError(`definition '${def.name}': relation '${rel}' names unknown resource '${hm.resource}'`);
        if (!child.fields[hm.foreignKey]) {
          throw new DefinitionError(`definition '${def.name}': relation '${rel}' foreign key '${hm.foreignKey}' is not a field of '${hm.resource}'`);
        }
      }
      for (const [param, rf] of Object.entries(def.relatedFilters ?? {})) {
        const where = `definition '${def.name}': related filter '${param}'`;
        if (!/^[a-z][a-z0-9_]*$/.test(param)) throw new DefinitionError(`${where} must be snake_case`);
        if (def.columns.some((c) => c.name === param) || RESERVED_QUERY_PARAMS.includes(param)) throw new DefinitionError(`${where} would shadow a field or query parameter`);
        const child = this.byName.get(rf.resource);
        if (!child) throw new DefinitionError(`${where} names unknown resource '${rf.resource}'`);
        if (child.tenant !== def.tenant) throw new DefinitionError(`${where}: '${rf.resource}' must share the tenancy of '${def.name}'`);
        if (child.fields[rf.foreignKey]?.ref !== def.name) throw new DefinitionError(`${where}: '${rf.foreignKey}' of '${rf.resource}' must be a ref to '${def.name}'`);
        const field = child.fields[rf.field];
        if (!field || !['uuid', 'enum', 'integer', 'boolean', 'string'].includes(field.type)) {
          throw new DefinitionError(`${where}: '${rf.field}' must be a uuid, enum, integer, boolean or string field of '${rf.resource}'`);
        }
      }
      if (def.parent) {
        const parent = this.byName.get(def.parent.resource);
        if (!parent) throw new DefinitionError(`definition '${def.name}': unknown parent '${def.parent.resource}'`);
        if (parent.tenant !== def.tenant) throw new DefinitionError(`definition '${def.name}': parent and child must share tenancy`);
      }
      if (def.customFields) {
        const values = this.byName.get(def.customFields.values);
        if (!values || values.parent?.resource !== def.name) {
          throw new DefinitionError(`definition '${def.name}': custom field values '${def.customFields.values}' must be a resource nested under it`);
        }
        const missing = VALUES_RESOURCE_FIELDS.filter((f) => !values.fields[f]);
        if (missing.length) throw new DefinitionError(`definition '${def.name}': custom field values '${values.name}' lack ${missing.join(', ')}`);
      }
      if (def.internal || def.generatedRoutes === false) continue;
      const route = `${def.tenant ? 'tenant' : 'global'}:${def.parent?.resource ?? ''}:${def.path}`;
      if (routes.has(route)) throw new DefinitionError(`definition '${def.name}': path '${def.path}' is already served`);
      routes.add(route);
    }
  }
}

/** Imports every definition module (`export default defineEntity(...)`) in the given folders. */
export async function loadDefinitionDirs(dirs: string[]): Promise<EntityDefinition[]> {
  const found: EntityDefinition[] = [];
  for (const dir of dirs) {
    const files = (await readdir(dir)).filter((f) => /\.(ts|js|mjs)$/.test(f) && !f.endsWith('.d.ts')).sort();
    for (const file of files) {
      const mod = await import(pathToFileURL(path.join(dir, file)).href);
      const def = mod.default as EntityDefinition | undefined;
      if (!def || typeof def !== 'object' || !def.name) {
        throw new DefinitionError(`${path.join(dir, file)} has no default export made with defineEntity()`);
      }
      found.push(def);
    }
  }
  return found;
}
