// What plugins change about the generated operations, stated where a partner reads them: the error
// codes their hooks may refuse a write with, and fields an action owns (changed only through it,
// and at create only to the values it allows).

import type { Registry } from '../core/registry.js';
import type { Obj } from './common.js';
import type { OpenApiAction } from './document.js';
import { errorRefsWithCodes } from './errors.js';
import { collectionPath } from './names.js';

/** The operations of a definition's routes that each write operation answers at. */
function routesOf(base: string, op: string): [string, string][] {
  switch (op) {
    case 'create': return [[base, 'post']];
    case 'update': return [[`${base}/{id}`, 'patch'], [`${base}/{id}`, 'put']];
    case 'archive': return [[`${base}/{id}`, 'delete'], [`${base}/{id}/archive`, 'post']];
    case 'restore': return [[`${base}/{id}/restore`, 'post']];
    default: return [];
  }
}

/** Adds the error codes hooks declare to the descriptions and responses of the operations they guard. */
export function addOperationErrors(registry: Registry, paths: Record<string, Obj>, errors: Record<string, Record<string, string[]>> | undefined): void {
  for (const [resource, byOp] of Object.entries(errors ?? {})) {
    if (resource === '*' || !registry.has(resource)) continue;
    const def = registry.get(resource);
    if (def.internal || def.generatedRoutes === false) continue;
    for (const [op, codes] of Object.entries(byOp)) {
      for (const [path, method] of routesOf(collectionPath(registry, def), op)) {
        const operation = paths[path]?.[method] as Obj | undefined;
        if (!operation) continue;
        operation.description = `${operation.description ?? ''}\n\nIt may also be refused with ${codes.map((c) => `\`${c}\``).join(', ')}.`.trim();
        const statuses = Object.keys(operation.responses).filter((k) => /^[45]\d\d$/.test(k)).map(Number);
        const success = Object.fromEntries(Object.entries(operation.responses).filter(([k]) => !/^[45]\d\d$/.test(k)));
        operation.responses = { ...success, ...errorRefsWithCodes(statuses, codes) };
      }
    }
  }
}

/**
 * Fields whose changes an action owns (`changedBy`), once a plugin provides it: the update body
 * leaves them out, and the create body offers only `createValues`.
 */
export function narrowOwnedFields(registry: Registry, schemas: Obj, actions: readonly OpenApiAction[] | undefined): void {
  const provided = new Set((actions ?? []).filter((a) => a.on === 'record').map((a) => `${a.resource}/${a.name}`));
  for (const def of registry.exposed()) {
    for (const [name, field] of Object.entries(def.fields)) {
      if (!field.changedBy || !provided.has(`${def.name}/${field.changedBy}`)) continue;
      const update = schemas[`${def.subject}Update`];
      if (update?.properties?.[name]) delete update.properties[name];
      const create = schemas[`${def.subject}Create`];
      const prop = create?.properties?.[name];
      if (!prop) continue;
      if (!field.createValues?.length) {
        delete create.properties[name];
      } else {
        prop.enum = [...field.createValues, ...(Array.isArray(prop.enum) && prop.enum.includes(null) ? [null] : [])];
        prop.description = `${prop.description ?? ''} On create: ${field.createValues.join(' or ')}; later changes through POST …/${field.changedBy}.`.trim();
      }
    }
  }
}
