import type { Knex } from 'knex';
import { assertCan, assertCanWriteFields, type Action } from '../auth/ability.js';
import { diffRecords } from '../audit/audit-writer.js';
import { validationError } from '../core/errors.js';
import type { HookName, Row, WriteOperation, WriteState } from '../core/plugin.js';
import type { ResolvedDefinition } from '../core/types.js';
import { recordCountChanges } from '../counts/maintain.js';
import type { OutboxEvent } from '../events/outbox.js';
import { newEvent } from '../events/outbox.js';
import { versionConflict } from './errors.js';
import { committed } from './write-helpers.js';
import { addComputed, assertParent, assertReferences, loadRow, modelQuery, present, type Scope } from './records.js';

// The one write pipeline. Every create, update, archive, restore and plugin action, from every
// caller (REST, admin, jobs, plugins, CLI, seeding), runs these steps in this order:
//
//   authorize        CASL: the action on the resource in this org, and every field written
//   beforeValidate   hooks may reshape the raw input
//   validate         the schema generation's compiled Ajv schema
//   transaction {
//     load           the stored record, locked for update (update, archive, restore, record actions)
//     version check  a stale base version is a 409
//     beforeChange   hooks may change `data` or refuse with an error value
//     references     every referenced record exists in the organization
//     write          insert or conditional update
//     audit          the audit row, in the same transaction
//     afterChange    hooks write derived rows
//     outbox         `<resource>.<event>` and every emitted event, in the same transaction
//   }
//   afterCommit      cache generations (the write's table and those hooks touched), schema
//                    generations, event dispatch, then hooks;
//                    nothing here can fail the write (errors are logged)

export interface WriteSpec {
  operation: WriteOperation;
  /** The CASL action the caller needs. */
  ability: Action;
  def: ResolvedDefinition;
  input: Row;
  /** Check that every field of the input may be written by the caller, for this action. */
  fieldAccess?: 'create' | 'update';
  validate(input: Row): Row;
  parentId?: string;
  /** The record the write applies to (all but create and collection actions). */
  id?: string;
  includeArchived?: boolean;
  baseVersion?: number;
  /** Narrows `data` once the stored record is loaded (an update keeps only what differs). */
  prepare?(state: WriteState): void;
  /**
   * Performs the write inside the transaction. Returns the stored record after it, or null when
   * nothing changed (then nothing is audited, evented or bumped).
   */
  write(state: WriteState, trx: Knex.Transaction): Promise<Row | null>;
  /** The audit action; the operation's name unless given. */
  auditAction?: string;
  /** The event suffix (`created` → `<resource>.created`), or null for none. */
  event: string | null;
  /** Runs inside the transaction after everything else, with the record as answered (idempotency keys). */
  commitWith?: (trx: Knex.Transaction, answered: Row | null) => Promise<void>;
}

export interface WriteOutcome {
  state: WriteState;
  changed: boolean;
  /** The record as the caller may see it (null for collection actions without a record). */
  answered: Row | null;
}

/** The one check that a write's body is an object: no body reads as an empty one, as over HTTP. */
export function bodyObject(body: unknown): Row {
  const input = body === undefined ? {} : body;
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw validationError([{ path: '/body', message: 'must be a JSON object' }]);
  }
  return input as Row;
}

const deferred = new WeakMap<Knex.Transaction, (() => Promise<void>)[]>();

async function runHooks(s: Scope, name: HookName, state: WriteState): Promise<void> {
  for (const hook of s.rt.kernel.hooksFor(name, state.def.name, state.operation)) await hook(state);
}

export async function runWrite(s: Scope, spec: WriteSpec): Promise<WriteOutcome> {
  const { rt, ctx } = s;
  const { def } = spec;
  assertCan(ctx.ability, spec.ability, def, ctx.org?.id);
  const input = bodyObject(spec.input);
  if (spec.fieldAccess) assertCanWriteFields(ctx.ability, spec.fieldAccess, def, Object.keys(input));
  const emitted: { type: string; payload?: Row }[] = [];
  // Resources whose tables hooks changed besides the write's own: bumped with it after the commit.
  const touched = new Map<string, ResolvedDefinition>();
  const state: WriteState = {
    operation: spec.operation,
    def,
    ctx,
    input,
    parentId: spec.parentId,
    data: {},
    current: null,
    record: null,
    emit: (type, payload) => emitted.push({ type, payload }),
    query: (resource) => modelQuery(s, resource, state.trx),
    answer: {},
    touch: (resource) => {
      const target = s.gen.registry.get(resource);
      if (target.name !== def.name) touched.set(target.name, target);
    },
  };
  await runHooks(s, 'beforeValidate', state);
  state.data = spec.validate(state.input);
  state.baseVersion = spec.baseVersion;

  let changed = false;
  let answered: Row | null = null;
  let events: OutboxEvent[] = [];
  const body = async (trx: Knex.Transaction) => {
    state.trx = trx;
    await assertParent(s, def, spec.parentId, trx);
    if (spec.id !== undefined) {
      state.current = await loadRow(s, def, spec.id, { trx, parentId: spec.parentId, includeArchived: spec.includeArchived, action: spec.ability, forUpdate: spec.ability !== 'read' });
      if (state.baseVersion !== undefined && state.current.version !== state.baseVersion) {
        throw versionConflict(state.current.version as number, state.baseVersion);
      }
    }
    spec.prepare?.(state);
    await runHooks(s, 'beforeChange', state);
    await assertReferences(s, def, state.data, trx);
    const record = await spec.write(state, trx);
    if (record) {
      await recordCountChanges(trx, rt, def, ctx.org?.id, [{ before: state.current, after: record }]);
      changed = true;
      state.record = record;
      const changes = diffRecords(def, state.current, record);
      await rt.audit.write(trx, ctx, def, spec.auditAction ?? spec.operation, record.id as string, changes);
      await runHooks(s, 'afterChange', state);
      if (spec.event) emitted.unshift({ type: `${def.name}.${spec.event}`, payload: eventPayload(state, changes) });
    }
    events = emitted.filter((e) => rt.kernel.isSubscribed(e.type)).map((e) => newEvent(ctx, def, state.record ?? state.current, e.type, e.payload));
    await rt.events.record(trx, events);
    const shown = state.record ?? state.current;
    if (shown) {
      addComputed(def, [shown]);
      // Answer-only values override the computed ones; present() keeps only declared names.
      const computed = def.computed ?? {};
      for (const [name, value] of Object.entries(state.answer)) if (name in computed) shown[name] = value;
      answered = present(def, ctx, shown);
    }
    if (spec.commitWith) await spec.commitWith(trx, answered);
  };

  const afterCommit = async () => {
    try {
      if (changed || touched.size) await committed(rt, changed ? def : null, [...touched.values()]);
      if (events.length) rt.events.dispatch(events);
      if (changed) await runHooks(s, 'afterCommit', state);
    } catch (err) {
      rt.logger.error({ code: (err as { code?: string }).code ?? 'after_commit_failed', resource: def.name, operation: spec.operation, request_id: ctx.requestId }, 'an after-commit step failed; the write stands');
    }
  };

  const outer = ctx.transaction;
  if (outer) {
    // Joined to a caller's transaction (a plugin action's): a savepoint, and the after-commit
    // steps wait for the outermost commit.
    await outer.transaction(body);
    const list = deferred.get(outer) ?? [];
    list.push(afterCommit);
    deferred.set(outer, list);
  } else {
    await inTransaction(s, body);
    await afterCommit();
  }
  return { state, changed, answered };
}

/**
 * Runs `work` in a new transaction whose context operations can join (`ctx.transaction`); their
 * after-commit steps run once it commits. Used by actions, and by plugin and job code that makes
 * several writes atomically.
 */
export async function inTransaction<T>(s: Scope, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  let trxRef: Knex.Transaction | undefined;
  const result = await s.rt.db.knex.transaction(async (trx) => {
    trxRef = trx;
    return work(trx);
  });
  const pending = trxRef ? deferred.get(trxRef) : undefined;
  if (pending) for (const step of pending) await step();
  return result;
}

/** Events name what changed, not the values: subscribers read the record if they need it. */
function eventPayload(state: WriteState, changes: Record<string, unknown>): Row {
  const payload: Row = {};
  if (state.record?.version !== undefined) payload.version = state.record.version;
  if (state.current) payload.changed = Object.keys(changes);
  return payload;
}
