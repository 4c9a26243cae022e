import type { ResolvedDefinition } from '../core/types.js';

/** The resource's own URL segment(s) below its parent, for messages (`tickets/{ticket_id}/comments`). */
export function collectionSegments(def: ResolvedDefinition): string {
  return def.parent ? `{${def.parent.resource.replace(/-/g, '_')}_id}/${def.path}` : def.path;
}
