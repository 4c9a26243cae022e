import type { Row } from '../app/operations/records.js';
import { REF_DATE, seededFaker } from './generators.js';

// The demo practice's custom patient fields and their values: a Faker of its own (seeded) so the
// rest of the demo data does not shift. One field of each kind a practice typically adds.

export const CUSTOM_FIELD_DEFINITIONS: Row[] = [
  { name: 'Preferred pharmacy', key: 'preferred_pharmacy', field_type: 'select', dropdown_options: ['Shoppers Drug Mart', 'Rexall', 'Costco Pharmacy', 'Walmart Pharmacy', 'Independent'], item_order: 1, help_text: 'Where prescriptions are sent.' },
  { name: 'Last dental cleaning', key: 'last_dental_cleaning', field_type: 'date', item_order: 2 },
  { name: 'Dental anxiety (0-10)', key: 'dental_anxiety', field_type: 'integer', item_order: 3, help_text: 'As the patient rates it.' },
  { name: 'Has dental insurance', key: 'has_dental_insurance', field_type: 'boolean', item_order: 4 },
  { name: 'Languages spoken', key: 'languages_spoken', field_type: 'multi_select', dropdown_options: ['English', 'French', 'Spanish', 'Mandarin', 'Punjabi', 'Arabic'], item_order: 5 },
  { name: 'Nickname', key: 'nickname', field_type: 'text', item_order: 6 },
  { name: 'Accessibility notes', key: 'accessibility_notes', field_type: 'long_text', item_order: 7 },
  { name: 'Photo consent on file', key: 'photo_consent', field_type: 'boolean', is_required: true, item_order: 8, description: 'Needed before intra-oral photos are taken.' },
];

const NOTES = ['Uses a wheelchair; book the ground-floor operatory.', 'Hard of hearing: face the patient when speaking.', 'Prefers morning appointments because of medication timing.', 'Needs extra time to get into the chair.'];

/** Each patient's values by field key (many patients have some; none has every field). */
export function customFieldValues(patientIds: string[], seed: number): { patientId: string; values: Row }[] {
  const f = seededFaker(seed);
  const pick = <T>(list: readonly T[]) => f.helpers.arrayElement(list);
  const options = (key: string) => CUSTOM_FIELD_DEFINITIONS.find((d) => d.key === key)!.dropdown_options as string[];
  return patientIds.map((patientId) => {
    const values: Row = {};
    if (!f.datatype.boolean(0.7)) return { patientId, values };
    values.photo_consent = f.datatype.boolean(0.85);
    if (f.datatype.boolean(0.8)) values.preferred_pharmacy = pick(options('preferred_pharmacy'));
    if (f.datatype.boolean(0.7)) values.last_dental_cleaning = f.date.past({ years: 2, refDate: REF_DATE }).toISOString().slice(0, 10);
    if (f.datatype.boolean(0.4)) values.dental_anxiety = f.number.int({ min: 0, max: 10 });
    if (f.datatype.boolean(0.6)) values.has_dental_insurance = f.datatype.boolean(0.65);
    if (f.datatype.boolean(0.5)) values.languages_spoken = f.helpers.arrayElements(options('languages_spoken'), { min: 1, max: 2 });
    if (f.datatype.boolean(0.15)) values.nickname = f.person.firstName();
    if (f.datatype.boolean(0.08)) values.accessibility_notes = pick(NOTES);
    return { patientId, values };
  });
}
