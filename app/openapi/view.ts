// Whose document it is. The full document is the view of scope `*`; a scoped document is the view
// of a caller's scopes: only the operations those scopes allow, and sensitive fields only with
// `<scope>:sensitive`. The rules are those of the abilities (grantsScope in app/auth/ability.ts).

import { grantsScope } from '../auth/ability.js';
import type { Registry } from '../core/registry.js';
import type { ResolvedDefinition } from '../core/types.js';

export type Access = 'read' | 'write';

export class DocumentView {
  private readonly held: ReadonlySet<string>;

  constructor(readonly scopes: readonly string[]) {
    this.held = new Set(scopes);
  }

  holds(scope: string): boolean {
    return grantsScope(this.held, scope);
  }

  can(def: ResolvedDefinition, access: Access): boolean {
    return !def.internal && this.holds(`${def.scope}:${access}`);
  }

  seesSensitive(def: ResolvedDefinition): boolean {
    return this.holds(`${def.scope}:sensitive`);
  }

  /** Whether a field (or a computed or system one) of the definition appears in this document. */
  sees(def: ResolvedDefinition, field: string): boolean {
    return !def.sensitiveFields.includes(field) || this.seesSensitive(def);
  }

  /** The create operation exists and is usable: no required field is hidden from this view. */
  creates(def: ResolvedDefinition): boolean {
    if (def.readOnlyResource || !this.can(def, 'write')) return false;
    return def.writableFields.every((f) => this.sees(def, f) || !def.fields[f].required);
  }

  /** PATCH and PUT exist (append-only and read-only resources have none). */
  updates(def: ResolvedDefinition): boolean {
    return !def.readOnlyResource && !def.appendOnly && this.can(def, 'write');
  }

  /** DELETE, archive and restore exist. */
  archives(def: ResolvedDefinition): boolean {
    return !def.readOnlyResource && def.archivable && this.can(def, 'write');
  }

  /**
   * The relations `?include=` may embed for this view, with their target: including a resource
   * the caller may not read is a 403, so those are left out.
   */
  relations(registry: Registry, def: ResolvedDefinition): { name: string; target: ResolvedDefinition; many: boolean; field: string }[] {
    const out: { name: string; target: ResolvedDefinition; many: boolean; field: string }[] = [];
    for (const [name, bt] of Object.entries(def.belongsTo)) {
      out.push({ name, target: registry.get(bt.resource), many: false, field: bt.field });
    }
    for (const [name, hm] of Object.entries(def.hasMany ?? {})) {
      out.push({ name, target: registry.get(hm.resource), many: true, field: hm.foreignKey });
    }
    return out.filter((r) => this.can(r.target, 'read'));
  }
}

/** The view of the full document. */
export const FULL_VIEW = new DocumentView(['*']);
