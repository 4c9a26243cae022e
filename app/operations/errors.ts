import { AppError } from '../core/errors.js';

export const versionConflict = (current: number, base: number) =>
  new AppError('version_conflict', `The record has changed since version ${base}: it is now at version ${current}`, [
    { path: '/body/base_version', message: 'is stale', current_version: current, base_version: base },
  ]);
