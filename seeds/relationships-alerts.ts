import type { Row } from '../app/operations/records.js';
import { seededFaker } from './generators.js';

// Guarantor families, relationships and chart alerts of the demo patients: a Faker of its own
// (seeded) so that the rest of the demo data does not shift. Families are made of patients still
// on the books: the first of each is the guarantor (responsible party) of the others, the parent
// and legal guardian of some of them, their spouse or sibling otherwise. Alerts name entries of
// the alert catalog (some family-scoped) and end up active, disabled or archived.

export interface FamilyPlan {
  guarantorId: string;
  memberIds: string[];
}

export interface RelationshipsAlertsPlan {
  families: FamilyPlan[];
  /** Relationship bodies by source patient. */
  relationships: { patientId: string; body: Row }[];
  /** Alert bodies by patient, with what happens to each after it is made. */
  alerts: { patientId: string; body: Row; then: 'active' | 'disabled' | 'archived' }[];
}

export function relationshipsAlertsPlan(patientIds: string[], alertDefinitionIds: string[], seed: number): RelationshipsAlertsPlan {
  const f = seededFaker(seed);
  const pool = f.helpers.shuffle([...patientIds]);
  const families: FamilyPlan[] = [];
  const relationships: RelationshipsAlertsPlan['relationships'] = [];
  // About a quarter of the patients live in families of two to five.
  while (families.length < Math.floor(patientIds.length / 12) && pool.length >= 5) {
    const [guarantorId, ...memberIds] = pool.splice(0, f.number.int({ min: 2, max: 5 }));
    families.push({ guarantorId, memberIds });
    for (const [i, to] of memberIds.entries()) {
      if (i === 0 && memberIds.length > 1 && f.datatype.boolean(0.5)) {
        relationships.push({ patientId: guarantorId, body: { relationship_type: 'spouse', to_patient_id: to } });
        relationships.push({ patientId: to, body: { relationship_type: 'spouse', to_patient_id: guarantorId } });
        continue;
      }
      const guardian = f.datatype.boolean(0.6);
      relationships.push({ patientId: guarantorId, body: { relationship_type: 'parent', to_patient_id: to, is_guardian: guardian, ...(guardian ? { note: 'Legal guardian until age 18.' } : {}) } });
      relationships.push({ patientId: to, body: { relationship_type: 'child', to_patient_id: guarantorId } });
    }
    if (memberIds.length >= 3) relationships.push({ patientId: memberIds[1], body: { relationship_type: 'sibling', to_patient_id: memberIds[2] } });
  }
  // A few caregivers outside families.
  for (let i = 0; i < 6 && pool.length >= 2; i++) {
    const [from, to] = pool.splice(0, 2);
    relationships.push({ patientId: from, body: { relationship_type: 'caregiver', to_patient_id: to, is_guardian: f.datatype.boolean(0.3), note: 'Drives the patient to visits.' } });
  }

  const alerts: RelationshipsAlertsPlan['alerts'] = [];
  for (const patientId of patientIds) {
    if (!f.datatype.boolean(0.3)) continue;
    for (let n = f.number.int({ min: 1, max: 3 }); n > 0; n--) {
      const body: Row = { alert_definition_id: f.helpers.arrayElement(alertDefinitionIds) };
      // Most take the catalog's scope and urgency; some set them.
      if (f.datatype.boolean(0.15)) body.alert_scope = 'family';
      if (f.datatype.boolean(0.2)) body.is_urgent = true;
      if (f.datatype.boolean(0.3)) body.note = f.helpers.arrayElement(['Confirmed at check-in.', 'Reported by the patient.', 'See the last visit note.']);
      const then = f.helpers.weightedArrayElement([{ weight: 7, value: 'active' as const }, { weight: 2, value: 'disabled' as const }, { weight: 1, value: 'archived' as const }]);
      alerts.push({ patientId, body, then });
    }
  }
  return { families, relationships, alerts };
}
