import { expect } from 'chai';
import type { Knex } from 'knex';
import { pino } from 'pino';
import { systemContext } from '../../app/auth/system-context.js';
import type { Org } from '../../app/core/context.js';
import { defineEntity } from '../../app/core/define.js';
import { AppError } from '../../app/core/errors.js';
import { definePlugin } from '../../app/core/plugin.js';
import type { EntityDefinition } from '../../app/core/types.js';
import { bulkCreateRecords } from '../../app/operations/bulk-create.js';
import { createRecord } from '../../app/operations/create.js';
import { listRecords } from '../../app/operations/list.js';
import { createRuntime } from '../../app/runtime.js';
import { captureLogs } from '../support/log-capture.js';
import { startTestServer, type TestServer } from '../support/server.js';

// Patients declare count keys [], [status], [gender], [status, gender]: their exact totals are
// kept in each write's transaction and answer the lists filtered on exactly those fields. Every
// check below compares with a count of the rows themselves.

const STATUSES = ['active', 'inactive', 'prospective', 'deceased', 'archived'];
const GENDERS = ['male', 'female', 'non_binary', 'other', 'unknown', 'prefer_not_to_say'];
const KEYS = [[], ['status'], ['gender'], ['status', 'gender']];

type Counts = Record<string, number>;

/**
 * One key's stored counts, each the sum of its slots (PostgreSQL spreads a count over a row per
 * connection), without the zeros a count brought back to zero leaves.
 */
async function storedCounts(knex: Knex, table: string, orgId: string, key: string[]): Promise<Counts> {
  const rows = (await knex('record_counts').where({ org_id: orgId, table_name: table, count_key: key.join(',') }).groupBy('key_values').select('key_values').sum({ n: 'n' })) as { key_values: string; n: unknown }[];
  return Object.fromEntries(rows.filter((r) => Number(r.n) !== 0).map((r) => [r.key_values, Number(r.n)]));
}

/** Makes one stored count wrong by `n` (in one of its slots); returns the undo. */
async function plant(knex: Knex, row: Record<string, string>, n: number): Promise<() => Promise<void>> {
  const target = await knex('record_counts').where(row).orderBy('slot').first('id');
  expect(target, `a stored count for ${JSON.stringify(row)}`).to.not.equal(undefined);
  await knex('record_counts').where({ id: target.id }).increment('n', n);
  return async () => {
    await knex('record_counts').where({ id: target.id }).decrement('n', n);
  };
}

/** The same counts, from the live rows themselves. */
async function realCounts(knex: Knex, table: string, orgId: string, key: string[]): Promise<Counts> {
  const q = knex(table).where({ org_id: orgId }).whereNull('deleted_at').count({ n: '*' });
  if (key.length) q.select(key).groupBy(key);
  const rows = (await q) as Record<string, unknown>[];
  return Object.fromEntries(rows.filter((r) => Number(r.n) > 0).map((r) => [JSON.stringify(key.map((f) => r[f] ?? null)), Number(r.n)]));
}

async function expectCountsExact(knex: Knex, orgId: string, table = 'patients', keys: string[][] = KEYS): Promise<void> {
  for (const key of keys) {
    expect(await storedCounts(knex, table, orgId, key), `count key [${key.join(', ')}]`).to.deep.equal(await realCounts(knex, table, orgId, key));
  }
  const sums = await knex('record_counts').where({ org_id: orgId, table_name: table }).groupBy('count_key', 'key_values').select('count_key', 'key_values').sum({ n: 'n' });
  expect(sums.filter((r) => Number(r.n) < 0), 'no count below zero').to.deep.equal([]);
}

/** Every count of the org's stored rows, to compare before and after a write that must change nothing. */
async function snapshot(knex: Knex, orgId: string): Promise<Counts> {
  const rows = (await knex('record_counts').where({ org_id: orgId }).groupBy('table_name', 'count_key', 'key_values').select('table_name', 'count_key', 'key_values').sum({ n: 'n' })) as { table_name: string; count_key: string; key_values: string; n: unknown }[];
  return Object.fromEntries(rows.map((r) => [`${r.table_name}|${r.count_key}|${r.key_values}`, Number(r.n)]));
}

type Where = Record<string, string | string[] | null>;

async function realTotal(knex: Knex, orgId: string, where: Where, includeArchived = false): Promise<number> {
  const q = knex('patients').where({ org_id: orgId });
  if (!includeArchived) q.whereNull('deleted_at');
  for (const [field, value] of Object.entries(where)) {
    if (value === null) q.whereNull(field);
    else if (Array.isArray(value)) q.whereIn(field, value);
    else q.where(field, value);
  }
  return Number((await q.count({ n: '*' }).first())!.n);
}

/** Every list a count key answers, each total checked against a count of the rows. */
async function expectListTotals(s: TestServer, key: string, org: Org): Promise<void> {
  const cases: [string, Where][] = [['', {}]];
  for (const status of STATUSES) cases.push([`status=${status}`, { status }]);
  for (const gender of GENDERS) cases.push([`gender=${gender}`, { gender }]);
  for (const status of STATUSES) for (const gender of GENDERS) cases.push([`gender=${gender}&status=${status}`, { status, gender }]);
  cases.push(['status[in]=active,inactive', { status: ['active', 'inactive'] }]);
  cases.push(['gender[null]=true', { gender: null }]);
  cases.push(['status[in]=active,active,deceased&gender[in]=male,female', { status: ['active', 'deceased'], gender: ['male', 'female'] }]);
  for (const [query, where] of cases) {
    const res = await s.api('GET', `/api/v1/${org.slug}/patients?${query}${query ? '&' : ''}limit=1`, { key });
    expect(res.status, `${query}: ${JSON.stringify(res.body)}`).to.equal(200);
    expect(res.body.total_count, query || '(no filter)').to.equal(await realTotal(s.rt.db.knex, org.id, where));
  }
}

/** A small deterministic generator, so that a failing random sequence can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('count keys: exact list totals kept in each write\'s transaction', () => {
  let s: TestServer;
  let org: Org;
  let key: string;
  let knex: Knex;
  const P = () => `/api/v1/${org.slug}/patients`;

  const create = async (body: Record<string, unknown>) => {
    const res = await s.api('POST', P(), { key, body: { first_name: 'Pat', last_name: 'Count', ...body } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.data as Record<string, any>;
  };
  const patch = async (p: Record<string, any>, body: Record<string, unknown>) => {
    const res = await s.api('PATCH', `${P()}/${p.id}`, { key, body: { base_version: p.version, ...body } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return res.body.data as Record<string, any>;
  };

  before(async () => {
    // Patient status is plain data here (fixtures in every status): the lifecycle plugin that owns its
    // changes (plugins/patient-chart) is left out; test/plugins/patient-chart.test.ts covers it.
    s = await startTestServer({ withoutPlugins: ['patient-chart'] });
    knex = s.rt.db.knex;
    org = await s.createOrg();
    key = (await s.createKey({ orgs: [org.slug], scopes: ['*'], rateLimit: 1_000_000 })).key;
  });
  after(async () => {
    await s?.close();
  });

  it('keeps every key exact through creates, updates, archive and restore', async () => {
    const made: Record<string, any>[] = [];
    for (let i = 0; i < 12; i++) {
      made.push(await create({ status: STATUSES[i % 3], ...(i % 4 === 3 ? {} : { gender: GENDERS[i % 3] }) }));
    }
    await expectCountsExact(knex, org.id);
    await expectListTotals(s, key, org);

    made[0] = await patch(made[0], { status: 'deceased' });
    made[1] = await patch(made[1], { gender: 'other' });
    made[2] = await patch(made[2], { status: 'inactive', gender: 'unknown' });
    made[4] = await patch(made[4], { gender: '' }); // cleared: counted under null
    made[5] = await patch(made[5], { city: 'Lyon' }); // no counted value changes
    await expectCountsExact(knex, org.id);

    expect((await s.api('DELETE', `${P()}/${made[6].id}`, { key })).status).to.equal(200);
    expect((await s.api('POST', `${P()}/${made[7].id}/archive`, { key })).status).to.equal(200);
    expect((await s.api('POST', `${P()}/${made[6].id}/restore`, { key })).status).to.equal(200);
    await expectCountsExact(knex, org.id);
    await expectListTotals(s, key, org);
  });

  it('answers the lists a key covers from the counts, and counts the rows of every other list', async () => {
    await create({ status: 'active', gender: 'male' });
    // A stored count made wrong on purpose shows which lists read it.
    const row = { org_id: org.id, table_name: 'patients', count_key: 'status', key_values: '["active"]' };
    const undo = await plant(knex, row, 1000);
    try {
      const active = await realTotal(knex, org.id, { status: 'active' });
      const total = async (query: string) => {
        const res = await s.api('GET', `${P()}?${query}`, { key });
        expect(res.status, JSON.stringify(res.body)).to.equal(200);
        return res.body.total_count as number;
      };
      expect(await total('status=active')).to.equal(active + 1000);
      expect(await total('status=active&sort=-created_at&limit=1&offset=1&fields=id')).to.equal(active + 1000);
      expect(await total('status[in]=active,inactive')).to.equal(await realTotal(knex, org.id, { status: ['active', 'inactive'] }) + 1000);
      const first = (await s.api('GET', `${P()}?status=active&limit=1`, { key })).body.page_info.end_cursor;
      expect(await total(`status=active&limit=1&after=${first}&count=true`)).to.equal(active + 1000);

      expect(await total('status=active&include_archived=true')).to.equal(await realTotal(knex, org.id, { status: 'active' }, true));
      expect(await total('status=active&search=pat')).to.equal(active);
      expect(await total('status=active&created_at[gte]=2000-01-01T00:00:00Z')).to.equal(active);
      expect(await total('status[ne]=inactive')).to.equal(await realTotal(knex, org.id, {}) - await realTotal(knex, org.id, { status: 'inactive' }));
      expect(await total('status=active&last_name=Count')).to.equal(active);
    } finally {
      await undo();
    }
    await expectCountsExact(knex, org.id);
  });

  it('leaves the counts as they were when a write fails', async () => {
    const p = await create({ status: 'active', gender: 'female', chart_number: 'CK-1' });
    const before = await snapshot(knex, org.id);
    const stale = await s.api('PATCH', `${P()}/${p.id}`, { key, body: { base_version: p.version + 1, status: 'inactive' } });
    expect(stale.status).to.equal(409);
    const invalid = await s.api('PATCH', `${P()}/${p.id}`, { key, body: { base_version: p.version, status: 'inactive', gender: 'none' } });
    expect(invalid.status).to.equal(400);
    const duplicate = await s.api('POST', P(), { key, body: { first_name: 'Pat', last_name: 'Twice', status: 'deceased', chart_number: 'CK-1' } });
    expect(duplicate.status).to.equal(409);
    const notArchived = await s.api('POST', `${P()}/${p.id}/restore`, { key });
    expect(notArchived.status).to.equal(422);
    expect(await snapshot(knex, org.id)).to.deep.equal(before);
    await expectCountsExact(knex, org.id);
  });

  it('counts a bulk create in one statement per chunk, and a chunk replayed row by row after a duplicate', async () => {
    const ctx = systemContext(s.rt, org);
    const items: Record<string, unknown>[] = Array.from({ length: 45 }, (_, i) => ({
      first_name: 'Bulk', last_name: `Row ${i}`, status: STATUSES[i % STATUSES.length], ...(i % 7 === 0 ? {} : { gender: GENDERS[i % GENDERS.length] }),
    }));
    items[30].chart_number = 'CK-1'; // taken by the test before
    const result = await bulkCreateRecords(s.rt, { resource: 'patient', ctx, items, chunkSize: 20 });
    expect(result).to.include({ total: 45, created: 44, failed: 1 });
    expect(result.results[30].error?.error).to.equal('duplicate');
    await expectCountsExact(knex, org.id);
    await expectListTotals(s, key, org);
  });

  it('stays exact through a random sequence of 200 creates, changes, archives and restores', async () => {
    const next = random(20261201);
    const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)];
    const live = new Map<string, Record<string, any>>();
    const archived = new Map<string, Record<string, any>>();
    for (let step = 0; step < 200; step++) {
      const roll = next();
      if (roll < 0.3 || live.size < 3) {
        const p = await create({ status: pick(STATUSES), ...(next() < 0.8 ? { gender: pick(GENDERS) } : {}) });
        live.set(p.id, p);
      } else if (roll < 0.55) {
        const p = pick([...live.values()]);
        live.set(p.id, await patch(p, { status: pick(STATUSES) }));
      } else if (roll < 0.75) {
        const p = pick([...live.values()]);
        live.set(p.id, await patch(p, next() < 0.2 ? { gender: null } : { gender: pick(GENDERS), ...(next() < 0.3 ? { status: pick(STATUSES) } : {}) }));
      } else if (roll < 0.9 || !archived.size) {
        const p = pick([...live.values()]);
        const res = await s.api('DELETE', `${P()}/${p.id}`, { key });
        expect(res.status).to.equal(200);
        live.delete(p.id);
        archived.set(p.id, res.body.data);
      } else {
        const p = pick([...archived.values()]);
        const res = await s.api('POST', `${P()}/${p.id}/restore`, { key });
        expect(res.status).to.equal(200);
        archived.delete(p.id);
        live.set(p.id, res.body.data);
      }
    }
    await expectCountsExact(knex, org.id);
    await expectListTotals(s, key, org);
  });

  it('stays exact under concurrent writes, spread over slots where writers run at once', async () => {
    const created = await Promise.all(Array.from({ length: 24 }, (_, i) => s.api('POST', P(), { key, body: { first_name: 'Busy', last_name: `Writer ${i}`, status: STATUSES[i % 4], gender: GENDERS[(i * 5) % 6] } })));
    expect(created.map((r) => r.status)).to.deep.equal(created.map(() => 201));
    const changed = await Promise.all(created.map((r, i) => {
      const p = r.body.data;
      return i % 3 === 0
        ? s.api('DELETE', `${P()}/${p.id}`, { key })
        : s.api('PATCH', `${P()}/${p.id}`, { key, body: { base_version: p.version, status: STATUSES[(i + 1) % 5], gender: GENDERS[i % 6] } });
    }));
    expect(changed.map((r) => r.status)).to.deep.equal(changed.map(() => 200));
    await expectCountsExact(knex, org.id);
    // Where writers run at once, each connection adds to a slot of its own, so none waits on
    // another's uncommitted count; SQLite's one writer keeps one row per count.
    const slots = await knex('record_counts').where({ org_id: org.id, table_name: 'patients', count_key: '' }).pluck('slot');
    if (s.rt.db.dialect.countSlots > 1) expect(new Set(slots).size).to.be.greaterThan(1);
    else expect(slots).to.deep.equal([0]);
  });

  it('never mixes two organizations', async () => {
    const other = await s.createOrg();
    const otherKey = (await s.createKey({ orgs: [other.slug], scopes: ['*'], rateLimit: 1_000_000 })).key;
    const mine = await snapshot(knex, org.id);
    for (const status of ['active', 'active', 'inactive']) {
      const res = await s.api('POST', `/api/v1/${other.slug}/patients`, { key: otherKey, body: { first_name: 'Other', last_name: 'Clinic', status, gender: 'male' } });
      expect(res.status).to.equal(201);
    }
    expect(await snapshot(knex, org.id)).to.deep.equal(mine);
    await expectCountsExact(knex, other.id);
    expect((await s.api('GET', `/api/v1/${other.slug}/patients?status=active`, { key: otherKey })).body.total_count).to.equal(2);
    await expectListTotals(s, key, org);
    await expectListTotals(s, otherKey, other);
  });

  it('reads the counts inside a caller\'s transaction with its own writes, and rolls them back with it', async () => {
    const ctx = systemContext(s.rt, org);
    const before = (await listRecords(s.rt, { resource: 'patient', ctx, query: { status: 'prospective' } })).total_count!;
    const rollback = new Error('roll back');
    await s.rt.db.knex.transaction(async (trx) => {
      const inner = { ...ctx, transaction: trx };
      await createRecord(s.rt, { resource: 'patient', ctx: inner, body: { first_name: 'In', last_name: 'Transaction', status: 'prospective' } });
      expect((await listRecords(s.rt, { resource: 'patient', ctx: inner, query: { status: 'prospective' } })).total_count).to.equal(before + 1);
      // The total comes from the counts, read on the transaction's connection.
      await plant(trx, { org_id: org.id, table_name: 'patients', count_key: 'status', key_values: '["prospective"]' }, 50);
      expect((await listRecords(s.rt, { resource: 'patient', ctx: inner, query: { status: 'prospective' } })).total_count).to.equal(before + 51);
      throw rollback;
    }).catch((err) => {
      if (err !== rollback) throw err;
    });
    expect((await listRecords(s.rt, { resource: 'patient', ctx, query: { status: 'prospective' } })).total_count).to.equal(before);
    await expectCountsExact(knex, org.id);
  });

  describe('at start', () => {
    /** Another runtime on the same database, as a restarted process would be. */
    const restart = async (logger = pino({ level: 'silent' })) => {
      const other = await createRuntime(s.rt.config, { redisPrefix: s.rt.redisPrefix, logger, background: false });
      await other.close();
    };
    const marker = () => knex('record_counts').where({ table_name: 'patients', count_key: '#keys' });

    it('recomputes counts whose rows are gone, for every organization', async () => {
      const orgs = await knex('patients').distinct('org_id').pluck('org_id');
      expect(orgs.length).to.be.greaterThan(1);
      await knex('record_counts').where({ table_name: 'patients' }).delete();
      const logs = captureLogs();
      await restart(logs.logger);
      expect(logs.entries().find((e) => e.msg === 'record counts rebuilt')?.tables).to.deep.equal(['patients']);
      for (const id of orgs) await expectCountsExact(knex, id);
      expect(await marker().pluck('key_values')).to.deep.equal(['["v1","","status","gender","status,gender"]']);
      await expectListTotals(s, key, org);
    });

    it('recomputes counts built for other keys, and trusts counts built for these', async () => {
      const row = { org_id: org.id, table_name: 'patients', count_key: 'gender', key_values: '["male"]' };
      await plant(knex, row, 7);
      // The marker names these keys: a restart does not recount.
      await restart();
      expect(await storedCounts(knex, 'patients', org.id, ['gender'])).to.not.deep.equal(await realCounts(knex, 'patients', org.id, ['gender']));
      // Built for other keys: recounted.
      await marker().update({ key_values: '["v1","","status"]' });
      await restart();
      await expectCountsExact(knex, org.id);
      expect(await marker().pluck('key_values')).to.deep.equal(['["v1","","status","gender","status,gender"]']);
    });
  });
});

describe('count keys: the status-transition action, and a write refused after it', () => {
  let s: TestServer;
  let org: Org;
  let key: string;
  const P = () => `/api/v1/${org.slug}/patients`;
  const lifecycle = definePlugin({
    name: 'patient-lifecycle',
    actions: [{
      resource: 'patient', name: 'transition-status', on: 'record', summary: 'Move a patient to another status',
      input: { properties: { status: { type: 'string', enum: STATUSES } }, required: ['status'] },
      run: ({ input }) => ({ changes: { status: input.status } }),
    }],
    hooks: {
      // Refuses after the record, its counts and its audit row are written: all must roll back.
      afterChange: [{
        resource: 'patient',
        hook: (state) => {
          if (state.record?.last_name === 'Refused') throw new AppError('unprocessable', 'Refused after the write', [{ path: '/body/last_name', message: 'is refused' }]);
        },
      }],
    },
  });

  before(async () => {
    // Its own transition-status (any move) stands in for plugins/patient-chart's, left out.
    s = await startTestServer({ plugins: [lifecycle], withoutPlugins: ['patient-chart'] });
    org = await s.createOrg();
    key = (await s.createKey({ orgs: [org.slug], scopes: ['*'], rateLimit: 1_000_000 })).key;
  });
  after(async () => {
    await s?.close();
  });

  it('moves the counts when the action changes a status', async () => {
    const made: Record<string, any>[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await s.api('POST', P(), { key, body: { first_name: 'Pat', last_name: `Moved ${i}`, gender: GENDERS[i % 2] } });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      made.push(res.body.data);
    }
    for (const [i, status] of ['inactive', 'deceased', 'inactive', 'active'].entries()) {
      const res = await s.api('POST', `${P()}/${made[i].id}/transition-status`, { key, body: { status } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
    }
    await expectCountsExact(s.rt.db.knex, org.id);
    await expectListTotals(s, key, org);
    expect((await s.api('GET', `${P()}?status=inactive`, { key })).body.total_count).to.equal(2);
  });

  it('rolls the counts back with a create or an update refused after the write', async () => {
    const knex = s.rt.db.knex;
    const p = (await s.api('POST', P(), { key, body: { first_name: 'Pat', last_name: 'Later', gender: 'male' } })).body.data;
    const before = await snapshot(knex, org.id);
    expect((await s.api('POST', P(), { key, body: { first_name: 'Pat', last_name: 'Refused', gender: 'female' } })).status).to.equal(422);
    expect((await s.api('PATCH', `${P()}/${p.id}`, { key, body: { base_version: p.version, last_name: 'Refused', gender: 'female' } })).status).to.equal(422);
    expect(await snapshot(knex, org.id)).to.deep.equal(before);
    await expectCountsExact(knex, org.id);
  });
});

describe('count keys of a definition that drops them, or a data-defined schema that changes them', () => {
  const tally = (counts?: string[][]): EntityDefinition => defineEntity({
    name: 'tally', path: 'tallies', table: 'tallies', scope: 'tallies', tenant: true,
    fields: { colour: { type: 'enum', values: ['red', 'blue'], filter: true }, size: { type: 'integer', filter: true }, label: { type: 'string' } },
    ...(counts ? { counts } : {}),
  });

  it('clears the counts of keys no longer declared, so that keys declared again are recounted', async () => {
    // [] is summed from [colour]'s grouping; [size] takes a scan of its own.
    const keys = [[], ['colour'], ['size']];
    const s = await startTestServer({ extraDefinitions: [tally(keys)] });
    try {
      const org = await s.createOrg();
      const ctx = systemContext(s.rt, org);
      const knex = s.rt.db.knex;
      const start = (definition: EntityDefinition) => createRuntime(s.rt.config, { extraDefinitions: [definition], redisPrefix: s.rt.redisPrefix, logger: pino({ level: 'silent' }), background: false });
      for (const [colour, size] of [['red', 1], ['red', 2], ['blue', 2]] as const) await createRecord(s.rt, { resource: 'tally', ctx, body: { colour, size } });
      await expectCountsExact(knex, org.id, 'tallies', keys);

      const without = await start(tally());
      try {
        expect(await knex('record_counts').where({ table_name: 'tallies' }).count({ n: '*' }).first().then((r) => Number(r!.n))).to.equal(0);
        // Written while nothing keeps the counts.
        await createRecord(without, { resource: 'tally', ctx: systemContext(without, org), body: { colour: 'blue', size: 3 } });
      } finally {
        await without.close();
      }
      const again = await start(tally(keys));
      await again.close();
      await expectCountsExact(knex, org.id, 'tallies', keys);
      expect(await storedCounts(knex, 'tallies', org.id, ['colour'])).to.deep.equal({ '["red"]': 2, '["blue"]': 2 });
      expect(await storedCounts(knex, 'tallies', org.id, ['size'])).to.deep.equal({ '[1]': 1, '[2]': 2, '[3]': 1 });
      expect(await storedCounts(knex, 'tallies', org.id, [])).to.deep.equal({ '[]': 4 });
    } finally {
      await s.close();
    }
  });

  it('refuses a data-defined schema generation that would change count keys', async () => {
    const switches = definePlugin({
      name: 'tally-switches',
      definitions: [
        tally(),
        defineEntity({ name: 'tally-switch', path: 'tally-switches', table: 'tally_switches', scope: 'tally-switches', tenant: false, fields: { value: { type: 'string', required: true } } }),
      ],
      schema: {
        watch: ['tally-switch'],
        async apply(definitions, db) {
          const values: string[] = await db('tally_switches').whereNull('deleted_at').pluck('value');
          return definitions.map((def) => {
            if (def.name !== 'tally') return def;
            const label = { ...def.fields.label, description: values.join(', ') || undefined };
            return { ...def, fields: { ...def.fields, label }, ...(values.includes('count') ? { counts: [['colour']] } : {}) };
          });
        },
      },
    });
    const logs = captureLogs();
    const s = await startTestServer({ plugins: [switches], logger: logs.logger });
    try {
      const key = (await s.createKey({ orgs: [(await s.createOrg()).slug], scopes: ['*'] })).key;
      const version = s.rt.schema.version;
      // A change that leaves the keys alone switches generations...
      expect((await s.api('POST', '/api/v1/tally-switches', { key, body: { value: 'describe' } })).status).to.equal(201);
      expect(s.rt.schema.version).to.equal(version + 1);
      // ...one that declares keys is refused, and the current generation stays.
      expect((await s.api('POST', '/api/v1/tally-switches', { key, body: { value: 'count' } })).status).to.equal(201);
      expect(s.rt.schema.version).to.equal(version + 1);
      expect(s.rt.schema.registry.get('tally').counts).to.equal(undefined);
      const refused = logs.entries().find((e) => e.code === 'schema_generation_refused');
      expect(refused?.reason).to.equal('a data-defined schema change may not change count keys (tally); they change at a restart');
    } finally {
      await s.close();
    }
  });
});
