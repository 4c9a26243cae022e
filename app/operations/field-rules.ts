import { AppError } from '../core/errors.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Runtime } from '../runtime.js';
import { collectionSegments } from './paths.js';
import type { Row } from './records.js';

/**
 * A field owned by a record action (`changedBy`) is refused in plain creates and updates once a
 * plugin provides that action: its changes then follow the action's rules (allowed transitions).
 */
export function assertChangeableFields(rt: Runtime, def: ResolvedDefinition, body: Row, operation: 'create' | 'update'): void {
  const owned = Object.keys(body).filter((name) => {
    const field = def.fields[name];
    if (field?.changedBy === undefined || rt.kernel.action(def.name, field.changedBy, 'record') === undefined) return false;
    // A create may still start the record in one of the field's initial values.
    return !(operation === 'create' && field.createValues?.includes(body[name]));
  });
  if (!owned.length) return;
  throw new AppError('validation_error', 'These fields are changed by an action of their own', owned.map((name) => {
    const field = def.fields[name];
    const via = `is changed with POST …/${collectionSegments(def)}/{id}/${field.changedBy}`;
    return {
      path: `/body/${name}`,
      message: operation === 'create' && field.createValues?.length ? `must be one of ${field.createValues.join(', ')} on create; it ${via}` : via,
    };
  }));
}
