import { defineEntity } from '../app/core/define.js';
import { ON_PATIENT_CHART, PATIENT_ID_FIELD } from '../plugins/patient-chart/chart-resource.js';
import type { FieldDefinition } from '../app/core/types.js';
import { abnormalFlags, boundsText, isProcedureBlocking, thresholdsText, VITAL_LIMITS, type VitalName } from '../plugins/patient-chart/vital-signs.js';

// Seed 001 §1.6 / §2.9 PatientVitalSignsOut / §3.19: a patient's vital-sign readings, nested
// under the patient, newest `date_taken` first. The seed's list filters `date_from` / `date_to`
// (inclusive) are `date_taken[gte]` / `[lte]` here; `provider_uuid` is `provider_id`
// (?include=provider). Decimal readings (temperature, height, weight, BMI) are decimal strings in
// and out, as the patient's money fields are (the seed answers them as strings). Their limits and
// the thresholds of the computed `abnormal_flags` / `is_procedure_blocking` live in one table,
// plugins/patient-chart/vital-signs.ts; the patient's `latest_vitals_date` follows these rows
// (plugins/patient-chart).

/** A non-negative decimal string with at most two decimal places. */
const DECIMAL = '^(0|[1-9]\\d{0,3})(\\.\\d{1,2})?$';

function reading(vital: VitalName, what: string, example: string | number): FieldDefinition {
  const limits = VITAL_LIMITS[vital];
  const accepted = `${boundsText(vital)}. ${thresholdsText(vital)}`;
  if (limits.integer) {
    return { type: 'integer', min: limits.bounds[0], max: limits.bounds[1], description: `${what}, ${accepted}`, example };
  }
  return { type: 'string', pattern: DECIMAL, acceptsNumber: true, description: `${what}: a decimal (at most two decimals; a JSON number or its text, returned as text), ${accepted}`, example };
}

export default defineEntity({
  name: 'patient-vital-sign',
  path: 'vital-signs',
  table: 'patient_vital_signs',
  ...ON_PATIENT_CHART,
  description: 'A set of vital signs taken on one occasion: blood pressure, pulse, oxygen saturation, temperature, respiration rate, height, weight and BMI.',
  requireBaseVersion: true,
  defaultSort: '-date_taken',
  fields: {
    patient_id: PATIENT_ID_FIELD,
    date_taken: {
      type: 'date', required: true, filter: ['eq', 'gte', 'lte', 'gt', 'lt'], sort: true,
      description: 'Date when the vital signs were measured. The seed\'s date_from / date_to list filters are date_taken[gte] / date_taken[lte] (both inclusive).',
      example: '2025-01-15',
    },
    time_taken: {
      type: 'string', pattern: '^([01]\\d|2[0-3]):[0-5]\\d(:[0-5]\\d)?$', sort: true,
      description: 'Time of day when they were measured (HH:MM or HH:MM:SS, the practice\'s local time).', example: '09:30',
    },
    provider_id: {
      type: 'uuid', ref: 'provider', relation: 'provider', filter: true,
      description: 'The provider who measured them.',
    },
    bp_systolic: reading('bp_systolic', 'Systolic blood pressure in mmHg', 120),
    bp_diastolic: reading('bp_diastolic', 'Diastolic blood pressure in mmHg (lower than the systolic)', 80),
    pulse: reading('pulse', 'Pulse in beats per minute', 72),
    respiration_rate: reading('respiration_rate', 'Respiration rate in breaths per minute', 16),
    oxygen_saturation: reading('oxygen_saturation', 'Oxygen saturation (SpO2) in percent', 98),
    temperature_f: reading('temperature_f', 'Body temperature in °F', '98.6'),
    height_inches: reading('height_inches', 'Height in inches', '66.5'),
    weight_lbs: reading('weight_lbs', 'Weight in pounds', '154.3'),
    weight_code: { type: 'string', maxLength: 20, description: 'Code qualifying the weight measurement (e.g. a LOINC or practice code).' },
    bmi: reading('bmi', 'Body mass index in kg/m²', '24.6'),
    bmi_percentile: reading('bmi_percentile', 'BMI-for-age percentile (children and teens)', 50),
    has_followup_plan: {
      type: 'boolean', default: false, filter: true,
      description: 'Whether an abnormal vital signs follow-up plan has been created. Defaults to false.',
    },
    note: { type: 'text', maxLength: 2000, description: 'Note about the reading.' },
    created_by: { type: 'string', readOnly: true, fill: 'actor', description: 'Who recorded the reading.' },
  },
  computed: {
    abnormal_flags: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          vital: { type: 'string', enum: Object.keys(VITAL_LIMITS), description: 'The field out of range.' },
          message: { type: 'string', description: 'What is out of range, and which limit it passes.' },
          severity: { type: 'string', enum: ['warning', 'critical'], description: 'critical: outside the critical range (blocks procedures); warning: outside the normal range.' },
        },
        required: ['vital', 'message', 'severity'],
        additionalProperties: false,
      },
      description: 'Clinical flags for out-of-range values, computed from the stored reading with the thresholds given on each field: one per vital, critical when both apply.',
      compute: (record) => abnormalFlags(record),
    },
    is_procedure_blocking: {
      type: 'boolean',
      description: 'True if any vital sign is in its critical range (e.g. BP > 180/120, SpO2 < 94 %), so that dental procedures wait for a provider\'s review.',
      compute: (record) => isProcedureBlocking(record),
    },
  },
  admin: { group: 'Chart', icon: 'Activity', listProperties: ['date_taken', 'bp_systolic', 'bp_diastolic', 'pulse', 'oxygen_saturation'] },
});
