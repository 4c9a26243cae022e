import type { Row } from '../app/operations/records.js';
import { REF_DATE, seededFaker } from './generators.js';

// Chart rows of the demo patients: allergies, problems and medications pointing at the demo
// catalogs. A Faker of its own (seeded) so that the rest of the demo data does not shift, and
// dates relative to the fixed reference date: the same ids in give the same bodies out.

export interface ChartCatalogIds {
  allergyDefinitionIds: string[];
  diseaseDefinitionIds: string[];
  medicationDefinitionIds: string[];
  providerIds: string[];
}

export interface PatientChart {
  patientId: string;
  allergies: Row[];
  diseases: Row[];
  medications: Row[];
}

const REACTIONS = ['Hives', 'Rash', 'Itching', 'Swelling of lips and tongue', 'Shortness of breath', 'Nausea and vomiting', 'Anaphylaxis', 'Wheezing', 'Runny nose and sneezing'];
const FREE_TEXT_MEDS = ['Vitamin B12 1000 mcg daily', 'Magnesium glycinate 200 mg', 'Fish oil 1 g capsule', 'Melatonin 3 mg at bedtime', 'Probiotic capsule', 'Calcium carbonate 500 mg'];
const FREQUENCIES = ['once daily', 'twice daily', 'three times daily', 'at bedtime', 'every 6 hours as needed', 'once weekly'];
const STOP_REASONS = ['Side effects', 'Course completed early by the prescriber', 'Not effective', 'Patient preference', 'Switched to another medication'];
const DISEASE_NOTES = ['Managed by the family physician.', 'Follow up every 6 months.', 'Patient monitors at home.', 'Seen by a specialist last year.'];

const ymd = (d: Date) => d.toISOString().slice(0, 10);

export function chartBodies(patientIds: string[], ids: ChartCatalogIds, seed: number): PatientChart[] {
  const f = seededFaker(seed);
  return patientIds.map((patientId) => {
    const allergies: Row[] = [];
    if (f.datatype.boolean(0.35)) {
      for (const definition of f.helpers.arrayElements(ids.allergyDefinitionIds, { min: 1, max: 3 })) {
        const body: Row = {
          allergy_definition_id: definition,
          reaction: f.helpers.arrayElement(REACTIONS),
          severity: f.helpers.weightedArrayElement([{ value: 'mild', weight: 45 }, { value: 'moderate', weight: 40 }, { value: 'severe', weight: 15 }]),
          status_is_active: f.datatype.boolean(0.9),
        };
        if (f.datatype.boolean(0.6)) body.date_adverse_reaction = ymd(f.date.past({ years: 15, refDate: REF_DATE }));
        allergies.push(body);
      }
    }
    const diseases: Row[] = [];
    if (f.datatype.boolean(0.5)) {
      for (const definition of f.helpers.arrayElements(ids.diseaseDefinitionIds, { min: 1, max: 3 })) {
        const start = f.date.past({ years: 10, refDate: REF_DATE });
        const problem_status = f.helpers.weightedArrayElement([{ value: 'active', weight: 70 }, { value: 'resolved', weight: 20 }, { value: 'inactive', weight: 10 }]);
        const body: Row = { disease_definition_id: definition, problem_status, date_start: ymd(start) };
        if (problem_status !== 'active') body.date_stop = ymd(f.date.between({ from: start, to: REF_DATE }));
        if (f.datatype.boolean(0.3)) body.patient_note = f.helpers.arrayElement(DISEASE_NOTES);
        diseases.push(body);
      }
    }
    const medications: Row[] = [];
    if (f.datatype.boolean(0.5)) {
      const n = f.number.int({ min: 1, max: 4 });
      for (let i = 0; i < n; i++) {
        const start = f.date.past({ years: 3, refDate: REF_DATE });
        const status = f.helpers.weightedArrayElement([{ value: 'active', weight: 70 }, { value: 'completed', weight: 15 }, { value: 'discontinued', weight: 10 }, { value: 'on_hold', weight: 5 }]);
        const body: Row = {
          dosage: f.helpers.arrayElement(['1 tablet', '2 tablets', '1 capsule', '2 puffs', '10 units', 'apply thinly']),
          frequency: f.helpers.arrayElement(FREQUENCIES),
          date_start: ymd(start),
          status,
          is_cpoe: f.datatype.boolean(0.6),
        };
        // Most come from the catalog; the rest are free text (supplements bought over the counter).
        if (f.datatype.boolean(0.8)) {
          body.medication_definition_id = f.helpers.arrayElement(ids.medicationDefinitionIds);
          body.provider_id = f.helpers.arrayElement(ids.providerIds);
        } else {
          body.med_descript = f.helpers.arrayElement(FREE_TEXT_MEDS);
        }
        if (status === 'completed' || status === 'discontinued') body.date_stop = ymd(f.date.between({ from: start, to: REF_DATE }));
        if (status === 'discontinued') body.discontinuation_reason = f.helpers.arrayElement(STOP_REASONS);
        medications.push(body);
      }
    }
    return { patientId, allergies, diseases, medications };
  });
}
