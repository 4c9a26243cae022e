import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { systemContext } from '../../app/auth/system-context.js';
import type { Org } from '../../app/operations/context.js';
import { createRecord } from '../../app/operations/create.js';
import { inTransaction } from '../../app/operations/pipeline.js';
import { DEFAULT_PLUGIN_DIRS, PROJECT_ROOT } from '../../app/runtime.js';
import { startTestServer, type TestServer } from '../support/server.js';

const ORG = 'gadget-shop';
const G = `/api/v1/${ORG}/gadgets`;
const url = (file: string) => JSON.stringify(pathToFileURL(path.join(PROJECT_ROOT, file)).href);

/**
 * A plugin as a practice's developer would write it, in a folder of its own: a definition, a hook
 * that refuses a bad change, a record action and a collection action, an event of its own with a
 * subscriber, and an error code. Nothing else in the project is edited.
 */
function writeGadgetPlugin(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'emr-plugins-'));
  writeFileSync(path.join(dir, 'gadget-shop.ts'), `
import { definePlugin } from ${url('app/core/plugin.ts')};
import { defineEntity } from ${url('app/core/define.ts')};
import { AppError } from ${url('app/core/errors.ts')};

const received = ((globalThis as any).__gadgetEvents ??= []);

export default definePlugin({
  name: 'gadget-shop',
  definitions: [defineEntity({
    name: 'gadget', path: 'gadgets', table: 'gadgets', scope: 'gadgets', tenant: true, defaultSort: 'name',
    fields: {
      name: { type: 'string', required: true, maxLength: 100, sort: true },
      shine: { type: 'integer', min: 0, max: 10, default: 0, filter: true },
      finish: { type: 'enum', values: ['raw', 'polished'], default: 'raw', filter: true },
    },
  })],
  errors: { gadget_cursed: { status: 422, description: 'A cursed gadget cannot be made or changed.' } },
  hooks: {
    beforeChange: [{
      resource: 'gadget',
      hook: (state) => {
        if (String(state.data.name ?? state.current?.name ?? '').includes('cursed')) {
          throw new AppError('gadget_cursed', 'This gadget is cursed', [{ path: '/body/name', message: 'is cursed' }]);
        }
      },
    }],
    afterChange: [{
      resource: 'gadget',
      operations: ['polish'],
      hook: (state) => {
        if ((state.record!.shine as number) >= 10) state.emit('gadget.gleaming', { shine: state.record!.shine });
      },
    }],
  },
  actions: [
    {
      resource: 'gadget', name: 'polish', on: 'record', summary: 'Polish a gadget',
      input: { properties: { by: { type: 'integer', minimum: 1, maximum: 5 } }, required: ['by'] },
      errors: ['gadget_cursed'],
      run: ({ current, input }) => ({ changes: { shine: Math.min(10, (current!.shine as number) + (input.by as number)), finish: 'polished' } }),
    },
    {
      resource: 'gadget', name: 'count-shiny', on: 'collection', access: 'read', summary: 'Count the shiny gadgets',
      input: { properties: { min: { type: 'integer', minimum: 0, maximum: 10, default: 1 } } },
      output: { type: 'object', properties: { count: { type: 'integer' } } },
      run: async ({ query, input }) => ({ result: { count: (await query('gadget').where('shine', '>=', input.min as number)).length } }),
    },
  ],
  events: {
    'gadget.gleaming': (event) => { received.push(event); },
    'gadget.updated': (event) => { received.push(event); },
    'gadget.created': { job: 'gadget-welcome' },
  },
  jobs: {
    'gadget-welcome': {
      attempts: 2,
      backoffMs: 50,
      handler: async ({ job, progress }) => {
        await progress(50, { greeted: true });
        return { welcomed: (job.payload as { resource_id: string }).resource_id };
      },
    },
  },
});
`);
  return dir;
}

async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('a plugin in a folder of its own, and no other edit', () => {
  let s: TestServer;
  let dir: string;
  let writer: string;
  let reader: string;

  before(async () => {
    dir = writeGadgetPlugin();
    s = await startTestServer({ pluginDirs: [...DEFAULT_PLUGIN_DIRS, dir], env: { EVENT_SWEEP_MS: '100', EVENT_LEASE_MS: '200' } });
    await s.createOrg(ORG);
    writer = (await s.createKey({ orgs: [ORG], scopes: ['gadgets:write'], rateLimit: 100000 })).key;
    reader = (await s.createKey({ orgs: [ORG], scopes: ['gadgets:read'], rateLimit: 100000 })).key;
  });
  after(async () => {
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const make = async (name: string) => {
    const res = await s.api('POST', G, { key: writer, body: { name } });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.data;
  };

  it('serves the definition it contributes with the generated CRUD routes', async () => {
    const g = await make('Lamp');
    expect(g).to.include({ name: 'Lamp', shine: 0, finish: 'raw', version: 1 });
    expect((await s.api('GET', `${G}/${g.id}`, { key: reader })).body.data.name).to.equal('Lamp');
  });

  it('lets its hook refuse a bad change with its own error code, and nothing is written', async () => {
    const refused = await s.api('POST', G, { key: writer, body: { name: 'A cursed lamp' } });
    expect(refused.status).to.equal(422);
    expect(refused.body).to.include({ error: 'gadget_cursed', message: 'This gadget is cursed' });
    expect(refused.body.details).to.deep.equal([{ path: '/body/name', message: 'is cursed' }]);
    expect(await s.rt.db.knex('gadgets').where('name', 'A cursed lamp')).to.have.length(0);
    expect(await s.rt.db.knex('outbox_events').where({ resource: 'gadget' }).whereRaw("type = 'gadget.created'").join('gadgets', 'gadgets.id', 'outbox_events.resource_id').where('gadgets.name', 'A cursed lamp')).to.have.length(0);
    const g = await make('Kettle');
    const renamed = await s.api('PATCH', `${G}/${g.id}`, { key: writer, body: { name: 'cursed kettle' } });
    expect(renamed.body.error).to.equal('gadget_cursed');
    expect((await s.api('GET', `${G}/${g.id}`, { key: reader })).body.data).to.include({ name: 'Kettle', version: 1 });
  });

  it('runs a record action through the pipeline: validation, scope, version, audit, events', async () => {
    const g = await make('Teapot');
    const polished = await s.api('POST', `${G}/${g.id}/polish`, { key: writer, body: { by: 3 } });
    expect(polished.status, JSON.stringify(polished.body)).to.equal(200);
    expect(polished.body.data).to.include({ id: g.id, shine: 3, finish: 'polished', version: 2 });
    expect(polished.headers.get('etag')).to.equal('W/"2"');

    const audit = await s.rt.db.knex('audit_events').where({ resource: 'gadget', resource_id: g.id }).orderBy('created_at').select('action');
    expect(audit.map((a: { action: string }) => a.action)).to.deep.equal(['create', 'polish']);
    const events = await s.rt.db.knex('outbox_events').where({ resource_id: g.id }).orderBy('created_at').select('type');
    expect(events.map((e: { type: string }) => e.type)).to.deep.equal(['gadget.created', 'gadget.updated']);

    for (const [body, pathPrefix] of [[{ by: 9 }, '/body/by'], [{}, '/body/by'], [{ by: 1, hue: 'red' }, '/body/hue'], [{ by: '2' }, '/body/by']] as const) {
      const bad = await s.api('POST', `${G}/${g.id}/polish`, { key: writer, body });
      expect(bad.status, JSON.stringify(bad.body)).to.equal(400);
      expect(bad.body.error).to.equal('validation_error');
      expect(bad.body.details.map((d: { path: string }) => d.path)).to.include(pathPrefix);
    }
    const forbidden = await s.api('POST', `${G}/${g.id}/polish`, { key: reader, body: { by: 1 } });
    expect(forbidden.status).to.equal(403);
    expect((await s.api('POST', `${G}/not-a-uuid/polish`, { key: writer, body: { by: 1 } })).body.error).to.equal('invalid_id');
    expect((await s.api('POST', `${G}/01900000-0000-7000-8000-000000000000/polish`, { key: writer, body: { by: 1 } })).status).to.equal(404);
  });

  it('delivers the events the plugin emits to its subscriber after the commit', async () => {
    const received = ((globalThis as any).__gadgetEvents ??= []) as { type: string; resource_id: string; payload: { shine: number } }[];
    const g = await make('Mirror');
    for (let i = 0; i < 3; i++) expect((await s.api('POST', `${G}/${g.id}/polish`, { key: writer, body: { by: 4 } })).status).to.equal(200);
    const event = await eventually(() => received.find((e) => e.resource_id === g.id && e.type === 'gadget.gleaming'));
    expect(event).to.include({ type: 'gadget.gleaming' });
    expect(event.payload).to.deep.equal({ shine: 10 });
    await s.rt.events.idle();
    const row = await s.rt.db.knex('outbox_events').where({ resource_id: g.id, type: 'gadget.gleaming' }).first();
    expect(row.delivered_at).to.be.a('string');
  });

  it('runs a collection action that reads through the scoped Objection model', async () => {
    const counted = await s.api('POST', `${G}/count-shiny`, { key: reader, body: { min: 3 } });
    expect(counted.status, JSON.stringify(counted.body)).to.equal(200);
    const expected = await s.rt.db.knex('gadgets').where('shine', '>=', 3).count({ n: '*' }).first();
    expect(counted.body.data).to.deep.equal({ count: Number(expected!.n) });
    // Another organization's gadgets are not counted: the model query is tenant-scoped.
    const other = await s.createOrg();
    const otherKey = (await s.createKey({ orgs: [other.slug], scopes: ['gadgets:write'] })).key;
    expect((await s.api('POST', `/api/v1/${other.slug}/gadgets/count-shiny`, { key: otherKey, body: {} })).body.data).to.deep.equal({ count: 0 });
  });

  it('feeds its job from an event, and the job is visible to the org holding jobs:read, and to no other', async () => {
    const g = await make('Clock');
    const jobsKey = (await s.createKey({ orgs: [ORG], scopes: ['jobs:read'], rateLimit: 100000 })).key;
    const job = await eventually(async () => {
      const res = await s.api('GET', `/api/v1/${ORG}/jobs?type=gadget-welcome&status=completed`, { key: jobsKey });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      return res.body.data.find((j: { result: { welcomed: string } }) => j.result?.welcomed === g.id);
    });
    const got = await s.api('GET', `/api/v1/${ORG}/jobs/${job.id}`, { key: jobsKey });
    expect(got.status).to.equal(200);
    expect(got.body.data).to.include({ type: 'gadget-welcome', status: 'completed', progress: 100, attempts: 1 });
    expect(got.body.data.result).to.deep.equal({ welcomed: g.id });
    // The payload may carry patient data: only with jobs:sensitive.
    expect(got.body.data).to.not.have.property('payload');
    expect((await s.api('GET', `/api/v1/${ORG}/jobs/${job.id}`, { key: writer })).status).to.equal(403);
    const other = await s.createOrg();
    const otherKey = (await s.createKey({ orgs: [other.slug], scopes: ['jobs:read'] })).key;
    expect((await s.api('GET', `/api/v1/${other.slug}/jobs/${job.id}`, { key: otherKey })).status).to.equal(404);
    expect((await s.api('POST', `/api/v1/${ORG}/jobs`, { key: jobsKey, body: {} })).status).to.be.oneOf([404, 405]);
  });

  it('documents its actions in the OpenAPI document, each where the caller\'s scopes allow it', async () => {
    const doc = (await s.api('GET', '/api/openapi.json')).body;
    const polish = doc.paths['/api/v1/{org}/gadgets/{id}/polish'].post;
    expect(polish['x-required-scopes']).to.deep.equal(['gadgets:write']);
    expect(JSON.stringify(polish.requestBody)).to.contain('"by"');
    expect(Object.keys(polish.responses)).to.include('422');
    expect(doc.paths['/api/v1/{org}/gadgets/count-shiny'].post['x-required-scopes']).to.deep.equal(['gadgets:read']);
    const mine = (await s.api('GET', '/api/openapi.json?scoped=true', { key: reader })).body;
    expect(mine.paths).to.not.have.property('/api/v1/{org}/gadgets/{id}/polish');
    expect(mine.paths['/api/v1/{org}/gadgets/count-shiny']).to.have.property('post');
  });

  it('stores in the outbox only the events someone subscribes to', async () => {
    const g = await make('Bell');
    await s.api('DELETE', `${G}/${g.id}`, { key: writer });
    await s.rt.events.idle();
    const types = (await s.rt.db.knex('outbox_events').where({ resource_id: g.id }).select('type')).map((e: { type: string }) => e.type);
    // gadget.created feeds a job; gadget.archived has no subscriber, so there is nothing to deliver.
    expect(types).to.deep.equal(['gadget.created']);
  });

  it('adds its error code to the catalogue the API answers with', async () => {
    const { errorCatalogue } = await import('../../app/core/errors.js');
    expect(errorCatalogue().get('gadget_cursed')).to.deep.equal({ status: 422, description: 'A cursed gadget cannot be made or changed.' });
  });
});

/**
 * A hook that keeps a derived column of another resource in step (a shelf's item count) writes
 * that table through `state.query` and names it with `state.touch`: the other table's cached
 * pages are then invalidated with the write's own, also when the write joined an outer
 * transaction.
 */
function writeShelfPlugin(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'emr-plugins-'));
  writeFileSync(path.join(dir, 'shelves.ts'), `
import { definePlugin, type WriteState } from ${url('app/core/plugin.ts')};
import { defineEntity } from ${url('app/core/define.ts')};

async function recount(state: WriteState) {
  const shelfId = (state.record ?? state.current)!.shelf_id as string;
  const items = await state.query('shelf-item').where('shelf_id', shelfId);
  await state.query('shelf').where('id', shelfId).patch({ item_count: items.length } as never);
  state.touch('shelf');
}

export default definePlugin({
  name: 'shelves',
  definitions: [
    defineEntity({
      name: 'shelf', path: 'shelves', table: 'shelves', scope: 'shelves', tenant: true, defaultSort: 'name',
      fields: {
        name: { type: 'string', required: true, maxLength: 100, sort: true },
        item_count: { type: 'integer', readOnly: true, default: 0 },
      },
    }),
    defineEntity({
      name: 'shelf-item', path: 'shelf-items', table: 'shelf_items', scope: 'shelves', tenant: true,
      fields: {
        shelf_id: { type: 'uuid', ref: 'shelf', required: true, filter: true },
        label: { type: 'string', maxLength: 100 },
      },
    }),
  ],
  hooks: { afterChange: [{ resource: 'shelf-item', operations: ['create', 'archive', 'restore'], hook: recount }] },
});
`);
  return dir;
}

describe('WriteState.touch: a hook that changes another resource\'s table', () => {
  const SHELF_ORG = 'shelf-shop';
  const S = `/api/v1/${SHELF_ORG}`;
  let s: TestServer;
  let dir: string;
  let key: string;
  let shelf: Record<string, any>;
  let org: Org;

  before(async () => {
    dir = writeShelfPlugin();
    s = await startTestServer({ pluginDirs: [...DEFAULT_PLUGIN_DIRS, dir] });
    org = await s.createOrg(SHELF_ORG);
    key = (await s.createKey({ orgs: [SHELF_ORG], scopes: ['shelves:read', 'shelves:write'], rateLimit: 100000 })).key;
    shelf = (await s.api('POST', `${S}/shelves`, { key, body: { name: 'Top' } })).body.data;
  });
  after(async () => {
    await s?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The shelf as a (cached) list page shows it; asked twice so that the second answer is the cache's. */
  const listedCount = async () => {
    await s.api('GET', `${S}/shelves`, { key });
    const res = await s.api('GET', `${S}/shelves`, { key });
    expect(res.status).to.equal(200);
    return res.body.data.find((r: Record<string, any>) => r.id === shelf.id).item_count;
  };

  it('invalidates the touched table\'s cached pages when the write commits', async () => {
    expect(await listedCount()).to.equal(0);
    const item = (await s.api('POST', `${S}/shelf-items`, { key, body: { shelf_id: shelf.id, label: 'a' } })).body.data;
    expect(await listedCount()).to.equal(1);
    expect((await s.api('POST', `${S}/shelf-items/${item.id}/archive`, { key })).status).to.equal(200);
    expect(await listedCount()).to.equal(0);
    expect((await s.api('POST', `${S}/shelf-items/${item.id}/restore`, { key })).status).to.equal(200);
    expect(await listedCount()).to.equal(1);
    // Derived, not a change of the shelf: no new version, no audit row of its own.
    const got = (await s.api('GET', `${S}/shelves/${shelf.id}`, { key })).body.data;
    expect(got).to.include({ item_count: 1, version: 1 });
  });

  it('does so after the outermost commit when the write joined an outer transaction', async () => {
    const ctx = systemContext(s.rt, org);
    const before = await listedCount();
    await inTransaction({ rt: s.rt, ctx, gen: s.rt.schema }, async (trx) => {
      for (const label of ['b', 'c']) {
        await createRecord(s.rt, { resource: 'shelf-item', ctx: { ...ctx, transaction: trx }, body: { shelf_id: shelf.id, label } });
      }
    });
    expect(await listedCount()).to.equal(before + 2);
  });
});
