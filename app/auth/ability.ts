import { AbilityBuilder, createMongoAbility, subject as asSubject } from '@casl/ability';
import { permittedFieldsOf, rulesToQuery } from '@casl/ability/extra';
import type { AppAbility } from '../core/context.js';
import { AppError } from '../core/errors.js';
import type { Registry } from '../core/registry.js';
import type { ResolvedDefinition } from '../core/types.js';

export type Action = 'read' | 'create' | 'update' | 'archive' | 'restore';
export type { AppAbility };

/** What a caller holds: scopes over a set of organizations. */
export interface Grant {
  scopes: readonly string[];
  orgIds: readonly string[];
}

/**
 * Whether the held scopes grant `required` (`<scope>:read`, `<scope>:write` or
 * `<scope>:sensitive`): write implies read, `*:read` reads every resource, `*` grants everything.
 * The one statement of these rules: abilities and the scoped OpenAPI document both use it.
 */
export function grantsScope(held: ReadonlySet<string>, required: string): boolean {
  if (held.has('*') || held.has(required)) return true;
  const [scope, level] = required.split(':');
  return level === 'read' && (held.has(`${scope}:write`) || held.has('*:read'));
}

/**
 * Builds the CASL ability of a grant. `<scope>:read` reads a resource without its sensitive
 * fields, `<scope>:write` creates and changes it (and so also reads it), `<scope>:sensitive`
 * adds the sensitive fields; `*:read` reads everything non-sensitive, `*` is everything.
 * Tenant resources are limited to the grant's organizations by a condition on org_id.
 */
export function buildAbility(registry: Registry, grant: Grant, jobReadScopes: ReadonlyMap<string, string> = new Map()): AppAbility {
  const { can, cannot, build } = new AbilityBuilder<AppAbility>(createMongoAbility);
  const scopes = new Set(grant.scopes);
  for (const def of registry.exposed()) {
    const write = grantsScope(scopes, `${def.scope}:write`);
    const read = grantsScope(scopes, `${def.scope}:read`);
    const sensitive = grantsScope(scopes, `${def.scope}:sensitive`);
    const cond = def.tenant ? { org_id: { $in: [...grant.orgIds] } } : undefined;
    if (read) {
      const plainFields = def.outputFields.filter((f) => !def.sensitiveFields.includes(f));
      if (sensitive) can('read', def.subject, cond as any);
      else can('read', def.subject, plainFields, cond as any);
    }
    if (write && !def.readOnlyResource) {
      const actions: Action[] = def.appendOnly ? ['create'] : ['create', 'update', ...(def.archivable ? (['archive', 'restore'] as Action[]) : [])];
      can(actions, def.subject, cond as any);
      // Writing a sensitive field needs `:sensitive` as reading it does: otherwise a write-only
      // key could confirm a guessed value (an update that changes nothing keeps the version).
      if (!sensitive && def.sensitiveFields.length) cannot(['create', 'update'], def.subject, def.sensitiveFields as string[]);
    }
    // Without jobs:read, the jobs of types whose report is data of a resource the grant reads
    // (an import's outcome) are readable, in its organizations, without their sensitive fields.
    if (def.name === 'job' && !read) {
      const types = [...jobReadScopes].filter(([, scope]) => grantsScope(scopes, scope)).map(([type]) => type);
      const plainFields = def.outputFields.filter((f) => !def.sensitiveFields.includes(f));
      if (types.length) can('read', def.subject, plainFields, { org_id: { $in: [...grant.orgIds] }, type: { $in: types } } as any);
    }
  }
  return build();
}

/** Whether the ability allows the action on the resource in this org. */
export function can(ability: AppAbility, action: Action, def: ResolvedDefinition, orgId?: string): boolean {
  const target = def.tenant ? asSubject(def.subject, { org_id: orgId }) : def.subject;
  return ability.can(action, target as any);
}

/** Throws `forbidden` unless the ability allows the action on the resource in this org. */
export function assertCan(ability: AppAbility, action: Action, def: ResolvedDefinition, orgId?: string): void {
  if (!can(ability, action, def, orgId) && !(def.tenant && narrowedInOrg(ability, action, def, orgId))) {
    throw new AppError('forbidden', `This key may not ${action} ${def.path}: it needs the '${def.scope}:${action === 'read' ? 'read' : 'write'}' scope`);
  }
}

/**
 * A rule narrowed beyond the organization (jobs of some types) still grants the action in its
 * organizations: which rows it reaches is rowConditions' business, as for every list and read.
 */
function narrowedInOrg(ability: AppAbility, action: Action, def: ResolvedDefinition, orgId?: string): boolean {
  return ability.rulesFor(action, def.subject).some((rule) => {
    const cond = rule.conditions as { org_id?: { $in?: string[] } } | undefined;
    return !rule.inverted && Object.keys(cond ?? {}).length > 1 && orgId !== undefined && !!cond?.org_id?.$in?.includes(orgId);
  });
}

/** Throws `forbidden` when the body sets a field the ability may not write (sensitive ones). */
export function assertCanWriteFields(ability: AppAbility, action: 'create' | 'update', def: ResolvedDefinition, fields: string[]): void {
  const denied = fields.filter((f) => def.fields[f] && !ability.can(action, def.subject, f));
  if (denied.length) {
    throw new AppError('forbidden', `Writing ${denied.join(', ')} needs the '${def.scope}:sensitive' scope`, denied.map((f) => ({ path: `/body/${f}`, message: 'needs the sensitive scope' })));
  }
}

/** Fields of the resource the ability may read (sensitive ones only with `:sensitive`). */
export function readableFields(ability: AppAbility, def: ResolvedDefinition): Set<string> {
  return new Set(permittedFieldsOf(ability, 'read', def.subject, { fieldsFrom: (rule) => rule.fields || def.outputFields }));
}

export function canReadField(ability: AppAbility, def: ResolvedDefinition, field: string): boolean {
  return ability.can('read', def.subject, field);
}

/**
 * The row-level conditions of the ability as `{column: allowed values}`: the list operations AND
 * them into their base query, so a list can never return a row the ability could not read.
 */
const conditionCache = new WeakMap<AppAbility, Map<string, Record<string, string[]> | null>>();

export function rowConditions(ability: AppAbility, action: Action, def: ResolvedDefinition): Record<string, string[]> | null {
  // An ability never changes once built, so its conditions are worked out once per subject.
  let cache = conditionCache.get(ability);
  if (!cache) conditionCache.set(ability, (cache = new Map()));
  const key = `${action}:${def.subject}`;
  if (!cache.has(key)) cache.set(key, computeRowConditions(ability, action, def));
  return cache.get(key)!;
}

function computeRowConditions(ability: AppAbility, action: Action, def: ResolvedDefinition): Record<string, string[]> | null {
  const query = rulesToQuery(ability, action, def.subject, (rule) => {
    if (rule.inverted) throw new Error('inverted rules are not supported in row conditions');
    return rule.conditions ?? {};
  });
  if (query === null) return null; // nothing allowed
  const out: Record<string, string[]> = {};
  for (const cond of (query.$or ?? []) as Record<string, any>[]) {
    for (const [col, value] of Object.entries(cond)) {
      const values: string[] = value && typeof value === 'object' && '$in' in value ? value.$in : [value];
      out[col] = [...new Set([...(out[col] ?? []), ...values])];
    }
  }
  return out;
}
