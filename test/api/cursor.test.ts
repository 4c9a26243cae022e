import { expect } from 'chai';
import { createPatient, detailPaths, expectError, ids, list, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

const LAST_NAMES = ['Nguyen', 'Abbott', 'Moreau', 'Abbott', 'Zimmer', 'Nguyen', 'Clark', 'Moreau'];

describe('Keyset cursors', () => {
  let f: Fixture;
  let seeded: Row[];

  /** Follows end_cursor from the first page to the last; `between` runs after each page. */
  async function traverse(query: string, between?: (page: number, rows: Row[]) => Promise<void>): Promise<{ rows: Row[]; pages: Row[] }> {
    const rows: Row[] = [];
    const pages: Row[] = [];
    let after: string | null = null;
    for (let page = 0; page < 50; page++) {
      const body = await list(f, `patients?${query}${after ? `&after=${encodeURIComponent(after)}` : ''}`);
      pages.push(body);
      rows.push(...body.data);
      if (between) await between(page, body.data);
      if (!body.page_info.has_next_page) return { rows, pages };
      after = body.page_info.end_cursor;
      expect(after, 'a page with a next page has an end_cursor').to.be.a('string');
    }
    throw new Error('traversal did not end');
  }

  before(async () => {
    // Patient status is plain data here (fixtures in every status): the lifecycle plugin that owns its
    // changes (plugins/patient-chart) is left out; test/plugins/patient-chart.test.ts covers it.
    f = await setupApi({ withoutPlugins: ['patient-chart'] });
    seeded = [];
    for (let i = 0; i < 25; i++) {
      seeded.push(await createPatient(f, {
        first_name: `P${String(i).padStart(2, '0')}`,
        last_name: LAST_NAMES[i % LAST_NAMES.length],
        date_of_birth: i % 4 === 0 ? null : `19${String(50 + (i % 7)).padStart(2, '0')}-01-01`,
        status: i % 5 === 0 ? 'inactive' : 'active',
      }));
    }
  });

  after(async () => {
    await f.s.close();
  });

  it('traverses every row exactly once by last_name, in the same order as an offset page', async () => {
    const expected = ids((await list(f, 'patients?sort=last_name&limit=100')).data);
    expect(expected).to.have.length(25);
    const { rows, pages } = await traverse('sort=last_name&limit=7');
    expect(pages.map((p) => p.data.length)).to.deep.equal([7, 7, 7, 4]);
    expect(ids(rows)).to.deep.equal(expected);
    for (const page of pages.slice(1)) {
      expect(Object.keys(page).sort()).to.deep.equal(['data', 'limit', 'page_info']);
      expect(page.limit).to.equal(7);
    }
    expect(pages[3].page_info.has_next_page).to.equal(false);
    expect(pages[3].page_info.end_cursor).to.be.a('string');
  });

  it('traverses by -created_at', async () => {
    const expected = ids((await list(f, 'patients?sort=-created_at&limit=100')).data);
    expect(expected).to.have.members(ids(seeded));
    const { rows } = await traverse('sort=-created_at&limit=7');
    expect(ids(rows)).to.deep.equal(expected);
  });

  it('traverses by several keys, descending, through null values', async () => {
    for (const sort of ['date_of_birth', '-date_of_birth', 'last_name,-date_of_birth', '-last_name,date_of_birth', '-status,-created_at']) {
      const expected = ids((await list(f, `patients?sort=${sort}&limit=100`)).data);
      const { rows } = await traverse(`sort=${sort}&limit=4`);
      expect(ids(rows), sort).to.deep.equal(expected);
      expect(new Set(ids(rows)).size, sort).to.equal(25);
    }
  });

  it('traverses with a filter', async () => {
    const expected = ids((await list(f, 'patients?status=active&sort=last_name&limit=100')).data);
    expect(expected).to.have.length(20);
    const { rows } = await traverse('status=active&sort=last_name&limit=6');
    expect(ids(rows)).to.deep.equal(expected);
  });

  it('stays complete while rows are inserted during a traversal by last_name', async () => {
    const f2 = f;
    const before = new Set(ids((await list(f2, 'patients?sort=last_name&limit=100')).data));
    const inserted: { row: Row; mustAppear: boolean }[] = [];
    const { rows } = await traverse('sort=last_name&limit=7', async (page, data) => {
      if (page !== 0 && page !== 1) return;
      const position = data[data.length - 1].last_name as string;
      const later = await createPatient(f2, { first_name: `Late${page}`, last_name: 'Zzzz' });
      const sameName = await createPatient(f2, { first_name: `Tie${page}`, last_name: position });
      const earlier = await createPatient(f2, { first_name: `Early${page}`, last_name: 'Aaaa' });
      inserted.push({ row: later, mustAppear: true }, { row: sameName, mustAppear: true }, { row: earlier, mustAppear: false });
    });
    const seen = ids(rows);
    expect(new Set(seen).size, 'no row twice').to.equal(seen.length);
    for (const id of before) expect(seen, 'every row present at the start').to.include(id);
    for (const { row, mustAppear } of inserted) {
      if (mustAppear) expect(seen, `${row.first_name} ${row.last_name} sorts after the position`).to.include(row.id);
      else expect(seen).to.not.include(row.id);
    }
    const names = rows.map((r) => r.last_name as string);
    expect(names).to.deep.equal([...names].sort());
    for (const { row } of inserted) await f2.s.api('DELETE', `${f2.base}/patients/${row.id}`, { key: f2.key });
  });

  it('stays complete while newer rows are inserted during a traversal by -created_at', async () => {
    const before = ids((await list(f, 'patients?sort=-created_at&limit=100')).data);
    const inserted: string[] = [];
    const { rows } = await traverse('sort=-created_at&limit=7', async () => {
      for (let i = 0; i < 3; i++) inserted.push((await createPatient(f, { first_name: `New${inserted.length}`, last_name: 'Fresh' })).id);
    });
    expect(ids(rows)).to.deep.equal(before);
    for (const id of inserted) await f.s.api('DELETE', `${f.base}/patients/${id}`, { key: f.key });
  });

  it('returns total_count with count=true, and only then', async () => {
    const first = await list(f, 'patients?sort=last_name&limit=7');
    const cursor = encodeURIComponent(first.page_info.end_cursor);
    const counted = await list(f, `patients?sort=last_name&limit=7&after=${cursor}&count=true`);
    expect(counted.total_count).to.equal(25);
    expect(counted.data).to.have.length(7);
    const filtered = await list(f, 'patients?status=inactive&sort=last_name&limit=2');
    const filteredNext = await list(f, `patients?status=inactive&sort=last_name&limit=2&count=true&after=${encodeURIComponent(filtered.page_info.end_cursor)}`);
    expect(filteredNext.total_count).to.equal(5);
    const uncounted = await list(f, `patients?sort=last_name&limit=7&after=${cursor}`);
    expect(uncounted).to.not.have.property('total_count');
    expect(uncounted).to.not.have.property('offset');
  });

  it('rejects a malformed cursor with 400 invalid_cursor', async () => {
    const forged = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString('base64url');
    for (const after of ['not-a-cursor', '%%%', forged({}), forged({ s: 'last_name', v: [], id: 'x' }), forged({ s: 'last_name', v: [{ a: 1 }], id: 'x' }), forged([1, 2])]) {
      const res = await f.s.api('GET', `${f.base}/patients?sort=last_name&after=${encodeURIComponent(after)}`, { key: f.key });
      expectError(res, 400, 'invalid_cursor');
      expect(detailPaths(res)).to.deep.equal(['/query/after']);
    }
  });

  it('rejects a forged cursor whose values do not fit the sort fields with 400 invalid_cursor', async () => {
    const forged = (payload: unknown) => encodeURIComponent(Buffer.from(JSON.stringify(payload)).toString('base64url'));
    const id = seeded[0].id;
    const cases: [string, string, unknown[], string][] = [
      ['patients', 'last_name', ['Doe'], 'not-a-uuid'],
      ['patients', 'last_name', ['Do\u0000e'], id],
      ['patients', 'last_name', [5], id],
      ['patients', '-created_at', ['garbage'], id],
      ['patients', 'date_of_birth', ['garbage'], id],
      ['patients', 'date_of_birth', ['2020-02-30'], id],
      ['tasks', 'priority', ['abc'], id],
      ['tasks', 'priority', [true], id],
      ['tasks', 'priority', [1e12], id],
    ];
    for (const [resource, sort, v, cursorId] of cases) {
      const res = await f.s.api('GET', `${f.base}/${resource}?sort=${sort}&after=${forged({ s: sort, v, id: cursorId })}`, { key: f.key });
      expectError(res, 400, 'invalid_cursor');
    }
    const fine = await f.s.api('GET', `${f.base}/patients?sort=date_of_birth&after=${forged({ s: 'date_of_birth', v: [null], id })}`, { key: f.key });
    expect(fine.status).to.equal(200);
  });

  it('traverses tasks by an integer and a nullable date', async () => {
    for (let i = 0; i < 9; i++) {
      await f.s.api('POST', `${f.base}/tasks`, { key: f.key, body: { title: `T${i}`, priority: (i % 4) + 1, due_date: i % 3 === 0 ? null : `2026-0${(i % 5) + 1}-10` } });
    }
    for (const sort of ['-priority,due_date', 'priority,-due_date']) {
      const expected = ids((await list(f, `tasks?sort=${sort}&limit=100`)).data);
      const seen: string[] = [];
      let after: string | null = null;
      do {
        const body: Row = await list(f, `tasks?sort=${sort}&limit=2${after ? `&after=${encodeURIComponent(after)}` : ''}`);
        seen.push(...ids(body.data));
        after = body.page_info.has_next_page ? body.page_info.end_cursor : null;
      } while (after);
      expect(seen, sort).to.deep.equal(expected);
    }
  });

  it('rejects a cursor used with another sort', async () => {
    const first = await list(f, 'patients?sort=last_name&limit=7');
    const cursor = encodeURIComponent(first.page_info.end_cursor);
    for (const sort of ['-last_name', 'first_name', 'last_name,first_name']) {
      expectError(await f.s.api('GET', `${f.base}/patients?sort=${sort}&after=${cursor}`, { key: f.key }), 400, 'invalid_cursor');
    }
    expectError(await f.s.api('GET', `${f.base}/patients?after=${encodeURIComponent((await list(f, 'patients?sort=-created_at&limit=3')).page_info.end_cursor)}`, { key: f.key }), 400, 'invalid_cursor');
  });
});
