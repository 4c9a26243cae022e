import type { AppAbility } from '../auth/ability.js';
import { readableFields } from '../auth/ability.js';
import type { ResolvedDefinition } from '../core/types.js';

export interface Actor {
  type: 'api_key' | 'admin_user' | 'system';
  id: string;
  label: string;
}

export interface Org {
  id: string;
  slug: string;
  name: string;
}

/** Who is acting, where, and with what permissions. Operations know nothing else of transport. */
export interface OperationContext {
  actor: Actor;
  ability: AppAbility;
  /** The organization a tenant operation runs in (from the path for REST). */
  org?: Org;
  requestId?: string;
  ip?: string;
  /** Memoized readable-field sets per resource for this ability. */
  fieldCache?: Map<string, Set<string>>;
}

export function readableFor(ctx: OperationContext, def: ResolvedDefinition): Set<string> {
  ctx.fieldCache ??= new Map();
  let set = ctx.fieldCache.get(def.name);
  if (!set) {
    set = readableFields(ctx.ability, def);
    ctx.fieldCache.set(def.name, set);
  }
  return set;
}

/** The nil UUID stands for the platform itself, where global resources' changes are audited. */
export const PLATFORM_ORG_ID = '00000000-0000-0000-0000-000000000000';
