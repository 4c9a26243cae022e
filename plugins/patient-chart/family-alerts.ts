import type { Model, QueryBuilderType } from 'objection';
import { AppError, validationError } from '../../app/core/errors.js';
import type { ErrorCodeInfo } from '../../app/core/errors.js';
import type { ActionDefinition, HookRegistration, ListRule, Row, WriteState } from '../../app/core/plugin.js';
import type { OperationContext } from '../../app/core/context.js';
import { runAction } from '../../app/operations/action.js';
import { versionConflict } from '../../app/operations/errors.js';
import { listRecords } from '../../app/operations/list.js';
import type { Runtime } from '../../app/runtime.js';

// Seed 001 §3.12 / §3.13: a patient's relationships and guardianship, the guarantor family, and the
// alert lifecycle (disable, archive by status, bulk dismiss, family-scoped alerts).

/** Most alerts one bulk-dismiss may name (seed 001 §1.2). */
export const BULK_DISMISS_MAX = 50;

export const familyErrors = {
  self_relationship: { status: 422, description: 'A patient cannot have a relationship with itself.' },
  too_many_alerts: { status: 422, description: `A bulk dismiss names more than ${BULK_DISMISS_MAX} alerts.` },
} satisfies Record<string, ErrorCodeInfo>;

type Query = (resource: string) => QueryBuilderType<Model>;

/**
 * The guarantor family of a patient (seed 001 §3.12, §4.3): its guarantor (responsible_party_id;
 * the patient itself when it has none) and every patient that guarantor answers for. So the family
 * holds the patient and the guarantor too, and a patient with neither guarantor nor dependents is a
 * family of one. Archived patients are left out. Ids, oldest first.
 */
export async function familyIds(query: Query, patient: Row): Promise<string[]> {
  const guarantor = (patient.responsible_party_id as string | null) ?? (patient.id as string);
  const rows = (await query('patient')
    .where((q) => q.where('patients.id', guarantor).orWhere('patients.responsible_party_id', guarantor))
    .select('patients.id')
    .orderBy('patients.id')) as unknown as { id: string }[];
  const ids = rows.map((r) => r.id);
  // The patient belongs to its own family even when its guarantor is archived.
  return ids.includes(patient.id as string) ? ids : [patient.id as string, ...ids];
}

/** Every page of a list read through the list operation (its permissions, tenancy and read audit). */
async function readAll(rt: Runtime, ctx: OperationContext, args: { resource: string; parentId?: string; acrossParents?: boolean; query: Row }): Promise<Row[]> {
  const out: Row[] = [];
  let after: string | null = null;
  do {
    const page = await listRecords(rt, { ...args, ctx, query: { ...args.query, limit: '100', ...(after ? { after } : {}) } });
    out.push(...page.data);
    after = page.page_info.has_next_page ? page.page_info.end_cursor : null;
  } while (after);
  return out;
}

const listOf = (subject: string, what: string) => ({ type: 'array', description: what, items: { $ref: `#/components/schemas/${subject}` } });

export const familyActions: ActionDefinition[] = [
  {
    resource: 'patient',
    name: 'dependents',
    on: 'record',
    method: 'get',
    access: 'read',
    summary: "List a patient's dependents (guardianship)",
    description:
      'The relationships in which this patient is the legal guardian of another patient: those it is the source of with `is_guardian=true`, ' +
      'newest first, each with the dependent embedded as `to_patient`. Financial dependents (patients this one is guarantor of) are `GET …/family`.',
    input: { type: 'object', properties: {} },
    output: listOf('PatientRelationship', 'Relationships, with `to_patient` embedded.'),
    run: async ({ rt, ctx, current }) => ({
      result: await readAll(rt, ctx, { resource: 'patient-relationship', parentId: current!.id as string, query: { is_guardian: 'true', include: 'to_patient' } }),
    }),
  },
  {
    resource: 'patient',
    name: 'guardians',
    on: 'record',
    method: 'get',
    access: 'read',
    summary: "List a patient's legal guardians",
    description:
      'The relationships in which another patient is the legal guardian of this one: those whose target it is with `is_guardian=true`, ' +
      'newest first, each with the guardian embedded as `from_patient`.',
    input: { type: 'object', properties: {} },
    output: listOf('PatientRelationship', 'Relationships, with `from_patient` embedded.'),
    run: async ({ rt, ctx, current }) => ({
      result: await readAll(rt, ctx, { resource: 'patient-relationship', acrossParents: true, query: { to_patient_id: current!.id, is_guardian: 'true', include: 'from_patient' } }),
    }),
  },
  {
    resource: 'patient',
    name: 'family',
    on: 'record',
    method: 'get',
    access: 'read',
    summary: "List a patient's guarantor family",
    description:
      "The patients sharing this patient's guarantor (`responsible_party_id`): the guarantor itself (this patient when it has none) and every patient " +
      'it is the guarantor of, this patient included, sorted by last and first name. Archived patients are left out; a patient with neither a guarantor ' +
      'nor dependents is a family of one.',
    input: { type: 'object', properties: {} },
    output: listOf('Patient', 'Patients of the family.'),
    run: async ({ rt, ctx, current, query }) => {
      const ids = await familyIds(query, current!);
      const members: Row[] = [];
      for (let i = 0; i < ids.length; i += 100) {
        members.push(...(await readAll(rt, ctx, { resource: 'patient', query: { 'id[in]': ids.slice(i, i + 100), sort: 'last_name,first_name' } })));
      }
      return { result: members };
    },
  },
  {
    resource: 'patient-alert',
    name: 'disable',
    on: 'record',
    summary: 'Disable an alert',
    description:
      'Sets `status` to `disabled` and `date_disabled` to now; the alert stays on the chart record but is no longer active. Needs `base_version`. ' +
      'An alert already disabled, or archived, is refused with `invalid_transition`.',
    input: {
      type: 'object',
      properties: { base_version: { type: 'integer', minimum: 1, description: 'The version the change is based on; a stale one is a version_conflict.' } },
      required: ['base_version'],
    },
    errors: ['invalid_transition', 'version_conflict'],
    run: ({ current, input }) => {
      const alert = current!;
      if (alert.version !== input.base_version) throw versionConflict(alert.version as number, input.base_version as number);
      if (alert.status !== 'active') {
        throw new AppError('invalid_transition', `The alert is ${alert.status}: only an active alert can be disabled`, [
          { path: '/path/id', message: `is ${alert.status}`, from: alert.status, to: 'disabled' },
        ]);
      }
      return { changes: { status: 'disabled', date_disabled: new Date().toISOString() } };
    },
  },
  {
    resource: 'patient-alert',
    name: 'archive',
    on: 'record',
    summary: 'Archive an alert (by status)',
    description:
      'Sets `status` to `archived`: the alert leaves default lists and is listed again with `status=archived`. Alerts are not soft-deleted, ' +
      'so there is no restore; PATCH `status` can bring one back. No `base_version` needed; an archived alert is answered unchanged.',
    input: { type: 'object', properties: {} },
    run: ({ current }) => (current!.status === 'archived' ? {} : { changes: { status: 'archived' } }),
  },
  {
    resource: 'patient-alert',
    name: 'bulk-dismiss',
    on: 'collection',
    summary: 'Archive several alerts of the patient at once',
    description:
      `Archives up to ${BULK_DISMISS_MAX} alerts of this patient in one transaction; more is refused with \`too_many_alerts\` (422). ` +
      "An id no alert of this patient has (unknown, or another patient's) is a 404 and nothing is archived. Alerts already archived are skipped. " +
      'Answers the ids archived and the ids skipped.',
    input: {
      type: 'object',
      properties: {
        alert_ids: { type: 'array', minItems: 1, items: { type: 'string', format: 'uuid' }, description: `The alerts to archive, 1 to ${BULK_DISMISS_MAX}.` },
      },
      required: ['alert_ids'],
    },
    output: {
      type: 'object',
      properties: {
        archived: { type: 'array', items: { type: 'string', format: 'uuid' }, description: 'The alerts archived by this call.' },
        skipped: { type: 'array', items: { type: 'string', format: 'uuid' }, description: 'The alerts that were archived already.' },
      },
      required: ['archived', 'skipped'],
    },
    errors: ['too_many_alerts'],
    run: async ({ rt, ctx, parentId, input, query }) => {
      const ids = [...new Set(input.alert_ids as string[])];
      if (ids.length > BULK_DISMISS_MAX) {
        throw new AppError('too_many_alerts', `At most ${BULK_DISMISS_MAX} alerts can be dismissed at once; ${ids.length} were given`, [
          { path: '/body/alert_ids', message: `has ${ids.length} ids, more than ${BULK_DISMISS_MAX}` },
        ]);
      }
      const found = (await query('patient-alert').whereIn('patient_alerts.id', ids).where('patient_alerts.patient_id', parentId!).select('patient_alerts.id', 'patient_alerts.status')) as unknown as { id: string; status: string }[];
      const byId = new Map(found.map((a) => [a.id.toLowerCase(), a]));
      const missing = ids.filter((id) => !byId.has(id.toLowerCase()));
      if (missing.length) {
        throw new AppError('not_found', `${missing.length} of the alerts ${missing.length === 1 ? 'is' : 'are'} not alerts of this patient`, missing.map((id) => ({ path: '/body/alert_ids', message: `no alert '${id}' on this patient` })));
      }
      const archived: string[] = [];
      const skipped: string[] = [];
      for (const id of ids) {
        const alert = byId.get(id.toLowerCase())!;
        if (alert.status === 'archived') {
          skipped.push(alert.id);
          continue;
        }
        // The same archive as POST …/archive, joined to this transaction: audited and versioned per alert.
        await runAction(rt, { resource: 'patient-alert', ctx, parentId, id: alert.id, action: 'archive', body: {} });
        archived.push(alert.id);
      }
      return { result: { archived, skipped } };
    },
  },
];

/** Seed 001 §4.23: a relationship links two patients; one of itself says nothing. */
function refuseSelfRelationship(state: WriteState): void {
  if (typeof state.data.to_patient_id === 'string' && state.parentId !== undefined && state.data.to_patient_id.toLowerCase() === state.parentId.toLowerCase()) {
    throw new AppError('self_relationship', 'A patient cannot have a relationship with itself', [{ path: '/body/to_patient_id', message: 'is the patient in the URL' }]);
  }
}

/** A new alert is active: status and date_disabled belong to its lifecycle (disable, archive, PATCH). */
function refuseLifecycleOnCreate(state: WriteState): void {
  const given = ['status', 'date_disabled'].filter((f) => Object.hasOwn(state.input, f));
  if (given.length) throw validationError(given.map((f) => ({ path: `/body/${f}`, message: 'is not accepted on create: a new alert is active' })));
}

/** Seed 001 §3.13, §4.14: what a create leaves out comes from the catalog entry, then from the seed's defaults. */
async function alertDefaults(state: WriteState): Promise<void> {
  if (state.data.alert_scope !== undefined && state.data.is_urgent !== undefined) return;
  const definition = (await state.query('patient-alert-definition').findById(state.data.alert_definition_id as string)) as unknown as Row | undefined;
  // An unknown or archived entry is refused by the reference check that follows.
  state.data.alert_scope ??= definition?.default_scope ?? 'patient';
  // The model hands back the stored form (SQLite keeps booleans as 0/1).
  state.data.is_urgent ??= Boolean(definition?.default_is_urgent ?? false);
}

/** A PATCH of status keeps date_disabled in step unless it sets date_disabled itself. */
function alertStatusDates(state: WriteState): void {
  if (!('status' in state.data) || 'date_disabled' in state.data) return;
  if (state.data.status === 'disabled') state.data.date_disabled = new Date().toISOString();
  if (state.data.status === 'active' && state.current?.date_disabled) state.data.date_disabled = null;
}

export const familyHooks: { beforeValidate: HookRegistration[]; beforeChange: HookRegistration[] } = {
  beforeValidate: [{ resource: 'patient-alert', operations: ['create'], hook: refuseLifecycleOnCreate }],
  beforeChange: [
    { resource: 'patient-relationship', operations: ['create'], hook: refuseSelfRelationship, errors: ['self_relationship'] },
    { resource: 'patient-alert', operations: ['create'], hook: alertDefaults },
    { resource: 'patient-alert', operations: ['update'], hook: alertStatusDates },
  ],
};

export const familyLists: ListRule[] = [
  {
    resource: 'patient-alert',
    params: {
      include_family: {
        type: 'boolean',
        description: "Also list the family-scoped alerts of the patient's guarantor family (`GET /patients/{id}/family`). Default false.",
      },
    },
    description: 'Archived alerts are left out unless `status` is filtered on (`status=archived`).',
    async prepare({ parentId, params, filtered, query }) {
      const hideArchived = !filtered.includes('status');
      let relatives: string[] = [];
      if (params.include_family && parentId) {
        const patient = (await query('patient').findById(parentId)) as unknown as Row | undefined;
        if (patient) relatives = (await familyIds(query, patient)).filter((id) => id !== patient.id);
      }
      // With include_family the rows depend on the patients table too (who the relatives are): not cached.
      if (!relatives.length) {
        return { uncached: !!params.include_family, ...(hideArchived ? { where: (qb) => void qb.whereNot('patient_alerts.status', 'archived') } : {}) };
      }
      return {
        replacesParent: true,
        uncached: true,
        where: (qb) => {
          qb.where((w) => w.where('patient_alerts.patient_id', parentId!).orWhere((o) => o.where('patient_alerts.alert_scope', 'family').whereIn('patient_alerts.patient_id', relatives)));
          if (hideArchived) qb.whereNot('patient_alerts.status', 'archived');
        },
      };
    },
  },
];
