import { readableFields } from '../auth/ability.js';
import type { OperationContext } from '../core/context.js';
import type { ResolvedDefinition } from '../core/types.js';

export type { Actor, Org, OperationContext } from '../core/context.js';
export { PLATFORM_ORG_ID } from '../core/context.js';

/** The fields of a resource this context may read, memoized per ability. */
export function readableFor(ctx: OperationContext, def: ResolvedDefinition): Set<string> {
  ctx.fieldCache ??= new Map();
  let set = ctx.fieldCache.get(def.name);
  if (!set) {
    set = readableFields(ctx.ability, def);
    ctx.fieldCache.set(def.name, set);
  }
  return set;
}
