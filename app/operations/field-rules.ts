import { AppError } from '../core/errors.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Runtime } from '../runtime.js';
import { collectionSegments } from './paths.js';
import type { Row } from './records.js';

/**
 * A field owned by a record action (`changedBy`) is refused in plain creates and updates once a
 * plugin provides that action: its changes then follow the action's rules (allowed transitions).
 */
export function assertChangeableFields(rt: Runtime, def: ResolvedDefinition, body: Row): void {
  const owned = Object.keys(body).filter((name) => {
    const action = def.fields[name]?.changedBy;
    return action !== undefined && rt.kernel.action(def.name, action, 'record') !== undefined;
  });
  if (!owned.length) return;
  throw new AppError('validation_error', 'These fields are changed by an action of their own', owned.map((name) => ({
    path: `/body/${name}`,
    message: `is changed with POST …/${collectionSegments(def)}/{id}/${def.fields[name].changedBy}`,
  })));
}
