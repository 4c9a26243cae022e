import type { ActionArgs, ActionDefinition, FindSpec, Row } from '../../app/core/plugin.js';
import { ResultCache } from '../../app/db/write-generations.js';
import { presentedNames } from '../../app/operations/records.js';
import type { Runtime } from '../../app/runtime.js';

// Seed 001 §1.7, §2.12, §3.16: `GET /patients/{id}/medical-summary`, the chart header of a
// clinical screen. It reads a fixed set of queries whatever the chart's size: the patient, one
// query per section and one per embedded catalog (each a batched `include`), every one limited to
// what the caller may read. The composed answer is kept per write generation of every table it
// reads (as list pages are), so a chart header shown again is not composed again until one of
// those tables changes; the read is audited on every answer all the same.

/** The most rows of one section the summary carries (a chart longer than this is paged at the section's own route). */
export const SUMMARY_SECTION_LIMIT = 500;

const PAST_MEDICATION_STATUSES = ['completed', 'discontinued', 'on_hold'];
const ref = (subject: string) => ({ $ref: `#/components/schemas/${subject}` });
const listOf = (subject: string, what: string) => ({ type: 'array', description: what, items: ref(subject) });

/** The sections: resource, table, the catalog relation it embeds and that catalog's resource. */
const SECTIONS = {
  allergies: { resource: 'patient-allergy', table: 'patient_allergies', relation: 'allergy_definition', catalog: 'allergy-definition' },
  medications: { resource: 'patient-medication', table: 'patient_medications', relation: 'medication_definition', catalog: 'medication-definition' },
  problems: { resource: 'patient-disease', table: 'patient_diseases', relation: 'disease_definition', catalog: 'disease-definition' },
  vitals: { resource: 'patient-vital-sign', table: 'patient_vital_signs', relation: null, catalog: null },
  alerts: { resource: 'patient-alert', table: 'patient_alerts', relation: 'alert_definition', catalog: 'patient-alert-definition' },
} as const;

interface Composed {
  result: Row;
  /** The rows read, by resource, for the read audit of each answer. */
  reads: { resource: string; ids: unknown[] }[];
}

const caches = new WeakMap<Runtime, ResultCache<Composed>>();
const cacheOf = (rt: Runtime) => {
  let cache = caches.get(rt);
  if (!cache) caches.set(rt, (cache = new ResultCache<Composed>(200)));
  return cache;
};

/** The catalog entries are embedded for callers who may read the catalogs; others get their ids. */
function readable(read: ActionArgs['read'], resource: string): boolean {
  try {
    read(resource);
    return true;
  } catch {
    return false;
  }
}

async function compose({ current, find }: ActionArgs, embed: (section: keyof typeof SECTIONS) => string[]): Promise<Composed> {
  const id = current!.id as string;
  const section = (name: keyof typeof SECTIONS, spec: Partial<FindSpec> = {}) => {
    const { resource, table } = SECTIONS[name];
    return find(resource, {
      limit: SUMMARY_SECTION_LIMIT,
      audit: false,
      include: embed(name),
      sort: [{ field: 'created_at', desc: true }],
      ...spec,
      where: (qb) => {
        qb.where(`${table}.patient_id`, id);
        spec.where?.(qb);
      },
    });
  };
  const [patient] = (await find('patient', { limit: 1, audit: false, where: (qb) => qb.where('patients.id', id) })).rows;
  const allergies = await section('allergies');
  const medications = await section('medications');
  const problems = await section('problems', { where: (qb) => qb.where('patient_diseases.problem_status', 'active') });
  const vitals = await section('vitals', { limit: 1, sort: [{ field: 'date_taken', desc: true }, { field: 'time_taken', desc: true }, { field: 'created_at', desc: true }] });
  const alerts = await section('alerts', { sort: [{ field: 'is_urgent', desc: true }, { field: 'created_at', desc: true }], where: (qb) => qb.where('patient_alerts.status', 'active') });
  const pick = (name: string) => patient?.[name] ?? null;
  const ids = (rows: Row[]) => rows.map((r) => r.id);
  return {
    result: {
      patient: { id, first_name: pick('first_name'), last_name: pick('last_name'), preferred_name: pick('preferred_name') },
      allergy_review_status: pick('allergy_review_status'),
      medical_urgent_note: pick('medical_urgent_note'),
      premedication_required: pick('premedication_required'),
      allergies: allergies.rows,
      current_medications: medications.rows.filter((m) => m.status === 'active'),
      past_medications: medications.rows.filter((m) => PAST_MEDICATION_STATUSES.includes(m.status as string)),
      active_problems: problems.rows,
      latest_vitals: vitals.rows[0] ?? null,
      alerts: alerts.rows,
    },
    reads: [
      { resource: 'patient', ids: [id] },
      { resource: SECTIONS.allergies.resource, ids: ids(allergies.rows) },
      { resource: SECTIONS.medications.resource, ids: ids(medications.rows) },
      { resource: SECTIONS.problems.resource, ids: ids(problems.rows) },
      { resource: SECTIONS.vitals.resource, ids: ids(vitals.rows) },
      { resource: SECTIONS.alerts.resource, ids: ids(alerts.rows) },
    ],
  };
}

export const medicalSummary: ActionDefinition = {
  resource: 'patient',
  name: 'medical-summary',
  on: 'record',
  method: 'get',
  access: 'read',
  summary: "A patient's medical summary (chart header)",
  description:
    'The chart in one answer: every live allergy (active or not, with `allergy_definition`), medications currently taken (status `active`) and past ones ' +
    '(`completed`, `discontinued` or `on_hold`), active problems (`problem_status` active, with `disease_definition`), the most recent vital signs ' +
    '(latest `date_taken`, then `time_taken`), active alerts (with `alert_definition`, urgency and scope), and the patient\'s `allergy_review_status`, ' +
    '`medical_urgent_note` and `premedication_required`. Catalog entries are embedded when the caller may read the catalogs (`catalogs:read`). ' +
    `Archived chart rows are left out; each section holds at most ${SUMMARY_SECTION_LIMIT} rows. ` +
    "Seed 001's `social_history` is not part of this API (there is no social-history resource). The number of database queries does not grow with the chart, " +
    'and a summary shown again is answered from memory until the patient, its chart or a catalog changes. Every answer is audited as a read of the rows it shows.',
  input: { type: 'object', properties: {} },
  output: {
    type: 'object',
    properties: {
      patient: { type: 'object', description: 'The patient (id and names).' },
      allergy_review_status: { type: ['string', 'null'] },
      medical_urgent_note: { type: ['string', 'null'] },
      premedication_required: { type: ['boolean', 'null'] },
      allergies: listOf('PatientAllergy', 'Every live allergy record, newest first, with `allergy_definition` embedded.'),
      current_medications: listOf('PatientMedication', 'Medications with status active, with `medication_definition` embedded.'),
      past_medications: listOf('PatientMedication', 'Medications completed, discontinued or on hold.'),
      active_problems: listOf('PatientDisease', "Problems with problem_status 'active', with `disease_definition` embedded."),
      latest_vitals: { oneOf: [ref('PatientVitalSign'), { type: 'null' }], description: 'The most recent vital signs, or null.' },
      alerts: listOf('PatientAlert', 'Active alerts, urgent first, with `alert_definition` embedded.'),
    },
    required: ['patient', 'allergies', 'current_medications', 'past_medications', 'active_problems', 'latest_vitals', 'alerts'],
  },
  async run(args) {
    const { rt, ctx, current, read } = args;
    const registry = (ctx.schema ?? rt.schema).registry;
    const embedded = Object.fromEntries(Object.entries(SECTIONS).map(([name, sec]) => [name, sec.catalog && readable(read, sec.catalog) ? [sec.relation!] : []]));
    // Everything the composition depends on: the tables it reads, and what this caller may see of them.
    const resources = ['patient', ...Object.values(SECTIONS).flatMap((sec) => [sec.resource, ...(sec.catalog ? [sec.catalog] : [])])];
    const tables = resources.map((r) => registry.get(r).table);
    const parts = ctx.transaction ? [null] : await Promise.all(tables.map((t) => rt.generations.current(t)));
    const generation = parts.some((p) => p === null) ? null : parts.join('|');
    const key = JSON.stringify([ctx.schema?.version ?? rt.schema.version, ctx.org?.id, current!.id, embedded, resources.map((r) => presentedNames(registry.get(r), ctx))]);
    const composed = await cacheOf(rt).through('medical-summary', generation, key, () => compose(args, (name) => embedded[name]));
    for (const { resource, ids } of composed.reads) {
      const def = registry.get(resource);
      if (def.auditReads && ids.length) rt.audit.read(ctx, def, resource === 'patient' ? 'read' : 'list', resource === 'patient' ? (ids[0] as string) : null, resource === 'patient' ? { via: 'patient.medical-summary' } : { ids, via: 'patient.medical-summary' });
    }
    return { result: composed.result };
  },
};
