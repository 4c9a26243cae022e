import { expect } from 'chai';
import { create, createPatient, detailPaths, expectError, ids, list, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

describe('List query language', () => {
  let f: Fixture;
  const p: Record<string, Row> = {};
  const t: Record<string, Row> = {};
  let provider: Row;

  const names = (rows: Row[]) => rows.map((r) => `${r.first_name} ${r.last_name}`).sort();
  const patients = async (query: string) => (await list(f, `patients?${query}`)).data as Row[];
  const bad = async (query: string, resource = 'patients') => {
    const res = await f.s.api('GET', `${f.base}/${resource}?${query}`, { key: f.key });
    expectError(res, 400, 'validation_error');
    return res;
  };

  before(async () => {
    // Patient status is plain data here (fixtures in every status): the lifecycle plugin that owns its
    // changes (plugins/patient-chart) is left out; test/plugins/patient-chart.test.ts covers it.
    f = await setupApi({ withoutPlugins: ['patient-chart'] });
    provider = await create(f, 'providers', { first_name: 'Greg', last_name: 'House', title: 'MD' });
    p.jane = await createPatient(f, { first_name: 'Jane', last_name: 'Doe', date_of_birth: '1985-03-15', city: 'Toronto', chart_number: 'C001', email: 'jane@example.com', primary_provider_id: provider.id });
    p.john = await createPatient(f, { first_name: 'John', last_name: 'Doe', date_of_birth: '1990-07-01', status: 'inactive', city: 'Ottawa', chart_number: 'C002' });
    p.janet = await createPatient(f, { first_name: 'Janet', last_name: 'Smith', date_of_birth: '1970-01-20', city: 'Toronto', email: 'janet@clinic.org' });
    p.bob = await createPatient(f, { first_name: 'Bob', last_name: 'Jansen', date_of_birth: '2000-12-31', status: 'prospective' });
    p.alice = await createPatient(f, { first_name: 'alice', last_name: 'Zephyr', status: 'deceased', medical_summary: 'x' });

    t.a = await create(f, 'tasks', { title: 'Call lab', priority: 1, due_date: '2026-01-10', type: 'booking' });
    t.b = await create(f, 'tasks', { title: 'Review file', priority: 2, due_date: '2026-02-01', type: 'file_review', patient_id: p.jane.id });
    t.c = await create(f, 'tasks', { title: 'Order supplies' });
    t.d = await create(f, 'tasks', { title: 'Archive scans', priority: 4, due_date: '2026-03-05', status: 'closed' });
  });

  after(async () => {
    await f.s.close();
  });

  describe('filters', () => {
    it('filters by equality, and by several fields at once', async () => {
      expect(names(await patients('status=active'))).to.deep.equal(['Jane Doe', 'Janet Smith']);
      expect(names(await patients('city=Toronto&last_name=Smith'))).to.deep.equal(['Janet Smith']);
      expect(names(await patients(`primary_provider_id=${provider.id}`))).to.deep.equal(['Jane Doe']);
      expect(ids((await list(f, 'tasks?priority=2')).data)).to.deep.equal([t.b.id]);
      expect(ids((await list(f, 'tasks?type=booking')).data)).to.deep.equal([t.a.id]);
    });

    it('filters by id, as an equality and a list', async () => {
      expect(ids(await patients(`id=${p.bob.id}`))).to.deep.equal([p.bob.id]);
      expect(ids(await patients(`id[in]=${p.bob.id},${p.john.id}&sort=first_name`))).to.deep.equal([p.bob.id, p.john.id]);
    });

    it('applies gte, lte, gt and lt to dates and integers', async () => {
      expect(names(await patients('date_of_birth[gte]=1985-03-15&date_of_birth[lte]=1990-07-01'))).to.deep.equal(['Jane Doe', 'John Doe']);
      expect(names(await patients('date_of_birth[gt]=1985-03-15&date_of_birth[lt]=2000-12-31'))).to.deep.equal(['John Doe']);
      const tasks = (await list(f, 'tasks?priority[gt]=1&priority[lt]=4&sort=priority')).data as Row[];
      expect(tasks.map((x) => x.priority)).to.deep.equal([2, 3]);
      expect(ids((await list(f, 'tasks?due_date[lte]=2026-02-01&sort=due_date')).data)).to.deep.equal([t.a.id, t.b.id]);
      expect(ids((await list(f, 'tasks?priority[gte]=3&sort=-priority')).data)).to.deep.equal([t.d.id, t.c.id]);
    });

    it('applies ne, which keeps rows whose field is empty', async () => {
      expect(names(await patients('status[ne]=active'))).to.deep.equal(['Bob Jansen', 'John Doe', 'alice Zephyr']);
      expect(names(await patients('city[ne]=Toronto'))).to.deep.equal(['Bob Jansen', 'John Doe', 'alice Zephyr']);
    });

    it('applies in with a comma list', async () => {
      expect(names(await patients('status[in]=inactive,prospective'))).to.deep.equal(['Bob Jansen', 'John Doe']);
      expect(ids((await list(f, 'tasks?priority[in]=1,4&sort=priority')).data)).to.deep.equal([t.a.id, t.d.id]);
      await bad('status[in]=inactive,bogus');
    });

    it('applies like as a case-insensitive contains match', async () => {
      expect(names(await patients('email[like]=example'))).to.deep.equal(['Jane Doe']);
      expect(names(await patients('city[like]=TOR'))).to.deep.equal(['Jane Doe', 'Janet Smith']);
      expect(names(await patients('last_name[like]=o%'))).to.deep.equal([]);
      expect(names(await patients('last_name[like]=D%'))).to.deep.equal(['Jane Doe', 'John Doe']);
    });

    it('applies null=true and null=false', async () => {
      expect(names(await patients('date_of_birth[null]=true'))).to.deep.equal(['alice Zephyr']);
      expect(names(await patients('date_of_birth[null]=false'))).to.have.length(4);
      expect(names(await patients('chart_number[null]=false'))).to.deep.equal(['Jane Doe', 'John Doe']);
      expect(ids((await list(f, 'tasks?due_date[null]=true')).data)).to.deep.equal([t.c.id]);
      await bad('chart_number[null]=maybe');
    });

    it('rejects an operator the field type does not have', async () => {
      const res = await bad('first_name[gte]=A');
      expect(detailPaths(res)).to.deep.equal(['/query/first_name[gte]']);
      await bad('status[like]=act');
      await bad('priority[bogus]=1', 'tasks');
    });

    it('rejects a value of the wrong type', async () => {
      await bad('priority[gt]=abc', 'tasks');
      await bad('date_of_birth[gte]=15-03-1985');
      await bad('id=not-a-uuid');
    });
  });

  describe('search', () => {
    it('matches name prefixes case-insensitively', async () => {
      expect(names(await patients('search=jan'))).to.deep.equal(['Bob Jansen', 'Jane Doe', 'Janet Smith']);
      expect(names(await patients('search=JAN'))).to.deep.equal(['Bob Jansen', 'Jane Doe', 'Janet Smith']);
      expect(names(await patients('search=ALI'))).to.deep.equal(['alice Zephyr']);
    });

    it('matches by prefix, not anywhere in the name', async () => {
      expect(await patients('search=ane')).to.deep.equal([]);
      expect(await patients('search=oe')).to.deep.equal([]);
    });

    it('requires every word of a multi-word search to match', async () => {
      expect(names(await patients('search=jan%20doe'))).to.deep.equal(['Jane Doe']);
      expect(names(await patients('search=Doe+J'))).to.deep.equal(['Jane Doe', 'John Doe']);
      expect(names(await patients('search=janet+doe'))).to.deep.equal([]);
    });

    it('searches other searchable fields and combines with filters', async () => {
      expect(names(await patients('search=c00'))).to.deep.equal(['Jane Doe', 'John Doe']);
      expect(names(await patients('search=doe&status=inactive'))).to.deep.equal(['John Doe']);
    });

    it('matches contains-fields of tasks anywhere', async () => {
      expect(ids((await list(f, 'tasks?search=SUPPLI')).data)).to.deep.equal([t.c.id]);
    });

    it('matches _ and \\ in a search word literally, not as wildcards', async () => {
      expect(await patients('search=j_ne')).to.deep.equal([]);
      expect(await patients('search=d_e')).to.deep.equal([]);
      expect((await list(f, 'tasks?search=c_ll')).data).to.deep.equal([]);
      const odd = await createPatient(f, { first_name: 'Under_score', last_name: 'Back\\slash' });
      expect(ids(await patients('search=under_'))).to.deep.equal([odd.id]);
      expect(ids(await patients('search=back%5C'))).to.deep.equal([odd.id]);
      expect(await patients('search=underxs')).to.deep.equal([]);
      const task = await create(f, 'tasks', { title: 'Fax form_b today' });
      expect(ids((await list(f, 'tasks?search=M_B')).data)).to.deep.equal([task.id]);
      expect(ids((await list(f, 'tasks?search=rm_b')).data)).to.deep.equal([task.id]);
      await f.s.api('DELETE', `${f.base}/patients/${odd.id}`, { key: f.key });
      await f.s.api('DELETE', `${f.base}/tasks/${task.id}`, { key: f.key });
    });

    it('rejects an empty search', async () => {
      await bad('search=');
    });
  });

  describe('sort', () => {
    it('sorts ascending and, with a leading -, descending', async () => {
      expect((await patients('sort=date_of_birth&date_of_birth[null]=false')).map((r) => r.first_name)).to.deep.equal(['Janet', 'Jane', 'John', 'Bob']);
      expect((await patients('sort=-date_of_birth&date_of_birth[null]=false')).map((r) => r.first_name)).to.deep.equal(['Bob', 'John', 'Jane', 'Janet']);
    });

    it('sorts by several fields', async () => {
      expect((await patients('sort=last_name,-first_name')).map((r) => r.first_name)).to.deep.equal(['John', 'Jane', 'Bob', 'Janet', 'alice']);
      expect((await patients('sort=-status,last_name')).map((r) => r.first_name)).to.deep.equal(['Bob', 'John', 'alice', 'Jane', 'Janet']);
    });

    it('breaks ties by ascending id in either direction', async () => {
      const tie = [p.jane.id, p.john.id].sort();
      expect(ids(await patients('sort=last_name&last_name=Doe'))).to.deep.equal(tie);
      expect(ids(await patients('sort=-last_name&last_name=Doe'))).to.deep.equal(tie);
      const all = await patients('sort=-chart_number&limit=100');
      expect(all.map((r) => r.chart_number ?? null)).to.deep.equal(['C002', 'C001', null, null, null]);
      const noChart = all.slice(2).map((r) => r.id);
      expect(noChart).to.deep.equal([p.janet.id, p.bob.id, p.alice.id].sort());
    });

    it('uses the definition default sort (patients by last_name)', async () => {
      const rows = await patients('');
      const last = rows.map((r) => r.last_name);
      expect(last).to.deep.equal(['Doe', 'Doe', 'Jansen', 'Smith', 'Zephyr']);
    });

    it('rejects an unsortable or unknown sort field', async () => {
      const res = await bad('sort=city');
      expect(detailPaths(res)).to.deep.equal(['/query/sort']);
      expect(detailPaths(await bad('sort=-nope'))).to.deep.equal(['/query/sort']);
      await bad('sort=medical_summary');
    });
  });

  describe('fields', () => {
    it('returns only the selected fields, with id', async () => {
      const rows = await patients('fields=id,first_name');
      expect(rows).to.have.length(5);
      for (const r of rows) expect(Object.keys(r).sort()).to.deep.equal(['first_name', 'id']);
      const one = await f.s.api('GET', `${f.base}/patients/${p.jane.id}?fields=last_name,version`, { key: f.key });
      expect(one.status).to.equal(200);
      expect(one.body.data).to.deep.equal({ id: p.jane.id, last_name: 'Doe', version: 1 });
    });

    it('can select computed fields', async () => {
      const rows = await patients('fields=scheduling_restricted&status=inactive');
      expect(rows).to.deep.equal([{ id: p.john.id, scheduling_restricted: true }]);
    });

    it('rejects an unknown field', async () => {
      const res = await bad('fields=id,nope');
      expect(detailPaths(res)).to.deep.equal(['/query/fields']);
      const one = await f.s.api('GET', `${f.base}/patients/${p.jane.id}?fields=nope`, { key: f.key });
      expectError(one, 400, 'validation_error');
    });
  });

  describe('include', () => {
    it('embeds a belongs-to relation in lists and single records', async () => {
      const rows = await patients('include=primary_provider&sort=first_name');
      const jane = rows.find((r) => r.id === p.jane.id)!;
      expect(jane.primary_provider).to.include({ id: provider.id, first_name: 'Greg', last_name: 'House', title: 'MD' });
      for (const r of rows.filter((x) => x.id !== p.jane.id)) expect(r.primary_provider).to.equal(null);
      const one = await f.s.api('GET', `${f.base}/patients/${p.jane.id}?include=primary_provider`, { key: f.key });
      expect(one.status).to.equal(200);
      expect(one.body.data.primary_provider.id).to.equal(provider.id);
      const plain = await f.s.api('GET', `${f.base}/patients/${p.jane.id}`, { key: f.key });
      expect(plain.body.data).to.not.have.property('primary_provider');
    });

    it('embeds with fields selected', async () => {
      const rows = await patients(`include=primary_provider&fields=first_name&id=${p.jane.id}`);
      expect(Object.keys(rows[0]).sort()).to.deep.equal(['first_name', 'id', 'primary_provider']);
      expect(rows[0].primary_provider.id).to.equal(provider.id);
    });

    it('embeds the comments of tickets in lists and single records', async () => {
      const ticket = await create(f, 'tickets', { subject: 'Printer broken', requester: 'front@example.com' });
      const quiet = await create(f, 'tickets', { subject: 'No comments', requester: 'front@example.com' });
      const c1 = await create(f, `tickets/${ticket.id}/comments`, { author: 'Agent', body: 'Looking into it' });
      const c2 = await create(f, `tickets/${ticket.id}/comments`, { author: 'Front desk', body: 'Thanks' });

      const rows = (await list(f, 'tickets?include=comments')).data as Row[];
      const withComments = rows.find((r) => r.id === ticket.id)!;
      expect(ids(withComments.comments)).to.deep.equal([c1.id, c2.id]);
      expect(withComments.comments[0]).to.include({ author: 'Agent', body: 'Looking into it', ticket_id: ticket.id });
      expect(rows.find((r) => r.id === quiet.id)!.comments).to.deep.equal([]);

      const one = await f.s.api('GET', `${f.base}/tickets/${ticket.id}?include=comments`, { key: f.key });
      expect(one.status).to.equal(200);
      expect(ids(one.body.data.comments)).to.deep.equal([c1.id, c2.id]);
      const plain = await f.s.api('GET', `${f.base}/tickets/${ticket.id}`, { key: f.key });
      expect(plain.body.data).to.not.have.property('comments');
    });

    it('rejects an unknown relation', async () => {
      const res = await bad('include=nope');
      expect(detailPaths(res)).to.deep.equal(['/query/include']);
      expectError(await f.s.api('GET', `${f.base}/tickets?include=primary_provider`, { key: f.key }), 400, 'validation_error');
    });
  });

  describe('include_archived', () => {
    it('includes archived records only when asked', async () => {
      const gone = await createPatient(f, { first_name: 'Gone', last_name: 'Away' });
      const del = await f.s.api('DELETE', `${f.base}/patients/${gone.id}`, { key: f.key });
      expect(del.status).to.equal(200);
      const normal = await list(f, 'patients?search=gone');
      expect(normal.data).to.deep.equal([]);
      expect(normal.total_count).to.equal(0);
      const withArchived = await list(f, 'patients?search=gone&include_archived=true');
      expect(ids(withArchived.data)).to.deep.equal([gone.id]);
      expect(withArchived.data[0].deleted_at).to.be.a('string');
      expect(withArchived.total_count).to.equal(1);
      expect((await list(f, 'patients?search=gone&include_archived=false')).data).to.deep.equal([]);
      await bad('include_archived=perhaps');
    });
  });

  describe('strictness', () => {
    it('rejects an unknown query parameter', async () => {
      const res = await bad('foo=1');
      expect(detailPaths(res)).to.deep.equal(['/query/foo']);
      await bad('status=active&colour=blue');
      const one = await f.s.api('GET', `${f.base}/patients/${p.jane.id}?foo=1`, { key: f.key });
      expectError(one, 400, 'validation_error');
    });

    it('rejects a filter on a field that is not filterable', async () => {
      const res = await bad('medical_summary=x');
      expect(detailPaths(res)).to.deep.equal(['/query/medical_summary']);
      await bad('middle_name=x');
      await bad('title=x', 'tasks');
    });

    it('rejects a repeated parameter instead of picking one', async () => {
      const res = await bad('status=active&status=inactive');
      expect(detailPaths(res)).to.deep.equal(['/query/status']);
      await bad('limit=5&limit=5');
    });

    it('rejects the NUL character in filters and search with 400 on every database', async () => {
      expect(detailPaths(await bad('first_name=a%00b'))).to.deep.equal(['/query/first_name']);
      expect(detailPaths(await bad('search=jan%00'))).to.deep.equal(['/query/search']);
      expect(detailPaths(await bad('last_name[like]=%00'))).to.deep.equal(['/query/last_name[like]']);
      expect(detailPaths(await bad('chart_number[in]=C001,C%00'))).to.deep.equal(['/query/chart_number[in]/1']);
    });

    it('rejects a bad enum value with the path of the parameter', async () => {
      const res = await bad('status=bogus');
      expect(detailPaths(res)).to.deep.equal(['/query/status']);
      expect(res.body.details[0].message).to.include('active');
      const tasks = await bad('status=pending', 'tasks');
      expect(detailPaths(tasks)).to.deep.equal(['/query/status']);
    });
  });
});
