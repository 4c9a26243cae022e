import { expect } from 'chai';
import { pino } from 'pino';
import { createHttpApp } from '../../app/http/server.js';
import { createRuntime, type Runtime } from '../../app/runtime.js';
import { MISSING_ID, create, createPatient, detailPaths, expectError, ids, list, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

// Custom patient fields defined at run time: validated, stored, listed, shown as a form,
// filtered and sorted on the patient list and documented, with no restart and no table change.

describe('Custom patient fields', () => {
  let f: Fixture;
  const patients: Row[] = [];
  const defs: Record<string, Row> = {};
  const put = (p: Row, body: Row) => f.s.api('PUT', `${f.base}/patients/${p.id}/field-values`, { key: f.key, body });
  const define = async (body: Row) => (defs[body.key ?? body.name] = await create(f, 'patient-field-definitions', body));

  before(async () => {
    f = await setupApi();
    for (const [first, last] of [['Ada', 'Field'], ['Bob', 'Field'], ['Cy', 'Field'], ['Di', 'Field'], ['Ed', 'Field']]) patients.push(await createPatient(f, { first_name: first, last_name: last }));
  });
  after(async () => {
    await f.s.close();
  });

  it('defines fields of every type, deriving a key from the name when none is given', async () => {
    const pharmacy = await create(f, 'patient-field-definitions', { name: 'Preferred pharmacy', field_type: 'select', dropdown_options: ['Walgreens', 'CVS', 'Rite Aid'], item_order: 1 });
    expect(pharmacy).to.include({ key: 'preferred_pharmacy', field_type: 'select', is_required: false, version: 1 });
    defs.preferred_pharmacy = pharmacy;
    await define({ name: 'Last dental visit', key: 'last_dental_visit', field_type: 'date', item_order: 2 });
    await define({ name: 'Shoe size', key: 'shoe_size', field_type: 'number', item_order: 3 });
    await define({ name: 'Siblings', key: 'siblings', field_type: 'integer', item_order: 4 });
    await define({ name: 'Has pets', key: 'has_pets', field_type: 'boolean', item_order: 5 });
    await define({ name: 'Nickname', key: 'nickname', field_type: 'text', item_order: 6, help_text: 'What the front desk calls them' });
    await define({ name: 'Story', key: 'story', field_type: 'long_text', item_order: 7 });
    await define({ name: 'Languages', key: 'languages', field_type: 'multi_select', dropdown_options: ['English', 'French', 'Spanish'], item_order: 8 });
  });

  it('refuses options that do not fit the type, and a key taken in the organization', async () => {
    const noOptions = await f.s.api('POST', `${f.base}/patient-field-definitions`, { key: f.key, body: { name: 'Tier', field_type: 'select' } });
    expectError(noOptions, 400, 'validation_error');
    expect(detailPaths(noOptions)).to.deep.equal(['/body/dropdown_options']);
    expectError(await f.s.api('POST', `${f.base}/patient-field-definitions`, { key: f.key, body: { name: 'Age', field_type: 'integer', dropdown_options: ['1'] } }), 400, 'validation_error');
    expectError(await f.s.api('POST', `${f.base}/patient-field-definitions`, { key: f.key, body: { name: 'X', field_type: 'select', dropdown_options: ['a', 'A'] } }), 400, 'validation_error');
    expectError(await f.s.api('POST', `${f.base}/patient-field-definitions`, { key: f.key, body: { name: 'X', field_type: 'select', dropdown_options: ['a|b'] } }), 400, 'validation_error');
    expectError(await f.s.api('POST', `${f.base}/patient-field-definitions`, { key: f.key, body: { name: 'Nickname', field_type: 'text' } }), 409, 'duplicate');
  });

  it('validates each value by its type, naming the field, and stores nothing when one is wrong', async () => {
    const bad = await put(patients[0], { fields: [
      { key: 'preferred_pharmacy', value: 'Costco' },
      { key: 'last_dental_visit', value: '2025-02-30' },
      { key: 'siblings', value: 1.5 },
      { key: 'has_pets', value: 'yes' },
      { key: 'languages', value: ['English', 'Klingon'] },
      { key: 'nickname', value: 'ok' },
    ] });
    expectError(bad, 400, 'validation_error');
    expect(detailPaths(bad)).to.include.members(['/body/fields/0/value', '/body/fields/1/value', '/body/fields/2/value', '/body/fields/3/value']);
    expect((await list(f, `patients/${patients[0].id}/field-values`)).data).to.deep.equal([]);
    const unknown = await put(patients[0], { values: { no_such_field: 1 } });
    expectError(unknown, 400, 'validation_error');
    expect(detailPaths(unknown)).to.deep.equal(['/body/values/no_such_field']);
    expectError(await put(patients[0], { fields: [{ field_definition_id: MISSING_ID, value: 1 }] }), 400, 'validation_error');
  });

  it('upserts values by key or by field id, and null clears', async () => {
    const sets: Row[] = [
      { preferred_pharmacy: 'CVS', last_dental_visit: '2025-03-01', shoe_size: 9.5, siblings: 2, has_pets: true, nickname: 'Addy', languages: ['French', 'English'] },
      { preferred_pharmacy: 'Walgreens', last_dental_visit: '2024-11-15', shoe_size: 11, siblings: 0, has_pets: false, languages: ['Spanish'] },
      { preferred_pharmacy: 'CVS', last_dental_visit: '2025-07-20', siblings: 5 },
      { preferred_pharmacy: 'Rite Aid' },
    ];
    for (let i = 0; i < sets.length; i++) {
      const res = await put(patients[i], { values: sets[i] });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.data).to.have.length(Object.keys(sets[i]).length);
    }
    const byId = await put(patients[3], { fields: [{ field_definition_id: defs.nickname.id, value: 'Dee' }] });
    expect(byId.body.data[0]).to.include({ key: 'nickname', value: 'Dee', version: 1 });
    const values = await list(f, `patients/${patients[0].id}/field-values`);
    const map = Object.fromEntries(values.data.map((v: Row) => [v.key, v.value]));
    expect(map).to.deep.equal({ ...sets[0], languages: ['English', 'French'] });
    const cleared = await put(patients[3], { values: { nickname: null } });
    expect(cleared.body.data[0]).to.include({ key: 'nickname', value: null, version: 2 });
    expect((await list(f, `patients/${patients[3].id}/field-values`)).data.map((v: Row) => v.key)).to.deep.equal(['preferred_pharmacy']);
  });

  it('shows the form: every live field in order, with the value or null', async () => {
    const form = (await f.s.api('GET', `${f.base}/patients/${patients[1].id}/field-values/form`, { key: f.key })).body.data;
    expect(form.map((i: Row) => i.key)).to.deep.equal(['preferred_pharmacy', 'last_dental_visit', 'shoe_size', 'siblings', 'has_pets', 'nickname', 'story', 'languages']);
    expect(form[0]).to.include({ value: 'Walgreens', field_type: 'select' });
    expect(form[0].dropdown_options).to.deep.equal(['Walgreens', 'CVS', 'Rite Aid']);
    expect(form[5]).to.include({ value: null, help_text: 'What the front desk calls them', value_id: null });
    expectError(await f.s.api('GET', `${f.base}/patients/${MISSING_ID}/field-values/form`, { key: f.key }), 404, 'not_found');
    expectError(await f.s.api('GET', `${f.base}/patients/${MISSING_ID}/field-values`, { key: f.key }), 404, 'not_found');
  });

  it('filters the patient list on custom fields with the operators of their types, totals included', async () => {
    const names = async (query: string) => {
      const body = await list(f, `patients?${query}&sort=first_name`);
      expect(body.total_count, query).to.equal(body.data.length);
      return body.data.map((p: Row) => p.first_name);
    };
    expect(await names('field.preferred_pharmacy=CVS')).to.deep.equal(['Ada', 'Cy']);
    expect(await names('field.preferred_pharmacy[ne]=CVS')).to.deep.equal(['Bob', 'Di', 'Ed']);
    expect(await names('field.preferred_pharmacy[in]=CVS,Rite Aid')).to.deep.equal(['Ada', 'Cy', 'Di']);
    expect(await names('field.last_dental_visit[gte]=2025-01-01')).to.deep.equal(['Ada', 'Cy']);
    expect(await names('field.siblings[lt]=3')).to.deep.equal(['Ada', 'Bob']);
    expect(await names('field.shoe_size=9.5')).to.deep.equal(['Ada']);
    expect(await names('field.has_pets=false')).to.deep.equal(['Bob']);
    expect(await names('field.languages=English')).to.deep.equal(['Ada']);
    expect(await names('field.languages[in]=Spanish,English')).to.deep.equal(['Ada', 'Bob']);
    expect(await names('field.nickname[like]=add')).to.deep.equal(['Ada']);
    expect(await names('field.nickname[null]=true')).to.deep.equal(['Bob', 'Cy', 'Di', 'Ed']);
    expect(await names('field.preferred_pharmacy=CVS&field.siblings[gte]=3')).to.deep.equal(['Cy']);
    for (const bad of ['field.preferred_pharmacy=Costco', 'field.siblings=many', 'field.no_such=1', 'field.story=x', 'field.has_pets[gt]=true']) {
      const res = await f.s.api('GET', `${f.base}/patients?${bad}`, { key: f.key });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)[0], bad).to.equal(`/query/${decodeURIComponent(bad.split('=')[0])}`);
    }
  });

  it('sorts by a custom field, records without a value last both ways, through cursor pages', async () => {
    const walk = async (sort: string) => {
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const body: Row = await list(f, `patients?sort=${sort}&limit=2${after ? `&after=${after}` : ''}`);
        seen.push(...body.data.map((p: Row) => p.first_name));
        after = body.page_info.has_next_page ? body.page_info.end_cursor : null;
      } while (after);
      return seen;
    };
    const noDate = ['Di', 'Ed'].sort((a, b) => (patients.find((p) => p.first_name === a)!.id < patients.find((p) => p.first_name === b)!.id ? -1 : 1));
    expect(await walk('field.last_dental_visit')).to.deep.equal(['Bob', 'Ada', 'Cy', ...noDate]);
    expect(await walk('-field.last_dental_visit')).to.deep.equal(['Cy', 'Ada', 'Bob', ...noDate]);
    // The list's other conditions hold: records they leave out are skipped in value order, also across offset pages.
    const others = async (query: string) => (await list(f, `patients?first_name[ne]=Ada&${query}`)).data.map((p: Row) => p.first_name);
    expect(await others('sort=field.last_dental_visit&limit=10')).to.deep.equal(['Bob', 'Cy', ...noDate]);
    expect(await others('sort=field.last_dental_visit&page=2&page_size=1')).to.deep.equal(['Cy']);
    expect(await others('sort=field.last_dental_visit&page=3&page_size=1')).to.deep.equal([noDate[0]]);
    const paged = await list(f, 'patients?sort=field.siblings&page=2&page_size=2');
    expect(paged.data.map((p: Row) => p.first_name)).to.deep.equal(['Cy', noDate[0]]);
    expectError(await f.s.api('GET', `${f.base}/patients?sort=field.languages`, { key: f.key }), 400, 'validation_error');
    expectError(await f.s.api('GET', `${f.base}/patients?sort=field.siblings,last_name`, { key: f.key }), 400, 'validation_error');
    const first = await list(f, 'patients?sort=field.siblings&limit=1');
    expectError(await f.s.api('GET', `${f.base}/patients?sort=last_name&after=${first.page_info.end_cursor}`, { key: f.key }), 400, 'invalid_cursor');
  });

  it('sees a value change at once in a cached list', async () => {
    expect((await list(f, 'patients?field.preferred_pharmacy=Walgreens')).total_count).to.equal(1);
    await put(patients[4], { values: { preferred_pharmacy: 'Walgreens' } });
    expect((await list(f, 'patients?field.preferred_pharmacy=Walgreens')).total_count).to.equal(2);
  });

  it('hides an archived field without losing its values, and brings them back on restore', async () => {
    const def = (await f.s.api('GET', `${f.base}/patient-field-definitions/${defs.siblings.id}`, { key: f.key })).body.data;
    expect((await f.s.api('POST', `${f.base}/patient-field-definitions/${def.id}/archive`, { key: f.key, body: { base_version: def.version } })).status).to.equal(200);
    expect((await list(f, `patients/${patients[0].id}/field-values`)).data.map((v: Row) => v.key)).to.not.include('siblings');
    expectError(await f.s.api('GET', `${f.base}/patients?field.siblings=2`, { key: f.key }), 400, 'validation_error');
    const refused = await put(patients[0], { values: { siblings: 3 } });
    expectError(refused, 400, 'validation_error');
    expect((await f.s.api('POST', `${f.base}/patient-field-definitions/${def.id}/restore`, { key: f.key })).status).to.equal(200);
    expect(ids((await list(f, 'patients?field.siblings=2')).data)).to.deep.equal([patients[0].id]);
  });

  it('keeps the type while values exist, and options that patients chose', async () => {
    const def = (await f.s.api('GET', `${f.base}/patient-field-definitions/${defs.nickname.id}`, { key: f.key })).body.data;
    expectError(await f.s.api('PATCH', `${f.base}/patient-field-definitions/${def.id}`, { key: f.key, body: { base_version: def.version, field_type: 'integer' } }), 422, 'field_type_locked');
    const pharmacy = (await f.s.api('GET', `${f.base}/patient-field-definitions/${defs.preferred_pharmacy.id}`, { key: f.key })).body.data;
    expectError(await f.s.api('PATCH', `${f.base}/patient-field-definitions/${pharmacy.id}`, { key: f.key, body: { base_version: pharmacy.version, dropdown_options: ['Walgreens', 'CVS'] } }), 422, 'option_in_use');
    const added = await f.s.api('PATCH', `${f.base}/patient-field-definitions/${pharmacy.id}`, { key: f.key, body: { base_version: pharmacy.version, dropdown_options: ['Walgreens', 'CVS', 'Rite Aid', 'Costco'] } });
    expect(added.status).to.equal(200);
    expect((await put(patients[4], { values: { preferred_pharmacy: 'Costco' } })).status).to.equal(200);
  });

  it('enforces a required field where the form is submitted, and never lets it be cleared', async () => {
    const def = await define({ name: 'Consent on file', key: 'consent', field_type: 'boolean', is_required: true, item_order: 9 });
    // Plain writes do not need it: patients created before the field stay valid.
    expect((await put(patients[0], { values: { nickname: 'Ada' } })).status).to.equal(200);
    const form = await put(patients[0], { values: { nickname: 'Ada' }, form: true });
    expectError(form, 400, 'validation_error');
    expect(form.body.details[0]).to.include({ key: 'consent' });
    expect((await put(patients[0], { values: { consent: true }, form: true })).status).to.equal(200);
    const clear = await put(patients[0], { values: { consent: null } });
    expectError(clear, 400, 'validation_error');
    expect(detailPaths(clear)).to.deep.equal(['/body/values/consent']);
    expect(def.is_required).to.equal(true);
  });

  it("documents the organization's fields in its own OpenAPI document", async () => {
    const full = (await f.s.api('GET', '/api/openapi.json')).body;
    const listOp = full.paths['/api/v1/{org}/patients'].get;
    expect(listOp.description).to.contain('field.<key>');
    expect(full.paths['/api/v1/{org}/patients/{patient_id}/field-values'].put).to.be.an('object');
    expect(full.paths['/api/v1/{org}/patients/{patient_id}/field-values/form'].get).to.be.an('object');
    const own = (await f.s.api('GET', `/api/openapi.json?org=${f.org.slug}`, { key: f.key })).body;
    const params = own.paths['/api/v1/{org}/patients'].get.parameters.map((p: Row) => p.name ?? p.$ref);
    expect(params).to.include.members(['field.preferred_pharmacy', 'field.preferred_pharmacy[in]', 'field.siblings[gte]', 'field.story[like]']);
    const values = own.components.schemas.PatientCustomFieldValues;
    expect(values.properties.preferred_pharmacy.enum).to.include('Costco');
    expect(values.properties.siblings.type).to.deep.equal(['integer', 'null']);
    expectError(await f.s.api('GET', '/api/openapi.json?org=not-mine', { key: f.key }), 404, 'not_found');
    expectError(await f.s.api('GET', `/api/openapi.json?org=${f.org.slug}`), 401, 'unauthorized');
  });
});

describe('Custom patient fields in a second process on the same database', () => {
  let f: Fixture;
  let other: Runtime;
  let otherUrl: string;
  let closeOther: () => Promise<void>;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${otherUrl}${path}`, { method, headers: { authorization: `Bearer ${f.key}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: await res.json() as Row };
  };
  /** Retries until the other process has switched to the generation with the field (it polls). */
  const eventually = async <T>(probe: () => Promise<T | undefined>): Promise<T> => {
    const until = Date.now() + 5000;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > until) throw new Error('the second process never saw the new field');
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  before(async () => {
    f = await setupApi({ env: { SCHEMA_POLL_MS: '100' } });
    other = await createRuntime(f.s.rt.config, { redisPrefix: f.s.rt.redisPrefix, logger: pino({ level: 'silent' }) });
    const http = createHttpApp(other);
    otherUrl = (await http.listen(0, '127.0.0.1')).url;
    closeOther = async () => {
      await http.close();
      await other.close();
    };
  });
  after(async () => {
    await closeOther?.();
    await f?.s.close();
  });

  it('validates, filters, sorts and documents a field created in the first process, without a restart', async () => {
    const patients = [await createPatient(f, { first_name: 'Ann', last_name: 'Two' }), await createPatient(f, { first_name: 'Ben', last_name: 'Two' })];
    await create(f, 'patient-field-definitions', { name: 'Risk tier', key: 'risk_tier', field_type: 'select', dropdown_options: ['low', 'high'] });
    const written = await eventually(async () => {
      const res = await call('PUT', `${f.base}/patients/${patients[0].id}/field-values`, { values: { risk_tier: 'high' } });
      return res.status === 200 ? res : undefined;
    });
    expect(written.body.data[0]).to.include({ key: 'risk_tier', value: 'high' });
    const refused = await call('PUT', `${f.base}/patients/${patients[1].id}/field-values`, { values: { risk_tier: 'extreme' } });
    expect(refused.status).to.equal(400);
    expect(refused.body.details[0].path).to.equal('/body/values/risk_tier');
    expect((await call('PUT', `${f.base}/patients/${patients[1].id}/field-values`, { values: { risk_tier: 'low' } })).status).to.equal(200);
    const filtered = await call('GET', `${f.base}/patients?field.risk_tier=high`);
    expect(filtered.body.data.map((p: Row) => p.first_name)).to.deep.equal(['Ann']);
    const sorted = await call('GET', `${f.base}/patients?sort=-field.risk_tier`);
    expect(sorted.body.data.map((p: Row) => p.first_name)).to.deep.equal(['Ben', 'Ann']);
    const doc = await call('GET', `/api/openapi.json?org=${f.org.slug}`);
    expect(doc.body.components.schemas.PatientCustomFieldValues.properties.risk_tier.enum).to.deep.equal(['low', 'high', null]);
    // And the first process sees what the second wrote.
    expect((await list(f, 'patients?field.risk_tier=low')).data.map((p: Row) => p.first_name)).to.deep.equal(['Ben']);
  });
});
