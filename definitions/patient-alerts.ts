import { defineEntity } from '../app/core/define.js';
import { ON_PATIENT_CHART, PATIENT_ID_FIELD } from '../plugins/patient-chart/chart-resource.js';

// Seed 001 §1.2 / §2.5 PatientAlertOut / §3.13: an alert on a patient's chart, naming a kind from
// the practice's catalog (patient-alert-definitions). Alerts are archived by status, not soft
// deleted (no deleted_at): POST …/archive, …/disable and …/bulk-dismiss are actions of
// plugins/patient-chart, which also fills alert_scope and is_urgent from the catalog entry when
// a create leaves them out, and leaves archived alerts out of lists unless status asks for them.

export const ALERT_STATUSES = ['active', 'disabled', 'archived'] as const;
export const ALERT_SCOPES = ['patient', 'family'] as const;

export default defineEntity({
  name: 'patient-alert',
  path: 'alerts',
  table: 'patient_alerts',
  ...ON_PATIENT_CHART,
  description: "An alert on a patient's chart (e.g. latex allergy); family-scoped alerts show on the charts of the patient's guarantor family too.",
  archivable: false,
  requireBaseVersion: true,
  defaultSort: '-created_at',
  fields: {
    patient_id: PATIENT_ID_FIELD,
    alert_definition_id: {
      type: 'uuid', ref: 'patient-alert-definition', relation: 'alert_definition', required: true, createOnly: true, filter: true,
      description: "The kind of alert, from the practice's catalog (patient-alert-definitions); set on create only.",
    },
    alert_scope: {
      type: 'enum', values: ALERT_SCOPES, filter: true,
      description: "Visibility: patient (this chart only) or family (all family members' charts). A create without it takes the catalog entry's default_scope.",
    },
    is_urgent: {
      type: 'boolean', filter: true,
      description: "Whether the alert is shown prominently as an urgent warning. A create without it takes the catalog entry's default_is_urgent.",
    },
    disable_on: { type: 'date', filter: true, sort: true, description: 'A date on which the alert is meant to be disabled.' },
    note: { type: 'text', maxLength: 2000, description: 'Free-text note.' },
    status: {
      type: 'enum', values: ALERT_STATUSES, default: 'active', filter: true,
      description: 'Lifecycle: active, disabled (POST …/disable), archived (POST …/archive or …/bulk-dismiss). New alerts are active; archived ones leave lists unless ?status asks for them.',
    },
    date_disabled: { type: 'datetime', filter: true, sort: true, description: 'When the alert was disabled.' },
    created_by: { type: 'string', readOnly: true, fill: 'actor', description: 'Who created the alert.' },
  },
  admin: { group: 'Chart', icon: 'BellRing', listProperties: ['alert_definition_id', 'alert_scope', 'is_urgent', 'status'] },
});
