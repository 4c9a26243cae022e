import { expect } from 'chai';
import { MISSING_ID, create, createPatient, detailPaths, expectError, list, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

describe('Writes', () => {
  let f: Fixture;

  const get = async (resource: string, id: string) => {
    const res = await f.s.api('GET', `${f.base}/${resource}/${id}`, { key: f.key });
    expect(res.status).to.equal(200);
    return res;
  };
  const patch = (id: string, body: Row, opts: { method?: string; headers?: Record<string, string>; resource?: string } = {}) =>
    f.s.api(opts.method ?? 'PATCH', `${f.base}/${opts.resource ?? 'patients'}/${id}`, { key: f.key, body, headers: opts.headers });

  before(async () => {
    // Patient status is plain data here (fixtures in every status): the lifecycle plugin that owns its
    // changes (plugins/patient-chart) is left out; test/plugins/patient-chart.test.ts covers it.
    f = await setupApi({ withoutPlugins: ['patient-chart'] });
  });

  after(async () => {
    await f.s.close();
  });

  describe('validation of the body', () => {
    it('rejects an unknown field on create and on update', async () => {
      const res = await f.s.api('POST', `${f.base}/patients`, { key: f.key, body: { first_name: 'A', last_name: 'B', nickname: 'x' } });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.deep.equal(['/body/nickname']);
      const p = await createPatient(f, { first_name: 'A', last_name: 'B' });
      const upd = await patch(p.id, { base_version: 1, nickname: 'x' });
      expectError(upd, 400, 'validation_error');
      expect(detailPaths(upd)).to.deep.equal(['/body/nickname']);
      expect((await get('patients', p.id)).body.data.version).to.equal(1);
    });

    it('rejects read-only fields on create and on update', async () => {
      const p = await createPatient(f, { first_name: 'Read', last_name: 'Only' });
      const readOnly: Row = {
        id: MISSING_ID,
        version: 5,
        created_at: '2020-01-01T00:00:00.000Z',
        updated_at: '2020-01-01T00:00:00.000Z',
        deleted_at: null,
        scheduling_restricted: true,
        balance_total: '10.00',
      };
      for (const [field, value] of Object.entries(readOnly)) {
        const c = await f.s.api('POST', `${f.base}/patients`, { key: f.key, body: { first_name: 'X', last_name: 'Y', [field]: value } });
        expectError(c, 400, 'validation_error');
        expect(detailPaths(c), field).to.deep.equal([`/body/${field}`]);
        const u = await patch(p.id, { base_version: 1, [field]: value });
        expectError(u, 400, 'validation_error');
        expect(detailPaths(u), field).to.deep.equal([`/body/${field}`]);
      }
      const task = await create(f, 'tasks', { title: 'T' });
      const byBody = await f.s.api('POST', `${f.base}/tasks`, { key: f.key, body: { title: 'T', created_by: 'someone else' } });
      expectError(byBody, 400, 'validation_error');
      expect(detailPaths(byBody)).to.deep.equal(['/body/created_by']);
      expectError(await patch(task.id, { created_by: 'someone else' }, { resource: 'tasks' }), 400, 'validation_error');
      expect((await get('patients', p.id)).body.data.version).to.equal(1);
    });

    it('names each missing required field with its path', async () => {
      const res = await f.s.api('POST', `${f.base}/patients`, { key: f.key, body: { last_name: 'Solo' } });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.deep.equal(['/body/first_name']);
      const none = await f.s.api('POST', `${f.base}/patients`, { key: f.key, body: {} });
      expectError(none, 400, 'validation_error');
      expect(detailPaths(none)).to.have.members(['/body/first_name', '/body/last_name']);
      const empty = await f.s.api('POST', `${f.base}/patients`, { key: f.key, body: { first_name: '', last_name: 'X' } });
      expectError(empty, 400, 'validation_error');
      expect(detailPaths(empty)).to.deep.equal(['/body/first_name']);
    });

    it('reports every problem at once, each with its path', async () => {
      const res = await f.s.api('POST', `${f.base}/patients`, { key: f.key, body: { first_name: 'A', last_name: 'B', status: 'zombie', email: 'not-an-email', date_of_birth: '1985-13-45', ask_to_arrive_early_mins: 500 } });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.have.members(['/body/status', '/body/email', '/body/date_of_birth', '/body/ask_to_arrive_early_mins']);
    });

    it('rejects the NUL character in any body value with 400 on every database', async () => {
      const res = await f.s.api('POST', `${f.base}/patients`, { key: f.key, body: { first_name: 'Nul\u0000Byte', last_name: 'Char' } });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.deep.equal(['/body/first_name']);
      const p = await createPatient(f, { first_name: 'Nul', last_name: 'Free' });
      const upd = await patch(p.id, { base_version: 1, city: 'a\u0000' });
      expectError(upd, 400, 'validation_error');
      expect(detailPaths(upd)).to.deep.equal(['/body/city']);
      const kb = await f.s.api('POST', '/api/v1/kb', { key: f.key, body: { title: 'T', body: 'B', tags: ['ok', 'b\u0000d'] } });
      expectError(kb, 400, 'validation_error');
      expect(detailPaths(kb)).to.deep.equal(['/body/tags/1']);
      expect((await list(f, 'patients?last_name=Char')).total_count).to.equal(0);
    });

    it('rejects dates and date-times outside the years 1 to 9999 with 400 on every database', async () => {
      const cases: [string, string][] = [
        ['date_of_birth', '0000-01-01'],
        ['date_time_deceased', '0000-06-01T00:00:00Z'],
        ['date_time_deceased', '0001-01-01T00:00:00+05:00'],
        ['date_time_deceased', '9999-12-31T23:59:59-05:00'],
      ];
      for (const [field, value] of cases) {
        const res = await f.s.api('POST', `${f.base}/patients`, { key: f.key, body: { first_name: 'Year', last_name: 'Zero', [field]: value } });
        expectError(res, 400, 'validation_error');
        expect(detailPaths(res), value).to.deep.equal([`/body/${field}`]);
      }
      const filter = await f.s.api('GET', `${f.base}/patients?created_at[gte]=0000-01-01T00:00:00Z`, { key: f.key });
      expectError(filter, 400, 'validation_error');
      expect(detailPaths(filter)).to.deep.equal(['/query/created_at[gte]']);
      expectError(await f.s.api('GET', `${f.base}/patients?date_of_birth[lt]=0000-12-31`, { key: f.key }), 400, 'validation_error');
      const edge = await createPatient(f, { first_name: 'Year', last_name: 'One', date_of_birth: '0001-01-01', date_time_deceased: '9999-12-31T23:59:59Z' });
      expect(edge).to.include({ date_of_birth: '0001-01-01' });
      const read = (await get('patients', edge.id)).body.data;
      expect(Date.parse(read.date_time_deceased)).to.equal(Date.parse('9999-12-31T23:59:59Z'));
      expect((await list(f, 'patients?date_of_birth[lte]=0001-01-01')).data.map((r: Row) => r.id)).to.deep.equal([edge.id]);
    });

    it('rejects a wrong type without coercing it', async () => {
      const res = await f.s.api('POST', `${f.base}/tasks`, { key: f.key, body: { title: 'T', priority: '2' } });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.deep.equal(['/body/priority']);
    });
  });

  describe('partial updates', () => {
    it('PATCH changes only the fields sent', async () => {
      const p = await createPatient(f, { first_name: 'Par', last_name: 'Tial', city: 'Toronto', email: 'par@example.com', date_of_birth: '1980-02-02' });
      const res = await patch(p.id, { base_version: 1, city: 'Ottawa' });
      expect(res.status).to.equal(200);
      expect(res.body.data).to.include({ first_name: 'Par', last_name: 'Tial', city: 'Ottawa', email: 'par@example.com', date_of_birth: '1980-02-02', version: 2 });
      const stored = (await get('patients', p.id)).body.data;
      expect(stored).to.include({ first_name: 'Par', city: 'Ottawa', email: 'par@example.com', version: 2 });
      expect(stored.created_at).to.equal(p.created_at);
      expect(Date.parse(stored.updated_at)).to.be.at.least(Date.parse(p.updated_at));
    });

    it('PUT is an alias with the same partial semantics', async () => {
      const p = await createPatient(f, { first_name: 'Put', last_name: 'Alias', city: 'Toronto' });
      const res = await patch(p.id, { base_version: 1, last_name: 'Aliased' }, { method: 'PUT' });
      expect(res.status).to.equal(200);
      expect(res.body.data).to.include({ first_name: 'Put', last_name: 'Aliased', city: 'Toronto', version: 2 });
      expect((await get('patients', p.id)).body.data).to.include({ last_name: 'Aliased', city: 'Toronto' });
    });

    it('clears an optional field with an empty string or null', async () => {
      const p = await createPatient(f, { first_name: 'Clear', last_name: 'Me', city: 'Toronto', email: 'c@example.com', pronoun: 'they_them', date_of_birth: '1990-01-01' });
      const r1 = await patch(p.id, { base_version: 1, city: '', email: '', pronoun: '' });
      expect(r1.status, JSON.stringify(r1.body)).to.equal(200);
      const r2 = await patch(p.id, { base_version: 2, date_of_birth: null });
      expect(r2.status, JSON.stringify(r2.body)).to.equal(200);
      const stored = (await get('patients', p.id)).body.data;
      for (const field of ['city', 'email', 'pronoun', 'date_of_birth']) expect(stored[field] ?? null, field).to.equal(null);
      expect(stored.first_name).to.equal('Clear');
      const byFilter = await list(f, `patients?city[null]=true&id=${p.id}`);
      expect(byFilter.data).to.have.length(1);
    });

    it('does not clear a required field', async () => {
      const p = await createPatient(f, { first_name: 'Keep', last_name: 'Required' });
      expectError(await patch(p.id, { base_version: 1, first_name: '' }), 400, 'validation_error');
      const res = await patch(p.id, { base_version: 1, last_name: null });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.deep.equal(['/body/last_name']);
      expect((await get('patients', p.id)).body.data).to.include({ first_name: 'Keep', last_name: 'Required', version: 1 });
    });

    it('stores empty strings on create as absent values', async () => {
      const p = await createPatient(f, { first_name: 'Empty', last_name: 'Create', city: '' });
      expect(p.city ?? null).to.equal(null);
    });
  });

  describe('optimistic concurrency', () => {
    it('requires base_version for patients, but not for tasks', async () => {
      const p = await createPatient(f, { first_name: 'Base', last_name: 'Version' });
      const res = await patch(p.id, { city: 'Ottawa' });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.deep.equal(['/body/base_version']);
      expect((await get('patients', p.id)).body.data.city ?? null).to.equal(null);
      const task = await create(f, 'tasks', { title: 'No base' });
      const t = await patch(task.id, { title: 'Still no base' }, { resource: 'tasks' });
      expect(t.status).to.equal(200);
      expect(t.body.data).to.include({ title: 'Still no base', version: 2 });
    });

    it('increments version by one on each change', async () => {
      const p = await createPatient(f, { first_name: 'Inc', last_name: 'Rement' });
      expect(p.version).to.equal(1);
      for (let v = 1; v <= 4; v++) {
        const res = await patch(p.id, { base_version: v, city: `City ${v}` });
        expect(res.status).to.equal(200);
        expect(res.body.data.version).to.equal(v + 1);
      }
      expect((await get('patients', p.id)).body.data).to.include({ version: 5, city: 'City 4' });
    });

    it('rejects a stale base_version with 409 version_conflict and the current version', async () => {
      const p = await createPatient(f, { first_name: 'Stale', last_name: 'Version' });
      expect((await patch(p.id, { base_version: 1, city: 'A' })).status).to.equal(200);
      expect((await patch(p.id, { base_version: 2, city: 'B' })).status).to.equal(200);
      const res = await patch(p.id, { base_version: 1, city: 'C' });
      expectError(res, 409, 'version_conflict');
      expect(res.body.details[0]).to.include({ current_version: 3 });
      const future = await patch(p.id, { base_version: 9, city: 'C' });
      expectError(future, 409, 'version_conflict');
      expect(future.body.details[0].current_version).to.equal(3);
      expect((await get('patients', p.id)).body.data).to.include({ city: 'B', version: 3 });
      const task = await create(f, 'tasks', { title: 'T' });
      expect((await patch(task.id, { title: 'U' }, { resource: 'tasks' })).status).to.equal(200);
      expectError(await patch(task.id, { title: 'V', base_version: 1 }, { resource: 'tasks' }), 409, 'version_conflict');
    });

    it('sends ETag W/"<version>" on GET and on writes', async () => {
      const p = await createPatient(f, { first_name: 'E', last_name: 'Tag' });
      expect((await get('patients', p.id)).headers.get('etag')).to.equal('W/"1"');
      const res = await patch(p.id, { base_version: 1, city: 'X' });
      expect(res.headers.get('etag')).to.equal('W/"2"');
      expect((await get('patients', p.id)).headers.get('etag')).to.equal('W/"2"');
    });

    it('accepts If-Match as the base version', async () => {
      const p = await createPatient(f, { first_name: 'If', last_name: 'Match' });
      const etag = (await get('patients', p.id)).headers.get('etag')!;
      const ok = await patch(p.id, { city: 'Montreal' }, { headers: { 'If-Match': etag } });
      expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
      expect(ok.body.data).to.include({ city: 'Montreal', version: 2 });
      const stale = await patch(p.id, { city: 'Quebec' }, { headers: { 'If-Match': etag } });
      expectError(stale, 409, 'version_conflict');
      expect(stale.body.details[0].current_version).to.equal(2);
      const strong = await patch(p.id, { city: 'Laval' }, { headers: { 'If-Match': '"2"' } });
      expect(strong.status).to.equal(200);
      expectError(await patch(p.id, { city: 'Nope' }, { headers: { 'If-Match': 'garbage' } }), 400, 'validation_error');
      expect((await get('patients', p.id)).body.data).to.include({ city: 'Laval', version: 3 });
    });

    it('rejects If-Match that disagrees with base_version', async () => {
      const p = await createPatient(f, { first_name: 'Two', last_name: 'Bases' });
      await patch(p.id, { base_version: 1, city: 'A' });
      expectError(await patch(p.id, { base_version: 2, city: 'B' }, { headers: { 'If-Match': 'W/"1"' } }), 400, 'validation_error');
      expect((await get('patients', p.id)).body.data.city).to.equal('A');
    });
  });

  describe('uniqueness and references', () => {
    it('rejects a duplicate chart_number in the same org with 409 duplicate, but not in another org', async () => {
      await createPatient(f, { first_name: 'Chart', last_name: 'One', chart_number: 'CH-100' });
      const dup = await f.s.api('POST', `${f.base}/patients`, { key: f.key, body: { first_name: 'Chart', last_name: 'Two', chart_number: 'CH-100' } });
      expectError(dup, 409, 'duplicate');
      expect(detailPaths(dup)).to.deep.equal(['/body/chart_number']);
      expect((await list(f, 'patients?chart_number=CH-100')).total_count).to.equal(1);

      const other = await createPatient(f, { first_name: 'Chart', last_name: 'Three', chart_number: 'CH-200' });
      const moved = await patch(other.id, { base_version: 1, chart_number: 'CH-100' });
      expectError(moved, 409, 'duplicate');
      expect((await get('patients', other.id)).body.data).to.include({ chart_number: 'CH-200', version: 1 });

      const org2 = await f.s.createOrg();
      const key2 = (await f.s.createKey({ orgs: [org2.slug], scopes: ['patients:write'], rateLimit: 100000 })).key;
      const elsewhere = await f.s.api('POST', `/api/v1/${org2.slug}/patients`, { key: key2, body: { first_name: 'Chart', last_name: 'Elsewhere', chart_number: 'CH-100' } });
      expect(elsewhere.status, JSON.stringify(elsewhere.body)).to.equal(201);
    });

    it('allows many patients without a chart_number', async () => {
      await createPatient(f, { first_name: 'No', last_name: 'Chart' });
      await createPatient(f, { first_name: 'No', last_name: 'Chart' });
    });

    it('rejects a primary_provider_id that points at no provider with 422 unprocessable', async () => {
      const res = await f.s.api('POST', `${f.base}/patients`, { key: f.key, body: { first_name: 'Ref', last_name: 'Missing', primary_provider_id: MISSING_ID } });
      expectError(res, 422, 'unprocessable');
      expect(detailPaths(res)).to.deep.equal(['/body/primary_provider_id']);

      const org2 = await f.s.createOrg();
      const key2 = (await f.s.createKey({ orgs: [org2.slug], scopes: ['*'], rateLimit: 100000 })).key;
      const foreign = await f.s.api('POST', `/api/v1/${org2.slug}/providers`, { key: key2, body: { first_name: 'Other', last_name: 'Org' } });
      expect(foreign.status).to.equal(201);
      expectError(await f.s.api('POST', `${f.base}/patients`, { key: f.key, body: { first_name: 'Ref', last_name: 'Foreign', primary_provider_id: foreign.body.data.id } }), 422, 'unprocessable');

      const provider = await create(f, 'providers', { first_name: 'Own', last_name: 'Provider' });
      const p = await createPatient(f, { first_name: 'Ref', last_name: 'Ok', primary_provider_id: provider.id });
      expect(p.primary_provider_id).to.equal(provider.id);
      const bad = await patch(p.id, { base_version: 1, primary_provider_id: MISSING_ID });
      expectError(bad, 422, 'unprocessable');
      expect((await get('patients', p.id)).body.data).to.include({ primary_provider_id: provider.id, version: 1 });
      expectError(await f.s.api('POST', `${f.base}/patients`, { key: f.key, body: { first_name: 'Ref', last_name: 'Bad', primary_provider_id: 'nope' } }), 400, 'validation_error');
    });
  });

  describe('defaults and engine-filled fields', () => {
    it('gives tasks their defaults and sets created_by from the caller', async () => {
      const task = await create(f, 'tasks', { title: 'Defaults' });
      expect(task).to.include({ title: 'Defaults', type: 'general', status: 'open', priority: 3, version: 1 });
      expect(task.created_by).to.be.a('string').and.include(f.keyId);
      expect((await get('tasks', task.id)).body.data).to.include({ type: 'general', status: 'open', priority: 3, created_by: task.created_by });
      const explicit = await create(f, 'tasks', { title: 'Explicit', type: 'booking', status: 'closed', priority: 1 });
      expect(explicit).to.include({ type: 'booking', status: 'closed', priority: 1 });
    });

    it('computes scheduling_restricted from the status', async () => {
      const inactive = await createPatient(f, { first_name: 'In', last_name: 'Active', status: 'inactive' });
      expect(inactive.scheduling_restricted).to.equal(true);
      const active = await createPatient(f, { first_name: 'Is', last_name: 'Active' });
      expect(active.scheduling_restricted).to.equal(false);
      const res = await patch(active.id, { base_version: 1, status: 'inactive' });
      expect(res.body.data.scheduling_restricted).to.equal(true);
      expect((await get('patients', active.id)).body.data.scheduling_restricted).to.equal(true);
      const listed = await list(f, `patients?id=${active.id}`);
      expect(listed.data[0].scheduling_restricted).to.equal(true);
    });
  });
});
