import { AppError, validationError } from '../core/errors.js';
import type { Runtime } from '../runtime.js';
import { runWrite } from './pipeline.js';
import type { Row } from './records.js';
import { openScope, type ResourceArgs } from './scope.js';
import { duplicateError, updateRow } from './write-helpers.js';
import { copyRow } from '../db/codec.js';

export interface RecordArgs extends ResourceArgs {
  id: string;
}

export interface ArchiveArgs extends RecordArgs {
  /**
   * The version the archive is based on (`?base_version=` or `If-Match`): a stale one is a 409.
   * Optional unless the definition requires it to archive.
   */
  baseVersion?: number;
}

async function setArchived(rt: Runtime, args: ArchiveArgs, archived: boolean): Promise<Row> {
  const { s, def } = openScope(rt, args);
  const operation = archived ? 'archive' : 'restore';
  const codec = s.gen.codec(def.name);
  if (archived && args.baseVersion === undefined && def.requireBaseVersionToArchive) {
    throw validationError([{ path: '/query/base_version', message: 'is required (or send an If-Match header)' }]);
  }
  let outcome;
  try {
    outcome = await runWrite(s, {
      operation,
      ability: operation,
      def,
      input: {},
      validate: () => ({}),
      parentId: args.parentId,
      id: args.id,
      includeArchived: !archived,
      baseVersion: archived ? args.baseVersion : undefined,
      event: archived ? 'archived' : 'restored',
      async write(state, trx) {
        const current = state.current!;
        if (!archived && current.deleted_at === null) {
          throw new AppError('unprocessable', `${def.name.replace(/-/g, ' ')} is not archived`, [{ path: '/path/id', message: 'is not archived' }]);
        }
        const now = new Date().toISOString();
        // `data` starts empty; a beforeChange hook may add changes that go with the archive or restore
        // (a restored patient becomes inactive), written, counted and audited in the same update.
        const next: Row = copyRow(current, state.data, { deleted_at: archived ? now : null, updated_at: now });
        const set: Row = { ...codec.toDb(state.data), deleted_at: next.deleted_at, updated_at: now };
        if (def.versioned) {
          next.version = (current.version as number) + 1;
          set.version = next.version;
        }
        await updateRow(rt, trx, def.table, args.id, set);
        return next;
      },
    });
  } catch (err) {
    // A restore may bring back a value a live record has taken since (a tag assigned again).
    throw duplicateError(def, err) ?? err;
  }
  return outcome.answered!;
}

/** Soft delete: sets deleted_at; the record leaves default lists. Nothing is hard-deleted. */
export const archiveRecord = (rt: Runtime, args: ArchiveArgs) => setArchived(rt, args, true);

export const restoreRecord = (rt: Runtime, args: RecordArgs) => setArchived(rt, args, false);
