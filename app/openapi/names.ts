// Names and paths derived from definitions.

import type { Registry } from '../core/registry.js';
import type { ResolvedDefinition } from '../core/types.js';

/** `Patient` → `Patients`, `Category` → `Categories`, `Address` → `Addresses`. */
export function plural(word: string): string {
  if (/[^aeiou]y$/i.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/i.test(word)) return `${word}es`;
  return `${word}s`;
}

/** Path parameter of a parent record: `ticket` → `ticket_id`. */
export const parentParamName = (resource: string) => `${resource.replace(/-/g, '_')}_id`;

export const label = (def: ResolvedDefinition) => def.name.replace(/-/g, ' ');

/** The collection path of a definition, e.g. `/api/v1/{org}/tickets/{ticket_id}/comments`. */
export function collectionPath(registry: Registry, def: ResolvedDefinition): string {
  if (def.parent) {
    const parent = registry.get(def.parent.resource);
    return `${collectionPath(registry, parent)}/{${parentParamName(parent.name)}}/${def.path}`;
  }
  return def.tenant ? `/api/v1/{org}/${def.path}` : `/api/v1/${def.path}`;
}

/** The tag of a definition's operations: its admin group. */
export const resourceTag = (def: ResolvedDefinition) => def.admin?.group ?? 'General';

/** `transition-status` → `transitionStatus`. */
export const camelCase = (name: string) => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
