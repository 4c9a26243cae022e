import { defineEntity } from '../app/core/define.js';
import { ON_PATIENT_CHART, PATIENT_ID_FIELD } from '../plugins/patient-chart/chart-resource.js';

// Seed 001 §1.8 / §2.10 PatientCommunicationLogOut / §3.17: a patient's communication log,
// append-only (no update or delete route). The seed's list filters are our conventions here:
// `date_from` / `date_to` are `communication_datetime[gte]` / `[lte]`, `q` is `?search=` on the
// note. `appointment_uuid` and `communication_type_uuid` are kept as plain ids
// (`appointment_id`, `communication_type_id`): neither resource exists here yet, so they are not
// checked. API-created entries are `communication_source = user` (§3.17).

export default defineEntity({
  name: 'patient-communication-log',
  path: 'communication-logs',
  table: 'patient_communication_logs',
  ...ON_PATIENT_CHART,
  description: 'A communication with a patient (a call, an email, a letter …); entries are never edited or deleted.',
  appendOnly: true,
  defaultSort: '-communication_datetime',
  fields: {
    patient_id: PATIENT_ID_FIELD,
    communication_datetime: {
      type: 'datetime', required: true, filter: ['eq', 'gte', 'lte', 'gt', 'lt'], sort: true,
      description: 'When the communication occurred.', example: '2025-01-15T09:00:00Z',
    },
    mode: {
      type: 'enum', values: ['phone', 'email', 'mail', 'in_person', 'text', 'fax'], filter: true,
      description: 'How the communication happened.', example: 'phone',
    },
    direction: {
      type: 'enum', values: ['sent', 'received', 'neither'], filter: true,
      description: 'Whether the practice sent or received it.', example: 'sent',
    },
    communication_source: {
      type: 'enum', values: ['user', 'automated', 'integration'], default: 'user', readOnly: true, filter: true,
      description: 'Origin of this log entry: user (manual), automated (system-generated), integration (external API). Entries created through the API are user.',
    },
    note: {
      type: 'text', maxLength: 10000, search: 'contains',
      description: 'What was communicated.', example: 'Left a voicemail about the lab results.',
    },
    appointment_id: { type: 'uuid', description: 'The appointment the communication is about (not checked).' },
    communication_type_id: { type: 'uuid', description: "The communication type from the practice's catalog (not checked)." },
    created_by: { type: 'string', readOnly: true, fill: 'actor', description: 'Who logged the entry.' },
  },
  admin: { group: 'Chart', icon: 'MessageCircle', listProperties: ['communication_datetime', 'mode', 'direction', 'note'] },
});
