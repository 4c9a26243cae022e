import { AsyncLocalStorage } from 'node:async_hooks';
import { subject as asSubject } from '@casl/ability';
import type { Action } from '../app/auth/ability.js';
import type { AppAbility, OperationContext, Org } from '../app/core/context.js';
import { AppError } from '../app/core/errors.js';
import { isUuid } from '../app/core/ids.js';
import type { Registry } from '../app/core/registry.js';
import { organizationsDefinition } from '../app/core/system-definitions.js';
import type { ResolvedDefinition } from '../app/core/types.js';
import type { Runtime } from '../app/runtime.js';
import { adminAbility, adminActor, adminOrgIds, findAdminUser, type AdminRole, type AdminUser, type SessionAdmin } from './users.js';

// The admin user behind one AdminJS request, as the kernel sees a caller: an actor, a CASL ability
// built by the API keys' function from the role, and the organizations it may work in. Worked out
// once per request (AdminJS gives every adapter call of a request the same session object).

export interface AdminScope {
  user: AdminUser;
  ability: AppAbility;
  /** The organizations the user may work in, by id, with their slugs and names. */
  orgs: Map<string, Org>;
}

const perRequest = new WeakMap<object, Promise<AdminScope>>();

/**
 * The scope of the admin in the session. The user is read again on every request, so a
 * deactivated user (or a changed role) takes effect at once, whatever the cookie holds.
 */
export function adminScope(rt: Runtime, current: SessionAdmin | undefined): Promise<AdminScope> {
  if (!current?.id) return Promise.reject(new AppError('unauthorized', 'Not logged in'));
  let scope = perRequest.get(current);
  if (!scope) {
    scope = loadScope(rt, current.id);
    perRequest.set(current, scope);
  }
  return scope;
}

async function loadScope(rt: Runtime, id: string): Promise<AdminScope> {
  const user = await findAdminUser(rt, id);
  if (!user || !user.active) throw new AppError('forbidden', 'This admin user is not active');
  const orgIds = await adminOrgIds(rt, user);
  const rows: Org[] = orgIds.length ? await rt.db.knex(organizationsDefinition.table).whereIn('id', orgIds).orderBy('slug').select('id', 'slug', 'name') : [];
  return { user, ability: adminAbility(rt.registry, user, orgIds), orgs: new Map(rows.map((o) => [o.id, o])) };
}

/**
 * The organization a tenant request works in: the one asked for (by slug or id, among the
 * user's), else the user's own practice, else the first by slug. A super admin or support agent
 * picks another with the `organization` filter of a list.
 */
export function pickOrg(scope: AdminScope, requested?: unknown): Org {
  if (requested !== undefined && requested !== null && requested !== '') {
    const wanted = String(requested);
    const org = scope.orgs.get(wanted) ?? [...scope.orgs.values()].find((o) => o.slug === wanted);
    if (!org) throw new AppError('not_found', `Organization not found: ${wanted.slice(0, 100)}`);
    return org;
  }
  const own = scope.user.organization_id ? scope.orgs.get(scope.user.organization_id) : undefined;
  const first = own ?? scope.orgs.values().next().value;
  if (!first) throw new AppError('forbidden', 'This admin user works in no organization');
  return first;
}

/**
 * The HTTP request an admin action runs in. AdminJS hands adapters no request, so the panel's
 * middleware keeps its id and client IP here for the audit trail.
 */
export const adminRequest = new AsyncLocalStorage<{ requestId?: string; ip?: string }>();

export function operationContext(scope: AdminScope, org: Org | undefined): OperationContext {
  const request = adminRequest.getStore();
  return { actor: adminActor(scope.user), ability: scope.ability, org, requestId: request?.requestId, ip: request?.ip };
}

/**
 * Where a record lives: its organization and (for a nested resource) its parent, read by id so
 * that a record page needs no organization in its URL. Only routing: the operation that follows
 * reads the record under the user's ability, so a record of an organization the user may not
 * work in is simply not found.
 */
export async function locate(rt: Runtime, scope: AdminScope, def: ResolvedDefinition, id: string): Promise<{ org?: Org; parentId?: string } | null> {
  if (!isUuid(id)) return null;
  if (!def.tenant && !def.parent) return {};
  const columns = [...(def.tenant ? ['org_id'] : []), ...(def.parent ? [def.parent.field] : [])];
  const row = await rt.db.knex(def.table).where({ id }).first(columns);
  if (!row) return null;
  let org: Org | undefined;
  if (def.tenant) {
    org = scope.orgs.get(String(row.org_id));
    if (!org) return null;
  }
  return { org, parentId: def.parent ? String(row[def.parent.field]) : undefined };
}

/**
 * Whether a role may take an action on a resource at all (in some organization): decides which
 * resources and buttons AdminJS shows. The records themselves are checked per request.
 */
const ANY_ORG = '00000000-0000-0000-0000-00000000a11e';
const roleAbilities = new WeakMap<Registry, Map<AdminRole, AppAbility>>();

export function roleMay(registry: Registry, role: AdminRole | undefined, action: Action, def: ResolvedDefinition): boolean {
  if (!role) return false;
  let byRole = roleAbilities.get(registry);
  if (!byRole) roleAbilities.set(registry, (byRole = new Map()));
  let ability = byRole.get(role);
  if (!ability) {
    ability = adminAbility(registry, { role } as AdminUser, [ANY_ORG]);
    byRole.set(role, ability);
  }
  return ability.can(action, (def.tenant ? asSubject(def.subject, { org_id: ANY_ORG }) : def.subject) as any);
}
