import type { Row } from '../app/operations/records.js';
import { REF_DATE, seededFaker } from './generators.js';

// Communication log entries of the demo patients: a Faker of its own (seeded) so that the rest of
// the demo data does not shift, and times relative to the fixed reference date.

const ENTRIES: { mode: string; direction: string; note: string }[] = [
  { mode: 'phone', direction: 'sent', note: 'Called to confirm the appointment; patient confirmed.' },
  { mode: 'phone', direction: 'received', note: 'Patient called asking about lab results; told them the provider will call back.' },
  { mode: 'phone', direction: 'sent', note: 'Left a voicemail about rescheduling.' },
  { mode: 'email', direction: 'sent', note: 'Sent the intake forms before the first visit.' },
  { mode: 'email', direction: 'received', note: 'Insurance card copy received by email.' },
  { mode: 'text', direction: 'sent', note: 'Appointment reminder for tomorrow.' },
  { mode: 'mail', direction: 'sent', note: 'Mailed the annual recall letter.' },
  { mode: 'fax', direction: 'received', note: 'Referral letter received from the specialist.' },
  { mode: 'in_person', direction: 'neither', note: 'Discussed the payment plan at the front desk.' },
];

export interface PatientCommunicationLogs {
  patientId: string;
  logs: Row[];
}

export function communicationLogBodies(patientIds: string[], seed: number): PatientCommunicationLogs[] {
  const f = seededFaker(seed);
  return patientIds.map((patientId) => {
    const logs: Row[] = [];
    if (f.datatype.boolean(0.4)) {
      const n = f.number.int({ min: 1, max: 4 });
      for (let i = 0; i < n; i++) {
        const entry = f.helpers.arrayElement(ENTRIES);
        logs.push({ ...entry, communication_datetime: f.date.past({ years: 2, refDate: REF_DATE }).toISOString() });
      }
    }
    return { patientId, logs };
  });
}
