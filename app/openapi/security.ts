// How the document states authentication: one bearer scheme (API key or JWT) and, per operation,
// the key scope it needs. Scopes are properties of API keys, not OAuth2 scopes (there is no OAuth2
// flow yet), so bearer requirements list none; the scope is named in the operation's
// `x-required-scopes` and description, and `x-scopes` on the scheme lists every scope.

import type { Registry } from '../core/registry.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Obj } from './common.js';
import { label, plural } from './names.js';

/** The other scopes that also grant `scope`, as the description of an operation states them. */
export function alsoGrantedBy(scope: string): string[] {
  const [name, level] = scope.split(':');
  if (scope === '*') return [];
  if (level === 'read' && name !== '*') return [`${name}:write`, '*:read', '*'];
  return ['*'];
}

/** The security of an operation that needs `scope`. */
export function requiresScope(scope: string): Record<string, unknown> {
  return { security: [{ bearerAuth: [] }], 'x-required-scopes': [scope] };
}

/** The sentence of an operation's description that names its scope and the ones that also grant it. */
export function scopeSentence(scope: string): string {
  const others = alsoGrantedBy(scope).map((s) => `\`${s}\``);
  const also = others.length ? ` (${others.length > 1 ? `${others.slice(0, -1).join(', ')} or ${others.at(-1)} also grant it` : `${others[0]} also grants it`})` : '';
  return `Requires the \`${scope}\` scope${also}.`;
}

/** Every scope an API key can usefully hold, with what it grants. */
export function scopeCatalog(registry: Registry): Record<string, string> {
  const byScope = new Map<string, ResolvedDefinition[]>();
  for (const def of registry.exposed()) byScope.set(def.scope, [...(byScope.get(def.scope) ?? []), def]);
  const catalog: Record<string, string> = {};
  const names = (defs: ResolvedDefinition[]) => defs.map((d) => plural(label(d))).join(', ');
  for (const [scope, defs] of [...byScope.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const sensitive = defs.filter((d) => d.sensitiveFields.length);
    const writable = defs.filter((d) => !d.readOnlyResource);
    catalog[`${scope}:read`] = `Read ${names(defs)}${sensitive.length ? ' (without sensitive fields)' : ''}.`;
    if (writable.length) catalog[`${scope}:write`] = `Create and change ${names(writable)}; implies \`${scope}:read\`.`;
    // Field names stay in the schemas, where a scoped document shows them only to holders.
    if (sensitive.length) catalog[`${scope}:sensitive`] = `Read (and, with \`${scope}:write\`, write) the sensitive fields of ${names(sensitive)}.`;
  }
  catalog['*:read'] = 'Read every resource, without sensitive fields.';
  catalog['*'] = 'Every operation on every resource, sensitive fields included.';
  return catalog;
}

/** The one security scheme: `Authorization: Bearer <API key or JWT>`. */
export function bearerScheme(registry: Registry): Obj {
  return {
    type: 'http',
    scheme: 'bearer',
    description:
      'An API key (`sk_live_…`) or a JWT from `/api/v1/auth/token`. What a key may do is set by its scopes: ' +
      'each operation names the one it needs in `x-required-scopes`, and `x-scopes` here lists them all.',
    'x-scopes': scopeCatalog(registry),
  };
}
