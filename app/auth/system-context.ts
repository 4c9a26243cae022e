import type { Org, OperationContext } from '../core/context.js';
import type { Runtime } from '../runtime.js';
import { buildAbility } from './ability.js';

/**
 * The context of the platform acting on its own (seeding, CLI, jobs): full scopes in one org.
 * It goes through the same operations, so validation and audit still apply.
 */
export function systemContext(rt: Runtime, org: Org | undefined, label = 'system'): OperationContext {
  return {
    actor: { type: 'system', id: label, label },
    ability: buildAbility(rt.registry, { scopes: ['*'], orgIds: org ? [org.id] : [] }),
    org,
  };
}
