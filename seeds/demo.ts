import type { Faker } from '@faker-js/faker';
import { createApiKey, revokeApiKey, type CreatedKey } from '../app/auth/api-keys.js';
import { createOrg } from '../app/auth/orgs.js';
import { systemContext } from '../app/auth/system-context.js';
import { runAction } from '../app/operations/action.js';
import { archiveRecord } from '../app/operations/archive.js';
import { bulkCreateRecords } from '../app/operations/bulk-create.js';
import type { OperationContext } from '../app/operations/context.js';
import { createRecord } from '../app/operations/create.js';
import { getRecord } from '../app/operations/get.js';
import { updateRecord } from '../app/operations/update.js';
import type { Row } from '../app/operations/records.js';
import type { Runtime } from '../app/runtime.js';
import { upsertFieldValues } from '../plugins/patient-chart/custom-fields/values.js';
import { ALLERGY_DEFINITIONS, DISEASE_DEFINITIONS, MEDICATION_DEFINITIONS, PATIENT_ALERT_DEFINITIONS, PATIENT_TAG_DEFINITIONS } from './catalogs.js';
import { chartBodies } from './chart.js';
import { communicationLogBodies } from './communication-logs.js';
import { CUSTOM_FIELD_DEFINITIONS, customFieldValues } from './custom-fields.js';
import { relationshipsAlertsPlan } from './relationships-alerts.js';
import { vitalSignBodies } from './vital-signs.js';
import { REFERRAL_PARTNERS, REFERRAL_SOURCES, referralAndTagBodies } from './referrals-tags.js';
import { lifecycleStart, patientRows, REF_DATE, seededFaker } from './generators.js';

// The demo organization `demo-clinic`: a small practice with locations, providers, 300 patients
// with chart allergies, problems, medications, communication logs and vital signs, tasks, support tickets with comments, the
// practice's catalogs (allergens, conditions, medications, chart alert kinds, patient tags), and
// the shared knowledge base. Everything goes through the operations (validation, reference
// checks, audit) as the platform's own `demo-seed` actor.
// The content is deterministic (seeded Faker, fixed reference date): only ids and timestamps
// differ between fresh databases.

export const DEMO_ORG = { slug: 'demo-clinic', name: 'Demo Clinic' };
export const DEMO_PARTNER = 'Demo Partner';
const SEED = 2026;
// The chart rows draw from a generator of their own, so the data seeded before them stays as it was.
const CHART_SEED = 2027;
const COMMUNICATION_LOG_SEED = 2028;
const RELATIONSHIPS_ALERTS_SEED = 2029;
const VITAL_SIGNS_SEED = 2031;
const CUSTOM_FIELDS_SEED = 2035;
const REFERRALS_TAGS_SEED = 2033;
const ACTOR = 'demo-seed';

const ymd = (d: Date) => d.toISOString().slice(0, 10);

/** Creates many records and fails loudly if any is rejected (demo data must be valid). */
async function bulk(rt: Runtime, name: string, ctx: OperationContext, bodies: Row[], parentId?: string): Promise<string[]> {
  const result = await bulkCreateRecords(rt, { resource: name, ctx, items: bodies, chunkSize: 500, parentId });
  const failed = result.results.filter((r) => r.status === 'failed');
  if (failed.length) {
    const first = failed[0];
    throw new Error(`demo seed: ${failed.length} ${name} record(s) rejected, e.g. #${first.index}: ${first.error?.message} ${JSON.stringify(first.error?.details ?? [])}`);
  }
  return result.results.map((r) => r.id!);
}

function locationBodies(): Row[] {
  return [
    { name: 'Downtown Clinic', address_line1: '250 Queen Street West', address_line2: 'Suite 400', city: 'Toronto', state: 'ON', postal_code: 'M5V 1Z8', country: 'Canada', phone: '(416) 555-0142', timezone: 'America/Toronto' },
    { name: 'Midtown Family Health', address_line1: '1850 Yonge Street', city: 'Toronto', state: 'ON', postal_code: 'M4S 1X8', country: 'Canada', phone: '(416) 555-0187', timezone: 'America/Toronto' },
    { name: 'Westside Medical Centre', address_line1: '3300 Bloor Street West', address_line2: 'Unit 12', city: 'Etobicoke', state: 'ON', postal_code: 'M8X 2W8', country: 'Canada', phone: '(416) 555-0119', timezone: 'America/Toronto' },
    { name: 'Lakeshore Walk-in', address_line1: '2100 Lake Shore Boulevard West', city: 'Toronto', state: 'ON', postal_code: 'M8V 4A1', country: 'Canada', phone: '(416) 555-0163', timezone: 'America/Toronto', active: false },
  ];
}

function providerBodies(f: Faker): Row[] {
  const specialties: [string, string][] = [
    ['MD', 'Family Medicine'], ['MD', 'Family Medicine'], ['MD', 'Internal Medicine'], ['MD', 'Pediatrics'],
    ['NP', 'Primary Care'], ['PA-C', 'Aesthetics'], ['MD', 'Dermatology'], ['RN', 'Chronic Disease Management'],
  ];
  return specialties.map(([title, specialty], i) => {
    const first = f.person.firstName();
    const last = f.person.lastName();
    return {
      first_name: first,
      last_name: last,
      title,
      specialty,
      npi: f.string.numeric({ length: 10, allowLeadingZeros: false }),
      email: `${first}.${last}`.toLowerCase().replace(/[^a-z.]/g, '') + '@democlinic.example.com',
      phone: `(416) 555-${String(200 + i * 7).padStart(4, '0')}`,
      active: i !== 7,
    };
  });
}

const TASK_TEMPLATES: { title: string; description: string; type: 'general' | 'booking' | 'file_review'; patient: boolean }[] = [
  { title: 'Follow up on blood work', description: 'Call the patient with the CBC and lipid panel results and book a review if values are out of range.', type: 'general', patient: true },
  { title: 'Book annual physical', description: 'Patient is due for an annual physical; offer the next available morning slot.', type: 'booking', patient: true },
  { title: 'Review referral letter', description: 'Specialist letter received by fax; review and file to the chart.', type: 'file_review', patient: true },
  { title: 'Renew prescription', description: 'Pharmacy requested a renewal; check the last visit date before approving.', type: 'general', patient: true },
  { title: 'Review imaging report', description: 'Ultrasound report arrived; flag for the provider to review and sign.', type: 'file_review', patient: true },
  { title: 'Reschedule missed appointment', description: 'Patient did not attend; call to rebook and note the no-show.', type: 'booking', patient: true },
  { title: 'Complete insurance form', description: 'Disability insurance form requested by the patient; prepare for provider signature.', type: 'general', patient: true },
  { title: 'Call patient about vaccination', description: 'Remind the patient that the seasonal influenza vaccine is available.', type: 'booking', patient: true },
  { title: 'Scan consent forms', description: 'Scan signed treatment consent forms from the front desk tray.', type: 'file_review', patient: false },
  { title: 'Order office supplies', description: 'Exam table paper, gloves (nitrile, M and L) and sharps containers are running low.', type: 'general', patient: false },
  { title: 'Update fee schedule', description: 'Apply the new provincial fee codes effective next month.', type: 'general', patient: false },
  { title: 'Check fridge temperature log', description: 'Vaccine fridge log must be reviewed and signed weekly.', type: 'general', patient: false },
  { title: 'Prepare month-end billing report', description: 'Export claims and reconcile rejected ones before submission.', type: 'general', patient: false },
  { title: 'Confirm tomorrow\'s appointments', description: 'Send confirmations to patients without an automated reminder.', type: 'booking', patient: false },
];

function taskBodies(f: Faker, patientIds: string[]): Row[] {
  return Array.from({ length: 120 }, () => {
    const t = f.helpers.arrayElement(TASK_TEMPLATES);
    const status = f.helpers.weightedArrayElement([{ value: 'open', weight: 65 }, { value: 'closed', weight: 35 }]);
    const body: Row = {
      title: t.title,
      description: t.description,
      type: t.type,
      status,
      priority: f.helpers.weightedArrayElement([{ value: 1, weight: 8 }, { value: 2, weight: 22 }, { value: 3, weight: 55 }, { value: 4, weight: 15 }]),
      due_date: ymd(f.date.soon({ days: 45, refDate: status === 'open' ? REF_DATE : '2025-11-15T12:00:00.000Z' })),
    };
    if (t.patient) body.patient_id = f.helpers.arrayElement(patientIds);
    return body;
  });
}

const KB_ARTICLES: { title: string; category: string; type: string; tags: string[]; body: string }[] = [
  { title: 'Insurance Verification Workflow', category: 'Billing', type: 'HowTo', tags: ['insurance', 'verification', 'front-desk'], body: 'Verify coverage before every first visit and at least once a year.\n\n1. Open the patient chart and select Billing > Coverage.\n2. Enter the plan and member number from the card.\n3. Click Verify; the eligibility response is stored with the visit.\n4. If the response is "inactive", ask the patient for an updated card before the appointment.' },
  { title: 'Submitting Claims in Batches', category: 'Billing', type: 'HowTo', tags: ['claims', 'batch', 'submission'], body: 'Claims are grouped into a daily batch. Open Billing > Claims, filter by "Ready", select the claims to send and click Submit Batch. The batch report lists accepted and rejected claims within 24 hours.' },
  { title: 'Why Was My Claim Rejected?', category: 'Billing', type: 'FAQ', tags: ['claims', 'rejections', 'error-codes'], body: 'Most rejections come from an expired health card, a missing referring provider or a fee code that does not match the diagnosis. Open the rejected claim to see the payer\'s reason code, correct the field, and resubmit it with the next batch.' },
  { title: 'Applying a Payment to Multiple Invoices', category: 'Billing', type: 'HowTo', tags: ['payments', 'invoices', 'allocation'], body: 'Record the payment once under Billing > Payments, then use Allocate to split the amount across open invoices, oldest first. Any remainder stays on account as a credit.' },
  { title: 'Setting Up Payment Plans', category: 'Billing', type: 'HowTo', tags: ['payment-plan', 'balance', 'collections'], body: 'For balances over $500, offer a payment plan: choose the number of instalments and the billing cycle day. The patient\'s scheduling hold is lifted once the first instalment is paid.' },
  { title: 'Statement Totals Do Not Match the Ledger', category: 'Billing', type: 'Troubleshooting', tags: ['statements', 'ledger', 'reconciliation'], body: 'Statements are generated from posted transactions only. If totals differ, look for unposted adjustments dated before the statement date, post them, and regenerate the statement.' },
  { title: 'Fee Schedule Updates', category: 'Billing', type: 'FAQ', tags: ['fee-schedule', 'codes'], body: 'Provincial fee schedule changes are published ahead of their effective date. Import the new schedule under Settings > Fee Schedules and set the effective date; visits before that date keep the old fees.' },
  { title: 'Booking a Recurring Appointment', category: 'Scheduling', type: 'HowTo', tags: ['appointments', 'recurring', 'calendar'], body: 'Create the first appointment, then choose Repeat and pick the interval (weekly, every 2 weeks, monthly) and the number of occurrences. Conflicts are listed before anything is booked.' },
  { title: 'Managing the Wait List', category: 'Scheduling', type: 'HowTo', tags: ['wait-list', 'cancellations'], body: 'Add patients to the wait list with their preferred days and providers. When an appointment is cancelled, the scheduler suggests wait-listed patients who match the freed slot.' },
  { title: 'Appointment Reminders Are Not Sent', category: 'Scheduling', type: 'Troubleshooting', tags: ['reminders', 'sms', 'email'], body: 'Check that the patient has opted in (receives SMS or receives email), that a mobile phone or email is on file, and that the reminder template is active for the appointment type. Reminders are sent 48 hours before the appointment.' },
  { title: 'Can Patients Book Online?', category: 'Scheduling', type: 'FAQ', tags: ['online-booking', 'portal'], body: 'Yes. Enable online booking per provider and appointment type under Settings > Online Booking. Patients with a scheduling hold cannot book online and are asked to call the clinic.' },
  { title: 'Setting Provider Availability', category: 'Scheduling', type: 'HowTo', tags: ['availability', 'providers', 'templates'], body: 'Provider schedules are built from weekly templates. Define blocks for each location and appointment type; exceptions (vacation, training) override the template for the dates given.' },
  { title: 'Double-Booked Time Slots', category: 'Scheduling', type: 'Troubleshooting', tags: ['double-booking', 'conflicts'], body: 'Double bookings happen when overbooking is allowed for the appointment type. Turn off "Allow overbooking" for that type or reduce the maximum per slot to 1.' },
  { title: 'Arrival Time Reminders', category: 'Scheduling', type: 'FAQ', tags: ['arrival', 'reminders'], body: 'Use the patient\'s "ask to arrive early" minutes to tell them to come before their appointment time, for example to complete intake forms. The value is included in reminder messages.' },
  { title: 'Recording Allergies', category: 'Clinical', type: 'HowTo', tags: ['allergies', 'chart', 'safety'], body: 'Open the chart, choose Allergies, and add each allergen with its reaction and severity. If the patient has none, mark the review as NKDA so others know the list was checked.' },
  { title: 'Documenting a SOAP Note', category: 'Clinical', type: 'HowTo', tags: ['notes', 'soap', 'documentation'], body: 'Start a new encounter and choose the SOAP template. Subjective and Objective sections can pull vitals and history from the chart; sign the note to lock it. Addenda are kept with the original.' },
  { title: 'Premedication Flags', category: 'Clinical', type: 'FAQ', tags: ['premedication', 'alerts'], body: 'When "premedication required" is set, an alert appears when booking procedures and on the day sheet. Review the flag at each annual visit.' },
  { title: 'Vitals Not Showing on the Chart Summary', category: 'Clinical', type: 'Troubleshooting', tags: ['vitals', 'chart-summary'], body: 'The summary shows the latest signed vitals only. Unsigned vitals from an open encounter appear after the encounter is signed.' },
  { title: 'Ordering Lab Requisitions', category: 'Clinical', type: 'HowTo', tags: ['labs', 'requisitions', 'orders'], body: 'From the encounter, choose Orders > Lab, select the tests and the lab, and print or send the requisition electronically. Results are matched back to the order automatically.' },
  { title: 'Reviewing Incoming Lab Results', category: 'Clinical', type: 'HowTo', tags: ['labs', 'results', 'inbox'], body: 'New results land in the provider\'s inbox. Abnormal values are highlighted; acknowledge each result and create a follow-up task when the patient needs to be contacted.' },
  { title: 'Immunization Records', category: 'Clinical', type: 'FAQ', tags: ['immunizations', 'vaccines'], body: 'Record the vaccine, lot number, site and route. Historical immunizations from other clinics can be entered with the "historical" flag and their original date.' },
  { title: 'Urgent Medical Notes', category: 'Clinical', type: 'FAQ', tags: ['alerts', 'urgent', 'chart'], body: 'An urgent medical note is shown in red at the top of the chart and on every appointment. Keep it short: anaphylactic allergies, anticoagulants, infection control precautions.' },
  { title: 'Connecting to the Partner API', category: 'Integrations', type: 'HowTo', tags: ['api', 'keys', 'authentication'], body: 'Ask your administrator for an API key bound to your organization and scopes. Send it as "Authorization: Bearer <key>" or exchange it at POST /api/v1/auth/token for a short-lived token. The OpenAPI document is at /api/openapi.json.' },
  { title: 'Handling 409 Version Conflicts', category: 'Integrations', type: 'Troubleshooting', tags: ['api', 'concurrency', 'versions'], body: 'Patient updates must carry base_version (or an If-Match header). A 409 version_conflict means someone changed the record since you read it: fetch it again, reapply your change, and retry with the new version.' },
  { title: 'Importing Patients in Bulk', category: 'Integrations', type: 'HowTo', tags: ['import', 'bulk', 'csv'], body: 'Use the bulk endpoint or the CLI import to create many patients at once. Each row is validated on its own; the response lists created and failed rows with the reason, so you can fix and resend only the failures.' },
  { title: 'Why Do I Get 429 Too Many Requests?', category: 'Integrations', type: 'FAQ', tags: ['api', 'rate-limit'], body: 'Each key has a per-minute request limit. The Retry-After header says how long to wait. Spread batch jobs over time or ask for a higher limit for the key.' },
  { title: 'Lab Interface Messages Are Not Matched', category: 'Integrations', type: 'Troubleshooting', tags: ['hl7', 'labs', 'matching'], body: 'Results are matched on health card number and date of birth. Check that both are on file and correct; unmatched messages stay in the interface queue for manual matching.' },
  { title: 'Idempotent Requests', category: 'Integrations', type: 'FAQ', tags: ['api', 'idempotency', 'retries'], body: 'Send an Idempotency-Key header with POST requests. If the network fails, retry with the same key: the first result is returned instead of creating a duplicate.' },
  { title: 'Receiving Faxes into Patient Charts', category: 'Integrations', type: 'HowTo', tags: ['fax', 'documents'], body: 'Incoming faxes arrive in the document inbox. Assign each to a patient and a category; a file_review task is created for the provider when the document needs signing.' },
  { title: 'Calendar Sync with Outlook or Google', category: 'Integrations', type: 'Troubleshooting', tags: ['calendar', 'sync'], body: 'If provider appointments stop appearing in an external calendar, reconnect the calendar under Profile > Integrations. Only appointment times are shared, never patient names.' },
];

const TICKET_SUBJECTS = [
  'Cannot print superbills', 'Claim batch stuck in "Submitting"', 'Reminder texts not going out', 'Online booking shows wrong hours',
  'Duplicate patient records after import', 'Lab results not matched to patient', 'Need a new API key for the lab interface',
  'Statement totals look wrong', 'Provider schedule template missing Fridays', 'Fax inbox empty since Monday',
  'Error 409 when updating patients from our app', 'Slow chart loading at Westside', 'Request: add a new appointment type',
  'Payment plan not lifting scheduling hold', 'Calendar sync stopped working',
];

const COMMENT_LINES = [
  'Thanks for reporting this. Could you send a screenshot of the error?',
  'Screenshot attached. It happens every time since this morning.',
  'We have reproduced the issue and are looking into it.',
  'A fix has been deployed; please try again and let us know.',
  'Confirmed working now, thank you!',
  'Can you tell us which workstation and browser you are using?',
  'It is Chrome on the front desk PC at the Downtown Clinic.',
  'Escalated to the integrations team.',
  'This is expected behaviour: the setting is per location. I have changed it for you.',
  'Closing this ticket; reply here if the problem comes back.',
];

/** Seeds the demo organization once; a later call finds it and changes nothing. */
export async function seedDemo(rt: Runtime): Promise<{ created: boolean; counts: Record<string, number> }> {
  const existing = await rt.db.knex('organizations').where({ slug: DEMO_ORG.slug }).first('id');
  if (existing) return { created: false, counts: {} };

  const org = await createOrg(rt, DEMO_ORG);
  const ctx = systemContext(rt, org, ACTOR);
  const globalCtx = systemContext(rt, undefined, ACTOR);
  const f = seededFaker(SEED);
  const counts: Record<string, number> = {};

  const locationIds = await bulk(rt, 'location', ctx, locationBodies());
  counts.locations = locationIds.length;
  const providerIds = await bulk(rt, 'provider', ctx, providerBodies(f));
  counts.providers = providerIds.length;

  const allergyDefinitionIds = await bulk(rt, 'allergy-definition', ctx, ALLERGY_DEFINITIONS);
  counts.allergy_definitions = allergyDefinitionIds.length;
  const diseaseDefinitionIds = await bulk(rt, 'disease-definition', ctx, DISEASE_DEFINITIONS);
  counts.disease_definitions = diseaseDefinitionIds.length;
  const medicationDefinitionIds = await bulk(rt, 'medication-definition', ctx, MEDICATION_DEFINITIONS);
  counts.medication_definitions = medicationDefinitionIds.length;
  const alertDefinitionIds = await bulk(rt, 'patient-alert-definition', ctx, PATIENT_ALERT_DEFINITIONS);
  counts.patient_alert_definitions = alertDefinitionIds.length;
  const tagDefinitionIds = await bulk(rt, 'patient-tag-definition', ctx, PATIENT_TAG_DEFINITIONS);
  counts.patient_tag_definitions = tagDefinitionIds.length;
  const referralSourceIds = await bulk(rt, 'referral-source', ctx, REFERRAL_SOURCES);
  counts.referral_sources = referralSourceIds.length;
  const referralPartnerIds = await bulk(rt, 'referral-partner', ctx, REFERRAL_PARTNERS);
  counts.referral_partners = referralPartnerIds.length;

  // Active locations and providers only for the care team of patients.
  const patients = patientRows(300, SEED, { providerIds: providerIds.slice(0, 7), locationIds: locationIds.slice(0, 3) }).map(lifecycleStart);
  const patientIds = await bulk(rt, 'patient', ctx, patients.map((p) => p.body));
  // Charts first: a patient archived below keeps the chart it had.
  counts.patient_allergies = 0;
  counts.patient_diseases = 0;
  counts.patient_medications = 0;
  const charts = chartBodies(patientIds, { allergyDefinitionIds, diseaseDefinitionIds, medicationDefinitionIds, providerIds: providerIds.slice(0, 7) }, CHART_SEED);
  for (const chart of charts) {
    if (chart.allergies.length) counts.patient_allergies += (await bulk(rt, 'patient-allergy', ctx, chart.allergies, chart.patientId)).length;
    if (chart.diseases.length) counts.patient_diseases += (await bulk(rt, 'patient-disease', ctx, chart.diseases, chart.patientId)).length;
    if (chart.medications.length) counts.patient_medications += (await bulk(rt, 'patient-medication', ctx, chart.medications, chart.patientId)).length;
  }
  counts.patient_communication_logs = 0;
  for (const { patientId, logs } of communicationLogBodies(patientIds, COMMUNICATION_LOG_SEED)) {
    if (logs.length) counts.patient_communication_logs += (await bulk(rt, 'patient-communication-log', ctx, logs, patientId)).length;
  }
  // Each reading also moves its patient's latest_vitals_date (plugins/patient-chart).
  counts.patient_vital_signs = 0;
  for (const { patientId, readings } of vitalSignBodies(patientIds, providerIds.slice(0, 7), VITAL_SIGNS_SEED)) {
    if (readings.length) counts.patient_vital_signs += (await bulk(rt, 'patient-vital-sign', ctx, readings, patientId)).length;
  }
  // Custom fields: the definitions make a new schema generation at once, then the values go in
  // through the same operation as PUT …/field-values.
  counts.patient_field_definitions = (await bulk(rt, 'patient-field-definition', ctx, CUSTOM_FIELD_DEFINITIONS)).length;
  counts.patient_field_values = 0;
  for (const { patientId, values } of customFieldValues(patientIds, CUSTOM_FIELDS_SEED)) {
    if (Object.keys(values).length) counts.patient_field_values += (await upsertFieldValues(rt, ctx, patientId, { values })).length;
  }
  counts.patient_referral_attributions = 0;
  counts.patient_tags = 0;
  // Referral attributions (from the referral catalogs) and tags of its own generator (seeds/referrals-tags.ts).
  const referralIds = { referralSourceIds, referralPartnerIds, providerIds: providerIds.slice(0, 7), tagDefinitionIds };
  for (const { patientId, attributions, tags } of referralAndTagBodies(patientIds, referralIds, REFERRALS_TAGS_SEED)) {
    if (attributions.length) counts.patient_referral_attributions += (await bulk(rt, 'patient-referral-attribution', ctx, attributions, patientId)).length;
    if (tags.length) counts.patient_tags += (await bulk(rt, 'patient-tag', ctx, tags, patientId)).length;
  }

  // Statuses a create may not give are reached the way a practice reaches them: moves and archive.
  for (const [i, { then }] of patients.entries()) {
    if (!then) continue;
    const id = patientIds[i];
    if (then === 'archived') await archiveRecord(rt, { resource: 'patient', ctx, id });
    else await runAction(rt, { resource: 'patient', ctx, id, action: 'transition-status', body: { new_status: then, base_version: 1 } });
  }
  counts.patients = patientIds.length;

  // Guarantor families, relationships and alerts among the patients still on the books.
  const live = patientIds.filter((_, i) => patients[i].then !== 'archived');
  const plan = relationshipsAlertsPlan(live, alertDefinitionIds, RELATIONSHIPS_ALERTS_SEED);
  for (const { guarantorId, memberIds } of plan.families) {
    for (const id of memberIds) {
      const { version } = await getRecord(rt, { resource: 'patient', ctx, id, query: {} });
      await updateRecord(rt, { resource: 'patient', ctx, id, body: { base_version: version, responsible_party_id: guarantorId } });
    }
  }
  counts.patient_relationships = 0;
  for (const { patientId, body } of plan.relationships) counts.patient_relationships += (await bulk(rt, 'patient-relationship', ctx, [body], patientId)).length;
  counts.patient_alerts = 0;
  for (const { patientId, body, then } of plan.alerts) {
    const [id] = await bulk(rt, 'patient-alert', ctx, [body], patientId);
    counts.patient_alerts++;
    if (then === 'disabled') await runAction(rt, { resource: 'patient-alert', ctx, parentId: patientId, id, action: 'disable', body: { base_version: 1 } });
    if (then === 'archived') await runAction(rt, { resource: 'patient-alert', ctx, parentId: patientId, id, action: 'archive', body: {} });
  }

  // Tasks are about patients still on the books: an archived one can no longer be referenced.
  const current = patientIds.filter((_, i) => patients[i].then !== 'archived');
  counts.tasks = (await bulk(rt, 'task', ctx, taskBodies(f, current))).length;

  const kb = KB_ARTICLES.map((a, i) => ({ ...a, active: i % 15 !== 14 }));
  counts.kb_articles = (await bulk(rt, 'kb-article', globalCtx, kb)).length;

  const staff = ['Support Agent', 'Priya Natarajan', 'Marc Tremblay', 'Olivia Chen'];
  counts.tickets = 0;
  counts.ticket_comments = 0;
  for (let i = 0; i < 40; i++) {
    const subject = TICKET_SUBJECTS[i % TICKET_SUBJECTS.length];
    const requester = `${f.person.firstName()}.${f.person.lastName()}`.toLowerCase().replace(/[^a-z.]/g, '') + '@democlinic.example.com';
    const status = f.helpers.weightedArrayElement([{ value: 'open', weight: 35 }, { value: 'pending', weight: 25 }, { value: 'resolved', weight: 25 }, { value: 'closed', weight: 15 }]);
    const body: Row = {
      subject,
      description: `${subject}. ${f.helpers.arrayElement(['Reported by the front desk.', 'Affects all providers.', 'Started after the last update.', 'Only at one location.'])} ${f.helpers.arrayElement(['Please advise.', 'This is blocking billing.', 'Not urgent.', 'Patients are calling about it.'])}`,
      status,
      priority: f.helpers.weightedArrayElement([{ value: 'low', weight: 20 }, { value: 'normal', weight: 50 }, { value: 'high', weight: 22 }, { value: 'urgent', weight: 8 }]),
      requester,
    };
    if (status !== 'open' || f.datatype.boolean(0.5)) body.assignee = f.helpers.arrayElement(staff);
    if (f.datatype.boolean(0.3)) body.patient_id = f.helpers.arrayElement(patientIds);
    const ticket = await createRecord(rt, { resource: 'ticket', ctx, body });
    counts.tickets++;
    const n = f.number.int({ min: 1, max: 4 });
    for (let c = 0; c < n; c++) {
      const fromStaff = c % 2 === 0;
      await createRecord(rt, {
        resource: 'ticket-comment',
        ctx,
        parentId: ticket.id as string,
        body: { author: fromStaff ? (body.assignee as string | undefined) ?? 'Support Agent' : requester, body: f.helpers.arrayElement(COMMENT_LINES) },
      });
      counts.ticket_comments++;
    }
  }
  return { created: true, counts };
}

/** Revokes every earlier key of the demo partner and issues a fresh `*` key for `demo-clinic`. */
export async function issueDemoKey(rt: Runtime): Promise<CreatedKey> {
  const earlier: { id: string }[] = await rt.db.knex('api_keys')
    .join('partners', 'partners.id', 'api_keys.partner_id')
    .where('partners.name', DEMO_PARTNER)
    .whereNull('api_keys.revoked_at')
    .select('api_keys.id');
  for (const k of earlier) await revokeApiKey(rt, k.id);
  return createApiKey(rt, { orgSlugs: [DEMO_ORG.slug], partnerName: DEMO_PARTNER, scopes: ['*'], name: 'demo' });
}
