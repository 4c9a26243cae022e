import { expect } from 'chai';
import { create, createPatient, list, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

// Seed 001 §2.6, §2.8, §3.19: drug-allergy interaction warnings in the answer to a create of a
// patient allergy or medication, empty on later reads (not stored).

describe('Chart: drug-allergy interaction warnings', () => {
  let f: Fixture;
  let patient: Row;
  const a: Record<string, Row> = {};
  const m: Record<string, Row> = {};

  before(async () => {
    f = await setupApi();
    patient = await createPatient(f, { first_name: 'Ivy', last_name: 'Allergic' });
    a.penicillin = await create(f, 'allergy-definitions', { name: 'Penicillin', rx_cui: '70618' });
    a.ibuprofen = await create(f, 'allergy-definitions', { name: 'Ibuprofen', rx_cui: '5640' });
    a.sulfa = await create(f, 'allergy-definitions', { name: 'Sulfamethoxazole', rx_cui: '10180' });
    a.peanuts = await create(f, 'allergy-definitions', { name: 'Peanuts', allergen_type: 'food' });
    m.advil = await create(f, 'medication-definitions', { name: 'Advil 200 mg tablet', generic_name: 'ibuprofen' });
    m.bactrim = await create(f, 'medication-definitions', { name: 'Co-trimoxazole 800/160 mg tablet', generic_name: 'sulfamethoxazole / trimethoprim' });
    m.penv = await create(f, 'medication-definitions', { name: 'Pen VK 250 mg tablet', generic_name: 'penicillin V', rx_cui: '70618' });
    m.amlodipine = await create(f, 'medication-definitions', { name: 'Amlodipine 5 mg tablet', generic_name: 'amlodipine' });
  });

  after(async () => {
    await f.s.close();
  });

  const under = (sub: string) => `patients/${patient.id}/${sub}`;
  const post = async (sub: string, body: Row) => {
    const res = await f.s.api('POST', `${f.base}/${under(sub)}`, { key: f.key, body });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.data as Row;
  };

  it('answers an empty list when nothing conflicts', async () => {
    expect((await post('medications', { medication_definition_id: m.amlodipine.id })).interaction_warnings).to.deep.equal([]);
    expect((await post('allergies', { allergy_definition_id: a.peanuts.id })).interaction_warnings).to.deep.equal([]);
  });

  it('warns on a medication whose ingredient is an active drug allergy of the patient', async () => {
    const allergy = await post('allergies', { allergy_definition_id: a.sulfa.id, severity: 'severe' });
    expect(allergy.interaction_warnings).to.deep.equal([]);
    const med = await post('medications', { medication_definition_id: m.bactrim.id });
    expect(med.interaction_warnings).to.deep.equal([
      {
        allergy_id: allergy.id, allergy_definition_id: a.sulfa.id, allergen: 'Sulfamethoxazole',
        medication_id: med.id, medication_definition_id: m.bactrim.id, medication: 'Co-trimoxazole 800/160 mg tablet',
        matched_on: 'ingredient', severity: 'severe',
        message: 'The patient has an active allergy to Sulfamethoxazole; Co-trimoxazole 800/160 mg tablet contains sulfamethoxazole.',
      },
    ]);
  });

  it('warns on a new allergy against the active medications, by RxNorm CUI of the catalog entry or the row', async () => {
    const catalogued = await post('medications', { medication_definition_id: m.penv.id });
    const freeText = await post('medications', { med_descript: 'Penicillin G injection', rx_cui: '70618' });
    await post('medications', { med_descript: 'Penicillin (old course)', rx_cui: '70618', status: 'completed' });
    expect(catalogued.interaction_warnings).to.deep.equal([]);
    const allergy = await post('allergies', { allergy_definition_id: a.penicillin.id });
    const w = allergy.interaction_warnings as Row[];
    expect(w.map((x) => [x.medication_id, x.matched_on])).to.have.deep.members([[catalogued.id, 'rx_cui'], [freeText.id, 'rx_cui']]);
    expect(w).to.have.length(2);
  });

  it('ignores inactive allergies and medications that are not active', async () => {
    const inactive = await post('allergies', { allergy_definition_id: a.ibuprofen.id, status_is_active: false });
    expect(inactive.interaction_warnings).to.deep.equal([]);
    expect((await post('medications', { medication_definition_id: m.advil.id })).interaction_warnings).to.deep.equal([]);
    expect((await post('medications', { medication_definition_id: m.advil.id, status: 'on_hold' })).interaction_warnings).to.deep.equal([]);
  });

  it('is empty on later reads: nothing is stored', async () => {
    const meds = (await list(f, under('medications'))).data as Row[];
    expect(meds.length).to.be.greaterThan(0);
    for (const row of meds) expect(row.interaction_warnings).to.deep.equal([]);
    const bactrim = meds.find((r) => r.medication_definition_id === m.bactrim.id)!;
    const one = await f.s.api('GET', `${f.base}/${under('medications')}/${bactrim.id}`, { key: f.key });
    expect(one.body.data.interaction_warnings).to.deep.equal([]);
    for (const row of (await list(f, under('allergies'))).data as Row[]) expect(row.interaction_warnings).to.deep.equal([]);
  });

  it('refuses interaction_warnings in a body (read-only)', async () => {
    const res = await f.s.api('POST', `${f.base}/${under('allergies')}`, { key: f.key, body: { allergy_definition_id: a.peanuts.id, interaction_warnings: [] } });
    expect(res.status).to.equal(400);
  });
});
