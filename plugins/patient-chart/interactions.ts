import type { HookRegistration, Row, WriteState } from '../../app/core/plugin.js';

// Seed 001 §3.19 `interaction_warnings`: on the create of a patient allergy or medication, the
// answer lists the drug-allergy conflicts between that new record and the patient's other side:
// a new active drug allergy against the patient's active medications, a new active medication
// against the patient's active drug allergies. The rule is exact, on what the catalogs hold:
//   rx_cui      the allergen's RxNorm CUI equals the medication's (its row's or its catalog entry's);
//   ingredient  the allergen's name equals, case-insensitively, one active ingredient of the
//               medication's catalog generic_name (split on "/", "+", "," and " and ").
// Drug classes (a penicillin allergy vs amoxicillin) are not in the catalogs, so not matched;
// free-text medications (med_descript) match only through the row's rx_cui. The warnings are
// not stored: they are the write's answer-only value (WriteState.answer), so later reads give [].

interface Allergy {
  id: string;
  allergy_definition_id: string;
  severity: string | null;
  allergen: string;
  rx_cui: string | null;
}

interface Medication {
  id: string;
  medication_definition_id: string | null;
  name: string;
  rx_cui: string | null;
  definition_rx_cui: string | null;
  ingredients: string[];
}

const ingredientsOf = (generic: unknown) =>
  typeof generic === 'string' ? generic.toLowerCase().split(/\s*(?:\/|\+|,|\band\b)\s*/).map((s) => s.trim()).filter(Boolean) : [];

/** The conflict between one allergy and one medication, or null. */
export function conflict(allergy: Allergy, med: Medication): Row | null {
  let matched: 'rx_cui' | 'ingredient' | null = null;
  if (allergy.rx_cui && (med.rx_cui === allergy.rx_cui || med.definition_rx_cui === allergy.rx_cui)) matched = 'rx_cui';
  else if (med.ingredients.includes(allergy.allergen.trim().toLowerCase())) matched = 'ingredient';
  if (!matched) return null;
  return {
    allergy_id: allergy.id,
    allergy_definition_id: allergy.allergy_definition_id,
    allergen: allergy.allergen,
    medication_id: med.id,
    medication_definition_id: med.medication_definition_id,
    medication: med.name,
    matched_on: matched,
    severity: allergy.severity,
    message: `The patient has an active allergy to ${allergy.allergen}; ${med.name} ${matched === 'rx_cui' ? 'has the same RxNorm code' : `contains ${allergy.allergen.toLowerCase()}`}.`,
  };
}

const isTrue = (v: unknown) => v === true || v === 1;

/** The patient's active drug allergies (all, or the given one), with their allergen. */
async function drugAllergies(state: WriteState, patientId: string, onlyId?: string): Promise<Allergy[]> {
  const q = state.query('patient-allergy').where('patient_id', patientId);
  if (onlyId) q.where('id', onlyId);
  const rows = ((await q) as unknown as Row[]).filter((r) => isTrue(r.status_is_active));
  if (!rows.length) return [];
  const defs = (await state.query('allergy-definition').whereIn('id', rows.map((r) => r.allergy_definition_id as string))) as unknown as Row[];
  const byId = new Map(defs.filter((d) => d.allergen_type === 'drug').map((d) => [d.id as string, d]));
  return rows.flatMap((r) => {
    const d = byId.get(r.allergy_definition_id as string);
    return d ? [{ id: r.id as string, allergy_definition_id: d.id as string, severity: (r.severity as string) ?? null, allergen: d.name as string, rx_cui: (d.rx_cui as string) ?? null }] : [];
  });
}

/** The patient's active medications (all, or the given one), with their catalog entry. */
async function activeMedications(state: WriteState, patientId: string, onlyId?: string): Promise<Medication[]> {
  const q = state.query('patient-medication').where('patient_id', patientId).where('status', 'active');
  if (onlyId) q.where('id', onlyId);
  const rows = (await q) as unknown as Row[];
  if (!rows.length) return [];
  const defIds = rows.map((r) => r.medication_definition_id).filter((v): v is string => typeof v === 'string');
  // An archived catalog entry is left out like any archived record: its medication then counts as free text.
  const defs = defIds.length ? ((await state.query('medication-definition').whereIn('id', defIds)) as unknown as Row[]) : [];
  const byId = new Map(defs.map((d) => [d.id as string, d]));
  return rows.map((r) => {
    const d = r.medication_definition_id ? byId.get(r.medication_definition_id as string) : undefined;
    return {
      id: r.id as string,
      medication_definition_id: (r.medication_definition_id as string) ?? null,
      name: (d?.name as string) ?? (r.med_descript as string) ?? 'the medication',
      rx_cui: (r.rx_cui as string) ?? null,
      definition_rx_cui: (d?.rx_cui as string) ?? null,
      ingredients: ingredientsOf(d?.generic_name),
    };
  });
}

async function warnOnCreate(state: WriteState): Promise<void> {
  const record = state.record!;
  const patientId = record.patient_id as string;
  const allergyCreated = state.def.name === 'patient-allergy';
  const allergies = await drugAllergies(state, patientId, allergyCreated ? (record.id as string) : undefined);
  const medications = allergies.length ? await activeMedications(state, patientId, allergyCreated ? undefined : (record.id as string)) : [];
  const warnings: Row[] = [];
  for (const a of allergies) for (const m of medications) {
    const w = conflict(a, m);
    if (w) warnings.push(w);
  }
  warnings.sort((a, b) => String(a.allergen).localeCompare(String(b.allergen)) || String(a.medication).localeCompare(String(b.medication)));
  state.answer.interaction_warnings = warnings;
}

export const interactionHooks: HookRegistration[] = [
  { resource: 'patient-allergy', operations: ['create'], hook: warnOnCreate },
  { resource: 'patient-medication', operations: ['create'], hook: warnOnCreate },
];
