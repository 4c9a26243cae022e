import { defineEntity } from '../app/core/define.js';

// Seed 001 §1.12 / §2.15 PatientAlertDefinitionOut: the practice's catalog of chart alerts.
// default_scope takes the alert scopes of §2.16 (patient, family); the defaults follow the
// seed's examples (§2.17): not urgent, scope patient, item_order 1.

export default defineEntity({
  name: 'patient-alert-definition',
  path: 'patient-alert-definitions',
  table: 'patient_alert_definitions',
  scope: 'catalogs',
  tenant: true,
  description: 'A kind of chart alert the practice uses (e.g. latex allergy, requires interpreter).',
  requireBaseVersion: true,
  defaultSort: 'item_order',
  fields: {
    name: {
      type: 'string', required: true, minLength: 1, maxLength: 200, filter: true, sort: true, search: 'contains',
      description: 'Alert name.', example: 'Requires interpreter',
    },
    category: {
      type: 'string', maxLength: 100, filter: true, sort: true, search: 'contains',
      description: 'Grouping shown in pickers.', example: 'Communication',
    },
    default_is_urgent: {
      type: 'boolean', default: false, filter: true,
      description: 'Whether alerts of this kind start out urgent. Defaults to false.',
    },
    default_scope: {
      type: 'enum', values: ['patient', 'family'], default: 'patient', filter: true,
      description: "Scope alerts of this kind start with: patient (default) or family.",
    },
    description: { type: 'text', description: 'What the alert means and what staff should do.' },
    item_order: {
      type: 'integer', default: 1, min: 0, max: 100000, sort: true, filter: true,
      description: 'Position in pickers, lowest first. Defaults to 1.', example: 1,
    },
  },
  admin: { group: 'Catalogs', icon: 'BellRing', listProperties: ['name', 'category', 'default_is_urgent', 'item_order'] },
});
