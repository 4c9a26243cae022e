import { expect } from 'chai';
import { AppError } from '../../app/core/errors.js';
import { definePlugin } from '../../app/core/plugin.js';
import { MISSING_ID, createPatient, expectError, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

// POST /patients/bulk (seed 001 §1.1 Src#42, §2.4, §3.11): rows validated like single creates,
// matched on chart_number, applied in one transaction per batch with bad rows reported; above
// the sync limit (PATIENT_IMPORT_SYNC_LIMIT, 6 here) the import is staged and runs as a job.

const SYNC_LIMIT = 6;

describe('Patients: bulk import', () => {
  let f: Fixture;
  const saved = { sync: process.env.PATIENT_IMPORT_SYNC_LIMIT, chunk: process.env.PATIENT_IMPORT_CHUNK_ROWS };

  before(async () => {
    process.env.PATIENT_IMPORT_SYNC_LIMIT = String(SYNC_LIMIT);
    process.env.PATIENT_IMPORT_CHUNK_ROWS = '3';
    f = await setupApi();
  });

  after(async () => {
    for (const [name, value] of [['PATIENT_IMPORT_SYNC_LIMIT', saved.sync], ['PATIENT_IMPORT_CHUNK_ROWS', saved.chunk]] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await f.s.close();
  });

  let n = 0;
  const chart = () => `BULK-${++n}-${Math.random().toString(36).slice(2, 8)}`;
  const bulk = (body: unknown, key = f.key, query = '') => f.s.api('POST', `${f.base}/patients/bulk${query}`, { key, body });
  const csv = (text: string, query = '', key = f.key) => f.s.api('POST', `${f.base}/patients/bulk${query}`, { key, rawBody: text, headers: { 'content-type': 'text/csv' } });
  const byChart = async (c: string) => (await f.s.api('GET', `${f.base}/patients?chart_number=${c}`, { key: f.key })).body.data as Row[];
  const waitForJob = async (id: string, key = f.key): Promise<Row> => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const res = await f.s.api('GET', `${f.base}/jobs/${id}`, { key });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      if (['completed', 'failed'].includes(res.body.data.status)) return res.body.data;
      if (Date.now() > deadline) throw new Error(`job ${id} still ${res.body.data.status}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  it('creates the good rows and reports each bad one with its errors, in one answer (row numbers are 0-based)', async () => {
    const [a, b] = [chart(), chart()];
    const res = await bulk({
      rows: [
        { first_name: 'Ada', last_name: 'Import', chart_number: a, date_of_birth: '1980-02-03' },
        { first_name: 'NoLast' },
        { first_name: 'Bob', last_name: 'Import', chart_number: b, gender: 'robot' },
        { first_name: 'Cy', last_name: 'Import', email: 'not-an-email' },
        'not an object',
        { first_name: 'Di', last_name: 'Import', status: 'prospective' },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const out = res.body.data;
    expect(out).to.include({ total: 6, created: 2, updated: 0, skipped: 0, failed: 4, validated: 0 });
    expect(out.results.map((r: Row) => [r.row, r.status])).to.deep.equal([[0, 'created'], [1, 'failed'], [2, 'failed'], [3, 'failed'], [4, 'failed'], [5, 'created']]);
    expect(out.results[1].errors).to.deep.include({ path: '/rows/1/last_name', message: 'is required', code: 'validation_error' });
    expect(out.results[2].errors.map((e: Row) => e.path)).to.deep.equal(['/rows/2/gender']);
    expect(out.results[3].errors.map((e: Row) => e.path)).to.deep.equal(['/rows/3/email']);
    expect(out.results[4].errors[0].path).to.equal('/rows/4');
    const ada = await f.s.api('GET', `${f.base}/patients/${out.results[0].id}`, { key: f.key });
    expect(ada.body.data).to.include({ first_name: 'Ada', chart_number: a, version: 1, status: 'active' });
    expect(await byChart(b)).to.have.length(0);
    // Audited like a create, as the caller.
    const audit = await f.s.api('GET', `${f.base}/audit-events?resource_id=${out.results[0].id}`, { key: f.key });
    expect(audit.body.data.map((e: Row) => e.action)).to.deep.equal(['create']);
  });

  it('lets a row start only as active or prospective, as a create does', async () => {
    const res = await bulk({ rows: [{ first_name: 'Ina', last_name: 'Status', status: 'inactive' }, { first_name: 'Dee', last_name: 'Status', status: 'deceased' }] });
    expect(res.body.data).to.include({ created: 0, failed: 2 });
    for (const r of res.body.data.results) expect(r.errors.map((e: Row) => e.path)).to.deep.equal([`/rows/${r.row}/status`]);
  });

  it('fails a row whose references do not exist in the organization, and keeps the others', async () => {
    const res = await bulk({ rows: [{ first_name: 'Ref', last_name: 'Missing', primary_provider_id: MISSING_ID }, { first_name: 'Ref', last_name: 'Fine' }] });
    expect(res.body.data).to.include({ created: 1, failed: 1 });
    expect(res.body.data.results[0].errors).to.deep.equal([{ path: '/rows/0/primary_provider_id', message: `no provider with id '${MISSING_ID}'`, code: 'unprocessable' }]);
  });

  it('fails every later row that repeats a chart number of the same batch', async () => {
    const c = chart();
    const res = await bulk({ rows: [{ first_name: 'One', last_name: 'Dup', chart_number: c }, { first_name: 'Two', last_name: 'Dup', chart_number: c }, { first_name: 'Three', last_name: 'Dup', chart_number: c }] });
    expect(res.body.data).to.include({ created: 1, failed: 2 });
    expect(res.body.data.results[1].errors).to.deep.equal([{ path: '/rows/1/chart_number', message: 'is already used by row 0 of this import', code: 'duplicate' }]);
    expect(await byChart(c)).to.have.length(1);
  });

  it('on_conflict fail (the default) fails a row whose chart number is taken, with a 409-style duplicate detail', async () => {
    const existing = await createPatient(f, { first_name: 'Old', last_name: 'Conflict', chart_number: chart() });
    const res = await bulk({ rows: [{ first_name: 'New', last_name: 'Conflict', chart_number: existing.chart_number }] });
    expect(res.body.data).to.include({ created: 0, failed: 1 });
    expect(res.body.data.results[0].errors[0]).to.include({ path: '/rows/0/chart_number', code: 'duplicate', id: existing.id });
  });

  it('on_conflict skip leaves the existing patient alone and reports it skipped, with its id', async () => {
    const existing = await createPatient(f, { first_name: 'Old', last_name: 'Skip', chart_number: chart() });
    const res = await bulk({ meta: { on_conflict: 'skip' }, rows: [{ first_name: 'New', last_name: 'Skip', chart_number: existing.chart_number }, { first_name: 'Other', last_name: 'Skip' }] });
    expect(res.body.data).to.include({ created: 1, skipped: 1 });
    expect(res.body.data.results[0]).to.deep.equal({ row: 0, status: 'skipped', id: existing.id });
    const again = await f.s.api('GET', `${f.base}/patients/${existing.id}`, { key: f.key });
    expect(again.body.data).to.include({ first_name: 'Old', version: 1 });
  });

  it('on_conflict update changes the existing patient like a PATCH: new version, audit row; an owned field may be sent unchanged but not changed', async () => {
    const existing = await createPatient(f, { first_name: 'Old', last_name: 'Update', chart_number: chart(), city: 'Oslo' });
    const res = await bulk({
      meta: { on_conflict: 'update' },
      rows: [{ first_name: 'Renamed', last_name: 'Update', chart_number: existing.chart_number, status: 'active' }],
    });
    expect(res.body.data).to.include({ updated: 1, failed: 0 });
    expect(res.body.data.results[0]).to.deep.equal({ row: 0, status: 'updated', id: existing.id });
    const after = (await f.s.api('GET', `${f.base}/patients/${existing.id}`, { key: f.key })).body.data;
    expect(after).to.include({ first_name: 'Renamed', city: 'Oslo', version: 2 });
    const audit = await f.s.api('GET', `${f.base}/audit-events?resource_id=${existing.id}&sort=created_at`, { key: f.key });
    const update = audit.body.data.find((e: Row) => e.action === 'update');
    expect(update.changes).to.deep.equal({ first_name: { before: 'Old', after: 'Renamed' } });

    const moved = await bulk({ meta: { on_conflict: 'update' }, rows: [{ first_name: 'Renamed', last_name: 'Update', chart_number: existing.chart_number, status: 'prospective' }] });
    expect(moved.body.data).to.include({ updated: 0, failed: 1 });
    expect(moved.body.data.results[0].errors.map((e: Row) => e.path)).to.deep.equal(['/rows/0/status']);
  });

  it('mode validate writes nothing and reports the rows that would be applied as valid', async () => {
    const existing = await createPatient(f, { first_name: 'Old', last_name: 'Validate', chart_number: chart() });
    const fresh = chart();
    const res = await bulk({
      meta: { mode: 'validate', on_conflict: 'update' },
      rows: [{ first_name: 'New', last_name: 'Validate', chart_number: fresh }, { first_name: 'X', last_name: 'Validate', chart_number: existing.chart_number }, { last_name: 'Bad' }],
    });
    expect(res.body.data).to.include({ total: 3, created: 0, updated: 0, validated: 2, failed: 1 });
    expect(res.body.data.results.map((r: Row) => r.status)).to.deep.equal(['valid', 'valid', 'failed']);
    expect(res.body.data.results[1].id).to.equal(existing.id);
    expect(await byChart(fresh)).to.have.length(0);
    expect((await f.s.api('GET', `${f.base}/patients/${existing.id}`, { key: f.key })).body.data.first_name).to.equal('Old');
  });

  it('refuses a malformed request: unknown keys, options outside their sets, no rows', async () => {
    expectError(await bulk({ meta: { mode: 'dry' }, rows: [] }), 400, 'validation_error');
    expectError(await bulk({ meta: { match_on: 'email' }, rows: [] }), 400, 'validation_error');
    expectError(await bulk({ meta: {}, rows: [], extra: 1 }), 400, 'validation_error');
    expectError(await bulk({ meta: {} }), 400, 'validation_error');
    expectError(await bulk({ rows: [] }, f.key, '?mode=apply'), 400, 'validation_error');
  });

  it('imports custom field values with each row, checked like PUT …/field-values, and updates them with on_conflict update', async () => {
    const tier = await f.s.api('POST', `${f.base}/patient-field-definitions`, { key: f.key, body: { name: 'Import tier', key: 'import_tier', field_type: 'select', dropdown_options: ['gold', 'silver'] } });
    expect(tier.status).to.equal(201);
    await f.s.api('POST', `${f.base}/patient-field-definitions`, { key: f.key, body: { name: 'Import visits', key: 'import_visits', field_type: 'integer' } });
    const [good, other] = [chart(), chart()];
    const res = await bulk({ rows: [
      { first_name: 'Cus', last_name: 'Tom', chart_number: good, field_values: { import_tier: 'gold', import_visits: 3 } },
      { first_name: 'Bad', last_name: 'Value', chart_number: chart(), field_values: { import_tier: 'bronze' } },
      { first_name: 'No', last_name: 'Field', chart_number: chart(), field_values: { shoe: 42 } },
      { first_name: 'Not', last_name: 'Object', chart_number: chart(), field_values: ['gold'] },
      { first_name: 'Plain', last_name: 'Row', chart_number: other },
    ] });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.data).to.include({ created: 2, failed: 3 });
    expect(res.body.data.results[1].errors[0]).to.include({ path: '/rows/1/field_values/import_tier', code: 'validation_error' });
    expect(res.body.data.results[2].errors[0]).to.include({ path: '/rows/2/field_values/shoe' });
    expect(res.body.data.results[3].errors[0]).to.include({ path: '/rows/3/field_values' });
    const [patient] = await byChart(good);
    const values = async (id: string) => Object.fromEntries((await f.s.api('GET', `${f.base}/patients/${id}/field-values`, { key: f.key })).body.data.map((v: Row) => [v.key, v.value]));
    expect(await values(patient.id)).to.deep.equal({ import_tier: 'gold', import_visits: 3 });
    expect((await byChart(other))[0]).to.be.an('object');
    // The patient list filters on them at once (the import committed the values table too).
    expect((await f.s.api('GET', `${f.base}/patients?field.import_tier=gold`, { key: f.key })).body.data.map((p: Row) => p.id)).to.deep.equal([patient.id]);

    const again = await bulk({ meta: { on_conflict: 'update' }, rows: [{ first_name: 'Cus', last_name: 'Tom', chart_number: good, field_values: { import_tier: 'silver', import_visits: null } }] });
    expect(again.body.data).to.include({ updated: 1 });
    expect(await values(patient.id)).to.deep.equal({ import_tier: 'silver' });
    expect((await f.s.api('GET', `${f.base}/patients?field.import_tier=gold`, { key: f.key })).body.data).to.deep.equal([]);
    const validate = await bulk({ meta: { mode: 'validate' }, rows: [{ first_name: 'Val', last_name: 'Id', chart_number: chart(), field_values: { import_visits: 'many' } }] });
    expect(validate.body.data.results[0].errors[0]).to.include({ path: '/rows/0/field_values/import_visits' });
  });

  it('reads custom field columns (field.<key>) in CSV, a multi_select as options separated by ;', async () => {
    await f.s.api('POST', `${f.base}/patient-field-definitions`, { key: f.key, body: { name: 'CSV langs', key: 'csv_langs', field_type: 'multi_select', dropdown_options: ['en', 'fr', 'es'] } });
    const c = chart();
    const res = await csv(`first_name,last_name,chart_number,field.import_visits,field.csv_langs\nCsv,Custom,${c},7,fr; en\nCsv,Bad,${chart()},x,\n`);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.data).to.include({ created: 1, failed: 1 });
    expect(res.body.data.results[1].errors[0].path).to.equal('/rows/1/field_values/import_visits');
    const [p] = await byChart(c);
    const values = (await f.s.api('GET', `${f.base}/patients/${p.id}/field-values`, { key: f.key })).body.data;
    expect(Object.fromEntries(values.map((v: Row) => [v.key, v.value]))).to.deep.equal({ import_visits: 7, csv_langs: ['en', 'fr'] });
    const unknown = await csv('first_name,last_name,field.nope\nA,B,1\n');
    expectError(unknown, 400, 'validation_error');
    expect(unknown.body.details[0].path).to.equal('/body/header/2');
  });

  it('needs patients:write (and patients:sensitive per row for sensitive fields)', async () => {
    const reader = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['patients:read'] })).key;
    expectError(await bulk({ rows: [{ first_name: 'A', last_name: 'B' }] }, reader), 403, 'forbidden');
    const writer = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['patients:write'] })).key;
    const res = await bulk({ rows: [{ first_name: 'Sens', last_name: 'Itive', social_security_number: '123-45-6789' }, { first_name: 'Plain', last_name: 'Row' }] }, writer);
    expect(res.body.data).to.include({ created: 1, failed: 1 });
    expect(res.body.data.results[0].errors[0]).to.include({ path: '/rows/0/social_security_number', code: 'forbidden' });
  });

  it('reads CSV with a header row of field names; options as query parameters; typed cells', async () => {
    const [a, b] = [chart(), chart()];
    const res = await csv(`first_name,last_name,chart_number,receives_sms,ask_to_arrive_early_mins\nCsv,"One, Jr",${a},yes,15\nCsv,Two,${b},,\n`, '?on_conflict=skip');
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.data).to.include({ total: 2, created: 2 });
    const [one] = await byChart(a);
    expect(one).to.include({ last_name: 'One, Jr', receives_sms: true, ask_to_arrive_early_mins: 15 });
    const again = await csv(`first_name,last_name,chart_number\nCsv,Two,${b}\n`, '?on_conflict=skip');
    expect(again.body.data).to.include({ skipped: 1 });
    expectError(await csv('first_name,nickname\nA,B\n'), 400, 'validation_error');
    expectError(await csv('first_name,last_name\n"unterminated,B\n'), 400, 'validation_error');
    expectError(await csv('first_name,last_name\nA,B\n', '?bogus=1'), 400, 'validation_error');
  });

  it('runs an import above the sync limit as a job: 202 with a Location, progress and the failed rows in its report', async () => {
    const taken = await createPatient(f, { first_name: 'Taken', last_name: 'Job', chart_number: chart() });
    const dup = chart();
    const rows: Row[] = [];
    for (let i = 0; i < 8; i++) rows.push({ first_name: `Job${i}`, last_name: 'Import', chart_number: i === 6 ? dup : chart() });
    rows.push({ first_name: 'Broken' });
    rows.push({ first_name: 'Again', last_name: 'Import', chart_number: dup });
    rows.push({ first_name: 'Clash', last_name: 'Import', chart_number: taken.chart_number });
    const res = await bulk({ rows });
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.headers.get('location')).to.equal(`${f.base}/jobs/${res.body.data.id}`);
    expect(res.body.data).to.include({ type: 'patients.import', status: 'queued', total: 11 });
    const job = await waitForJob(res.body.data.id);
    expect(job).to.include({ status: 'completed', progress: 100 });
    expect(job.result).to.include({ total: 11, rows_done: 11, created: 8, failed: 3, skipped: 0, updated: 0, validated: 0, results_truncated: false });
    expect(job.result.results.map((r: Row) => [r.row, r.errors[0].path, r.errors[0].code])).to.deep.equal([
      [8, '/rows/8/last_name', 'validation_error'],
      [9, '/rows/9/chart_number', 'duplicate'],
      [10, '/rows/10/chart_number', 'duplicate'],
    ]);
    expect(await byChart(dup)).to.have.length(1);
    // Applied rows leave the staging table; failed ones keep only their errors.
    const staged = await f.s.rt.db.knex('patient_import_rows').where({ import_id: (await f.s.rt.db.knex('patient_imports').where({ job_id: job.id }).first()).id });
    expect(staged.map((r: Row) => Number(r.row_index)).sort()).to.deep.equal([10, 8, 9].sort());
    expect(staged.every((r: Row) => r.data === null)).to.equal(true);
  });

  it('reads meta wherever it is in the JSON document, after the rows too', async () => {
    const c = chart();
    const rows = JSON.stringify([{ first_name: 'Late', last_name: 'Meta', chart_number: c }]);
    const res = await f.s.api('POST', `${f.base}/patients/bulk`, { key: f.key, rawBody: `{"rows":${rows},"meta":{"mode":"validate"}}`, headers: { 'content-type': 'application/json' } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.data).to.include({ total: 1, validated: 1, created: 0 });
    expect(await byChart(c)).to.have.length(0);
    // Staged (above the sync limit), the late meta is what the job applies with.
    const many = Array.from({ length: SYNC_LIMIT + 2 }, (_, i) => ({ first_name: `Late${i}`, last_name: 'Meta', chart_number: chart() }));
    const staged = await f.s.api('POST', `${f.base}/patients/bulk`, { key: f.key, rawBody: `{"rows":${JSON.stringify(many)},"meta":{"mode":"validate"}}`, headers: { 'content-type': 'application/json' } });
    expect(staged.status, JSON.stringify(staged.body)).to.equal(202);
    expect(staged.body.data).to.include({ mode: 'validate', total: SYNC_LIMIT + 2 });
    expect((await waitForJob(staged.body.data.id)).result).to.include({ validated: SYNC_LIMIT + 2, created: 0 });
    expect(await byChart(many[0].chart_number)).to.have.length(0);
  });

  it('leaves nothing staged and no job when the body turns out invalid after more rows than the sync limit', async () => {
    const knex = f.s.rt.db.knex;
    const jobsBefore = (await knex('jobs').where({ org_id: f.org.id, type: 'patients.import' })).length;
    const rows = Array.from({ length: SYNC_LIMIT * 3 }, (_, i) => JSON.stringify({ first_name: `Bad${i}`, last_name: 'Json', chart_number: chart() }));
    const json = `{"rows":[${rows.join(',')},{"first_name": "Cut`;
    const bad = await f.s.api('POST', `${f.base}/patients/bulk`, { key: f.key, rawBody: json, headers: { 'content-type': 'application/json' } });
    expectError(bad, 400, 'validation_error');
    expect(bad.body.details[0]).to.include({ path: '/body' });
    expect(JSON.stringify(bad.body)).not.to.include('Cut');
    // A bad meta after the rows, and too many rows, fail the same way.
    expectError(await f.s.api('POST', `${f.base}/patients/bulk`, { key: f.key, rawBody: `{"rows":[${rows.join(',')}],"meta":{"mode":"later"}}`, headers: { 'content-type': 'application/json' } }), 400, 'validation_error');
    process.env.PATIENT_IMPORT_MAX_ROWS = String(SYNC_LIMIT * 2);
    try {
      expectError(await f.s.api('POST', `${f.base}/patients/bulk`, { key: f.key, rawBody: `{"rows":[${rows.join(',')}]}`, headers: { 'content-type': 'application/json' } }), 413, 'payload_too_large');
    } finally {
      delete process.env.PATIENT_IMPORT_MAX_ROWS;
    }
    expect(await knex('patient_imports').where({ org_id: f.org.id, state: 'staging' })).to.have.length(0);
    const imports = await knex('patient_imports').where({ org_id: f.org.id }).select('id');
    expect(await knex('patient_import_rows').where({ org_id: f.org.id }).whereNotIn('import_id', imports.map((r: Row) => r.id))).to.have.length(0);
    expect(await knex('jobs').where({ org_id: f.org.id, type: 'patients.import' })).to.have.length(jobsBefore);
    expect(await byChart(JSON.parse(rows[0]).chart_number)).to.have.length(0);
  });

  it('runs a large CSV in validate mode as a job that writes nothing', async () => {
    const charts = Array.from({ length: 7 }, chart);
    const res = await csv(`first_name,last_name,chart_number\n${charts.map((c) => `V,Job,${c}`).join('\n')}\n`, '?mode=validate');
    expect(res.status).to.equal(202);
    const job = await waitForJob(res.body.data.id);
    expect(job.result).to.include({ total: 7, validated: 7, created: 0, failed: 0 });
    for (const c of charts.slice(0, 2)) expect(await byChart(c)).to.have.length(0);
  });

  it('shows an import job to patients:read keys of its organization, not to keys without it, nor to other organizations', async () => {
    const res = await bulk({ rows: Array.from({ length: 7 }, (_, i) => ({ first_name: `Vis${i}`, last_name: 'Job' })) });
    const reader = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['patients:read'] })).key;
    const job = await waitForJob(res.body.data.id, reader);
    expect(job).to.not.have.property('payload');
    const tasks = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['tasks:read'] })).key;
    expectError(await f.s.api('GET', `${f.base}/jobs/${job.id}`, { key: tasks }), 403, 'forbidden');
    const other = await f.s.createOrg();
    const otherKey = (await f.s.createKey({ orgs: [other.slug], scopes: ['patients:read'] })).key;
    expectError(await f.s.api('GET', `/api/v1/${other.slug}/jobs/${job.id}`, { key: otherKey }), 404, 'not_found');
    // Only its import jobs: the job list for a patients:read key holds no other type.
    const listed = await f.s.api('GET', `${f.base}/jobs`, { key: reader });
    expect(listed.status).to.equal(200);
    expect(listed.body.data.every((j: Row) => j.type === 'patients.import')).to.equal(true);
  });

  it('refuses an import above the row limit with 413', async () => {
    process.env.PATIENT_IMPORT_MAX_ROWS = '6';
    try {
      expectError(await bulk({ rows: Array.from({ length: 7 }, () => ({ first_name: 'A', last_name: 'B' })) }), 413, 'payload_too_large');
    } finally {
      delete process.env.PATIENT_IMPORT_MAX_ROWS;
    }
  });
});

describe('Patients: bulk import with a patient write hook', () => {
  let f: Fixture;
  // A hook sees one record at a time, so the import takes the one-record pipeline for each row,
  // still in the batch's transaction: a row the hook refuses fails, the others are kept.
  const refuseNamed = definePlugin({
    name: 'refuse-named',
    hooks: {
      beforeChange: [{
        resource: 'patient',
        operations: ['create', 'update'],
        hook: (state) => {
          if (state.data.last_name === 'Refused') throw new AppError('unprocessable', 'Refused by a hook', [{ path: '/body/last_name', message: 'is refused' }]);
        },
      }],
    },
  });

  before(async () => {
    f = await setupApi({ plugins: [refuseNamed] });
  });
  after(async () => {
    await f.s.close();
  });

  it('runs the hook for every row: refused rows fail, the others are created or updated', async () => {
    const existing = await createPatient(f, { first_name: 'Old', last_name: 'Hooked', chart_number: 'H-1' });
    const res = await f.s.api('POST', `${f.base}/patients/bulk`, {
      key: f.key,
      body: { meta: { on_conflict: 'update' }, rows: [{ first_name: 'A', last_name: 'Fine' }, { first_name: 'B', last_name: 'Refused' }, { first_name: 'New', last_name: 'Hooked', chart_number: 'H-1' }] },
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body.data).to.include({ created: 1, updated: 1, failed: 1 });
    expect(res.body.data.results[1].errors).to.deep.equal([{ path: '/rows/1/last_name', message: 'is refused', code: 'unprocessable' }]);
    const after = (await f.s.api('GET', `${f.base}/patients/${existing.id}`, { key: f.key })).body.data;
    expect(after).to.include({ first_name: 'New', version: 2 });
    const all = (await f.s.api('GET', `${f.base}/patients?last_name=Refused`, { key: f.key })).body.data;
    expect(all).to.have.length(0);
  });
});
