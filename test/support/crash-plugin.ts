import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { defineEntity } from '../../app/core/define.js';
import { AppError } from '../../app/core/errors.js';
import { definePlugin } from '../../app/core/plugin.js';

// The test plugin of test/kernel/crash-recovery.test.ts, shared by the child process it kills
// (test/support/crash-child.ts) and the runtime that takes over the same database afterwards.
//
// - `crash-note`: a small tenant resource.
// - `crash-delivery`: an internal table the `crash-note.created` subscriber writes the event id
//   into. `event_id` is unique and a duplicate insert is ignored: delivery is at least once, so a
//   redelivered event must still leave exactly one row.
// - hooks that refuse a change from inside the write's transaction, chosen by the note's title:
//   `refuse-before…` in beforeChange, `refuse-after…` in afterChange (after the insert and the
//   audit row). `onAfterChange` sees the record the afterChange hook was given.

export const CRASH_NOTE_TABLE = 'crash_notes';
export const CRASH_DELIVERY_TABLE = 'crash_deliveries';

export const crashNoteDefinition = defineEntity({
  name: 'crash-note',
  path: 'crash-notes',
  table: CRASH_NOTE_TABLE,
  scope: 'crash-notes',
  tenant: true,
  description: 'A note written by the crash-recovery test.',
  defaultSort: 'title',
  fields: {
    title: { type: 'string', required: true, minLength: 1, maxLength: 200, filter: true, sort: true },
  },
});

export const crashDeliveryDefinition = defineEntity({
  name: 'crash-delivery',
  path: 'crash-deliveries',
  table: CRASH_DELIVERY_TABLE,
  scope: 'crash-deliveries',
  tenant: false,
  internal: true,
  versioned: false,
  archivable: false,
  audited: false,
  fields: {
    event_id: { type: 'uuid', required: true, unique: true },
    note_id: { type: 'uuid', required: true },
  },
});

export const CRASH_REFUSED = 'crash_refused';

export interface CrashPluginOptions {
  /** The database the subscriber writes to; it waits for it (a sweep may start before the runtime is returned). */
  knex: Promise<Knex>;
  /** Called with the record an afterChange hook saw before it refused the change. */
  onAfterChange?: (record: Record<string, unknown>) => void;
  /**
   * A slow afterCommit hook for notes whose title contains `[slow]`: the write is committed but
   * not yet answered for this long, which widens the window in which a kill leaves committed
   * writes whose callers never got an answer.
   */
  afterCommitDelayMs?: number;
  /**
   * How long a note whose title contains `[held]` waits in beforeValidate, before its transaction
   * begins: killed meanwhile, it is a request that certainly never committed. A note whose title
   * contains `[kept]` waits as long in afterCommit: killed meanwhile, it is a request that
   * certainly committed and was never answered.
   */
  heldMs?: number;
}

export function crashPlugin(o: CrashPluginOptions) {
  return definePlugin({
    name: 'crash-test',
    definitions: [crashNoteDefinition, crashDeliveryDefinition],
    errors: { [CRASH_REFUSED]: { status: 422, description: 'The crash-recovery test plugin refused the change.' } },
    hooks: {
      beforeValidate: [
        {
          resource: 'crash-note',
          operations: ['create'],
          hook: async (state) => {
            if (o.heldMs && String(state.input.title).includes('[held]')) await new Promise((resolve) => setTimeout(resolve, o.heldMs));
          },
        },
      ],
      beforeChange: [
        {
          resource: 'crash-note',
          operations: ['create'],
          hook: (state) => {
            if (String(state.data.title).startsWith('refuse-before')) {
              throw new AppError(CRASH_REFUSED, 'refused before the change', [{ path: '/body/title', message: 'is refused (beforeChange)' }]);
            }
          },
        },
      ],
      afterChange: [
        {
          resource: 'crash-note',
          operations: ['create'],
          hook: (state) => {
            if (String(state.data.title).startsWith('refuse-after')) {
              o.onAfterChange?.({ ...state.record });
              state.emit('crash-note.refused', { reason: 'afterChange' });
              throw new AppError(CRASH_REFUSED, 'refused after the change', [{ path: '/body/title', message: 'is refused (afterChange)' }]);
            }
          },
        },
      ],
      afterCommit: [
        {
          resource: 'crash-note',
          operations: ['create'],
          hook: async (state) => {
            if (o.afterCommitDelayMs && String(state.record?.title).includes('[slow]')) await new Promise((resolve) => setTimeout(resolve, o.afterCommitDelayMs));
            if (o.heldMs && String(state.record?.title).includes('[kept]')) await new Promise((resolve) => setTimeout(resolve, o.heldMs));
          },
        },
      ],
    },
    events: {
      'crash-note.created': async (event) => {
        const k = await o.knex;
        const now = new Date().toISOString();
        await k(CRASH_DELIVERY_TABLE)
          .insert({ id: uuidv7(), event_id: event.id, note_id: event.resource_id, created_at: now, updated_at: now })
          .onConflict('event_id')
          .ignore();
      },
      // Subscribed so that its outbox rows would wait for delivery (a refused change must leave none).
      'crash-note.refused': async () => {},
    },
  });
}

/** A promise of a value given later (the runtime's knex, once createRuntime returns). */
export function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
