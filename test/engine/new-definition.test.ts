import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { pino } from 'pino';
import { createApiKey } from '../../app/auth/api-keys.js';
import { loadDefinitionDirs, Registry } from '../../app/core/registry.js';
import { systemDefinitions } from '../../app/core/system-definitions.js';
import { planSchemaSync } from '../../app/db/schema-sync.js';
import { createHttpApp } from '../../app/http/server.js';
import { createRuntime, DEFAULT_DEFINITION_DIRS, PROJECT_ROOT } from '../../app/runtime.js';
import { startTestServer, type ApiResponse, type TestServer } from '../support/server.js';

const ORG = 'widget-works';
const OTHER_ORG = 'widget-rivals';
const W = `/api/v1/${ORG}/widgets`;
const DEFINE_URL = pathToFileURL(path.join(PROJECT_ROOT, 'app/core/define.ts')).href;

/** Writes a throw-away definition module into a fresh folder, as a practice's developer would. */
function writeWidgetDefinition(extraFields = '', extra = ''): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'emr-widgets-'));
  writeFileSync(
    path.join(dir, 'widgets.ts'),
    `import { defineEntity } from ${JSON.stringify(DEFINE_URL)};

export default defineEntity({
  name: 'widget',
  path: 'widgets',
  table: 'widgets',
  scope: 'widgets',
  tenant: true,
  description: 'A throw-away resource declared by a test.',
  defaultSort: 'name',
  fields: {
    name: { type: 'string', required: true, minLength: 1, maxLength: 100, sort: true, search: 'contains', description: 'Widget name.' },
    size: { type: 'integer', min: 0, max: 1000, filter: true, sort: true, description: 'Size in millimetres.' },
    color: { type: 'enum', values: ['red', 'green', 'blue'], filter: true, description: 'Colour.' },
    serial: { type: 'string', maxLength: 50, sensitive: true, filter: true, sort: true, search: 'prefix', description: 'Serial number (sensitive).' },
    stock: { type: 'integer', filter: true, description: 'Units in stock (no declared bounds).' },${extraFields}
  },${extra}
});
`,
  );
  return dir;
}

function expectValidationError(res: ApiResponse, pathPrefix: string) {
  expect(res.status, JSON.stringify(res.body)).to.equal(400);
  expect(res.body.error).to.equal('validation_error');
  expect((res.body.details as any[]).map((d) => d.path).some((p) => p.startsWith(pathPrefix)), JSON.stringify(res.body.details)).to.equal(true);
}

describe('a new definition, and nothing else', () => {
  const dirs: string[] = [];
  let s: TestServer;
  let admin: string;
  let widgetDir: string;

  before(async () => {
    widgetDir = writeWidgetDefinition();
    dirs.push(widgetDir);
    s = await startTestServer({ definitionDirs: [...DEFAULT_DEFINITION_DIRS, widgetDir] });
    await s.createOrg(ORG);
    await s.createOrg(OTHER_ORG);
    admin = (await s.createKey({ orgs: [ORG], scopes: ['widgets:write', 'widgets:sensitive'] })).key;
  });
  after(async () => {
    await s?.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('gets a table and the full CRUD routes', async () => {
    const created = await s.api('POST', W, { key: admin, body: { name: 'Sprocket', size: 12, color: 'red' } });
    expect(created.status, JSON.stringify(created.body)).to.equal(201);
    const w = created.body.data;
    expect(w).to.include({ name: 'Sprocket', size: 12, color: 'red', version: 1, deleted_at: null });
    expect(w.id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(created.headers.get('location')).to.equal(`${W}/${w.id}`);

    const got = await s.api('GET', `${W}/${w.id}`, { key: admin });
    expect(got.status).to.equal(200);
    expect(got.body.data).to.deep.equal(w);
    expect(got.headers.get('etag')).to.equal('W/"1"');

    const patched = await s.api('PATCH', `${W}/${w.id}`, { key: admin, body: { size: 13, color: null } });
    expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
    expect(patched.body.data).to.include({ name: 'Sprocket', size: 13, color: null, version: 2 });

    const archived = await s.api('DELETE', `${W}/${w.id}`, { key: admin });
    expect(archived.status).to.equal(200);
    expect((await s.api('GET', `${W}/${w.id}`, { key: admin })).status).to.equal(404);
    const restored = await s.api('POST', `${W}/${w.id}/restore`, { key: admin });
    expect(restored.status).to.equal(200);
    expect(restored.body.data.deleted_at).to.equal(null);

    const rows = await s.rt.db.knex('widgets').where({ id: w.id });
    expect(rows).to.have.length(1);
    // Changes are audited like any other resource's.
    const audit = await s.rt.db.knex('audit_events').where({ resource: 'widget', resource_id: w.id }).orderBy('created_at').select('action');
    expect(audit.map((a: any) => a.action)).to.deep.equal(['create', 'update', 'archive', 'restore']);
  });

  it('validates writes from the field declarations', async () => {
    expectValidationError(await s.api('POST', W, { key: admin, body: { size: 1 } }), '/body/name');
    expectValidationError(await s.api('POST', W, { key: admin, body: { name: 'X', size: 'big' } }), '/body/size');
    expectValidationError(await s.api('POST', W, { key: admin, body: { name: 'X', size: 1.5 } }), '/body/size');
    expectValidationError(await s.api('POST', W, { key: admin, body: { name: 'X', color: 'purple' } }), '/body/color');
    expectValidationError(await s.api('POST', W, { key: admin, body: { name: 'X', weight: 3 } }), '/body');
    expectValidationError(await s.api('POST', W, { key: admin, body: { name: 'X', id: '01900000-0000-7000-8000-000000000000' } }), '/body');
  });

  it('accepts integers in the range both databases store, and rejects others with 400', async () => {
    const max = await s.api('POST', W, { key: admin, body: { name: 'Max stock', stock: 2147483647 } });
    expect(max.status, JSON.stringify(max.body)).to.equal(201);
    expect(max.body.data.stock).to.equal(2147483647);
    const min = await s.api('POST', W, { key: admin, body: { name: 'Min stock', stock: -2147483648 } });
    expect(min.status, JSON.stringify(min.body)).to.equal(201);
    expectValidationError(await s.api('POST', W, { key: admin, body: { name: 'Too many', stock: 2147483648 } }), '/body/stock');
    expectValidationError(await s.api('POST', W, { key: admin, body: { name: 'Too few', stock: -2147483649 } }), '/body/stock');
    expectValidationError(await s.api('PATCH', `${W}/${max.body.data.id}`, { key: admin, body: { stock: 1e12 } }), '/body/stock');
    expectValidationError(await s.api('GET', `${W}?stock[gte]=2147483648`, { key: admin }), '/query');
    const found = await s.api('GET', `${W}?stock=2147483647`, { key: admin });
    expect(found.status, JSON.stringify(found.body)).to.equal(200);
    expect(found.body.data.map((r: any) => r.name)).to.deep.equal(['Max stock']);
    // Leave the list tests below their own rows.
    for (const id of [max.body.data.id, min.body.data.id]) expect((await s.api('DELETE', `${W}/${id}`, { key: admin })).status).to.equal(200);
  });

  describe('lists', () => {
    before(async () => {
      for (const [name, size, color] of [['Alpha', 1, 'red'], ['Bravo', 5, 'green'], ['Charlie', 9, 'blue'], ['Delta', 5, 'red']] as const) {
        expect((await s.api('POST', W, { key: admin, body: { name, size, color } })).status).to.equal(201);
      }
    });
    const names = (res: ApiResponse) => (res.body.data as any[]).map((r) => r.name);

    it('filter by the filterable fields with operators', async () => {
      const eq = await s.api('GET', `${W}?size=5`, { key: admin });
      expect(eq.status, JSON.stringify(eq.body)).to.equal(200);
      expect(names(eq)).to.deep.equal(['Bravo', 'Delta']);
      expect(eq.body.total_count).to.equal(2);
      expect(names(await s.api('GET', `${W}?size[gte]=5&size[lt]=9`, { key: admin }))).to.deep.equal(['Bravo', 'Delta']);
      expect(names(await s.api('GET', `${W}?color=red&size[gt]=1`, { key: admin }))).to.deep.equal(['Delta']);
      expect(names(await s.api('GET', `${W}?color[in]=green,blue`, { key: admin }))).to.deep.equal(['Bravo', 'Charlie']);
    });

    it('sort by sortable fields, search the searchable ones', async () => {
      const sorted = await s.api('GET', `${W}?sort=-size,name&size[gte]=1`, { key: admin });
      expect(names(sorted)).to.deep.equal(['Sprocket', 'Charlie', 'Bravo', 'Delta', 'Alpha']);
      expect(names(await s.api('GET', `${W}?search=ravo`, { key: admin }))).to.deep.equal(['Bravo']);
    });

    it('reject filters on fields not marked filterable, unknown fields and bad values', async () => {
      expectValidationError(await s.api('GET', `${W}?name=Alpha`, { key: admin }), '/query');
      expectValidationError(await s.api('GET', `${W}?weight=1`, { key: admin }), '/query');
      expectValidationError(await s.api('GET', `${W}?size=big`, { key: admin }), '/query');
      expectValidationError(await s.api('GET', `${W}?color=purple`, { key: admin }), '/query');
      expectValidationError(await s.api('GET', `${W}?sort=color`, { key: admin }), '/query/sort');
    });
  });

  it('is governed by its own scope', async () => {
    const other = (await s.createKey({ orgs: [ORG], scopes: ['patients:read', 'tasks:write'] })).key;
    for (const res of [await s.api('GET', W, { key: other }), await s.api('POST', W, { key: other, body: { name: 'No' } })]) {
      expect(res.status).to.equal(403);
      expect(res.body.error).to.equal('forbidden');
    }
    const reader = (await s.createKey({ orgs: [ORG], scopes: ['widgets:read'] })).key;
    expect((await s.api('GET', W, { key: reader })).status).to.equal(200);
    const denied = await s.api('POST', W, { key: reader, body: { name: 'No' } });
    expect(denied.status).to.equal(403);
  });

  it('is isolated per organization', async () => {
    const rival = (await s.createKey({ orgs: [OTHER_ORG], scopes: ['widgets:write'] })).key;
    const theirs = await s.api('POST', `/api/v1/${OTHER_ORG}/widgets`, { key: rival, body: { name: 'Rival widget' } });
    expect(theirs.status).to.equal(201);
    expect((await s.api('GET', `${W}/${theirs.body.data.id}`, { key: admin })).status).to.equal(404);
    const mine = await s.api('GET', `${W}?limit=100`, { key: admin });
    expect(mine.body.data.map((r: any) => r.name)).to.not.include('Rival widget');
  });

  it('appears in the OpenAPI document', async () => {
    const res = await s.api('GET', '/api/openapi.json');
    expect(res.status).to.equal(200);
    const doc = res.body;
    expect(doc.paths['/api/v1/{org}/widgets']).to.include.keys('get', 'post');
    expect(doc.paths['/api/v1/{org}/widgets/{id}']).to.include.keys('get', 'patch', 'put', 'delete');
    expect(doc.paths['/api/v1/{org}/widgets/{id}/restore']).to.have.property('post');
    const schema = doc.components.schemas.Widget;
    expect(schema.properties).to.include.keys('id', 'name', 'size', 'color', 'version', 'created_at');
    expect(schema.properties.color.enum).to.include.members(['red', 'green', 'blue']);
    expect(doc.components.schemas.WidgetCreate.required).to.include('name');
    const listParams = (doc.paths['/api/v1/{org}/widgets'].get.parameters as any[]).map((p) => p.$ref ? p.$ref.split('/').pop() : p.name);
    expect(listParams.join(' ')).to.include('size');
  });

  describe('a sensitive field', () => {
    let reader: string;
    let sensitiveReader: string;
    before(async () => {
      reader = (await s.createKey({ orgs: [ORG], scopes: ['widgets:read'] })).key;
      sensitiveReader = (await s.createKey({ orgs: [ORG], scopes: ['widgets:read', 'widgets:sensitive'] })).key;
      for (const [name, serial] of [['Serial one', 'SN-1000'], ['Serial two', 'SN-2000'], ['Serial three', 'SN-3000']]) {
        expect((await s.api('POST', W, { key: admin, body: { name, serial } })).status).to.equal(201);
      }
    });

    it('is returned only with the sensitive scope', async () => {
      const plain = await s.api('GET', `${W}?limit=100`, { key: reader });
      expect(plain.body.data.every((r: any) => !('serial' in r))).to.equal(true);
      expect(JSON.stringify(plain.body)).to.not.include('SN-');
      const full = await s.api('GET', `${W}?limit=100`, { key: sensitiveReader });
      expect(full.body.data.find((r: any) => r.name === 'Serial two').serial).to.equal('SN-2000');
    });

    it('cannot be filtered on without the sensitive scope', async () => {
      const res = await s.api('GET', `${W}?serial=SN-2000`, { key: reader });
      expect(res.status).to.equal(403);
      expect(res.body.error).to.equal('forbidden');
      const ok = await s.api('GET', `${W}?serial=SN-2000`, { key: sensitiveReader });
      expect(ok.body.data.map((r: any) => r.name)).to.deep.equal(['Serial two']);
    });

    it('cannot be sorted on without the sensitive scope (the order and the cursor would reveal it)', async () => {
      const res = await s.api('GET', `${W}?sort=-serial`, { key: reader });
      expect(res.status, JSON.stringify(res.body)).to.equal(403);
      expect(res.body.error).to.equal('forbidden');
      const ok = await s.api('GET', `${W}?sort=-serial&serial[like]=SN-&limit=2`, { key: sensitiveReader });
      expect(ok.status, JSON.stringify(ok.body)).to.equal(200);
      expect(ok.body.data.map((r: any) => r.serial)).to.deep.equal(['SN-3000', 'SN-2000']);
    });

    it('is not matched by ?search= without the sensitive scope', async () => {
      const res = await s.api('GET', `${W}?search=SN-2000`, { key: reader });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body.data).to.deep.equal([]);
      expect(res.body.total_count).to.equal(0);
      // Other searchable fields still match.
      const byName = await s.api('GET', `${W}?search=Serial two`, { key: reader });
      expect(byName.body.data.map((r: any) => r.name)).to.deep.equal(['Serial two']);
      const ok = await s.api('GET', `${W}?search=SN-2000`, { key: sensitiveReader });
      expect(ok.body.data.map((r: any) => r.name)).to.deep.equal(['Serial two']);
    });
  });

  describe('schema sync', () => {
    it('plans nothing for an unchanged definition set', async () => {
      expect(await planSchemaSync(s.rt.db, s.rt.registry.all())).to.deep.equal([]);
    });

    it('never drops: fewer fields or a missing definition plan no step', async () => {
      const fewerDir = mkdtempSync(path.join(tmpdir(), 'emr-widgets-'));
      dirs.push(fewerDir);
      writeFileSync(
        path.join(fewerDir, 'widgets.ts'),
        `import { defineEntity } from ${JSON.stringify(DEFINE_URL)};
export default defineEntity({ name: 'widget', path: 'widgets', table: 'widgets', scope: 'widgets', tenant: true, defaultSort: 'name',
  fields: { name: { type: 'string', required: true, sort: true } } });
`,
      );
      const fewer = new Registry([...systemDefinitions, ...(await loadDefinitionDirs([...DEFAULT_DEFINITION_DIRS, fewerDir]))]);
      expect(await planSchemaSync(s.rt.db, fewer.all())).to.deep.equal([]);
      const without = new Registry([...systemDefinitions, ...(await loadDefinitionDirs(DEFAULT_DEFINITION_DIRS))]);
      expect(await planSchemaSync(s.rt.db, without.all())).to.deep.equal([]);
    });

    it('adds a new field\'s column on the next start, keeping every row', async () => {
      const before = await s.rt.db.knex('widgets').orderBy('id').select('*');
      expect(before.length).to.be.greaterThan(4);
      const v2 = writeWidgetDefinition(
        `\n    weight: { type: 'number', min: 0, filter: true, sort: true, description: 'Weight in grams.' },`,
        `\n  indexes: [{ columns: ['weight'] }],`,
      );
      dirs.push(v2);
      // Start again on the same database with the changed definition.
      const rt2 = await createRuntime(s.rt.config, {
        definitionDirs: [...DEFAULT_DEFINITION_DIRS, v2],
        logger: pino({ level: 'silent' }),
        redisPrefix: s.rt.redisPrefix,
      });
      const http2 = createHttpApp(rt2);
      try {
        const steps = rt2.syncSteps;
        expect(steps.length).to.be.greaterThan(0);
        for (const step of steps) {
          expect(['add_column', 'create_index'], JSON.stringify(step)).to.include(step.kind);
          expect(step.table).to.equal('widgets');
          expect(step.sql).to.not.match(/\b(drop|alter\s+column|rename)\b/i);
        }
        expect(steps.filter((st) => st.kind === 'add_column').map((st) => st.name)).to.deep.equal(['weight']);
        expect(steps.some((st) => st.kind === 'create_index' && st.sql.includes('"weight"'))).to.equal(true);

        const after = await rt2.db.knex('widgets').orderBy('id').select('*');
        expect(after.map((r: any) => ({ ...r, weight: undefined }))).to.deep.equal(before.map((r: any) => ({ ...r, weight: undefined })));
        expect(after.every((r: any) => r.weight === null)).to.equal(true);

        // The new field works at once through the API of the new start.
        const { url } = await http2.listen(0, '127.0.0.1');
        const k = (await createApiKey(rt2, { orgSlugs: [ORG], partnerName: 'Test Partner', scopes: ['widgets:write'] })).key;
        const call = async (method: string, p: string, body?: unknown) => {
          const res = await fetch(`${url}${p}`, { method, headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
          return { status: res.status, body: await res.json() as any };
        };
        const old = before.find((r: any) => r.name === 'Alpha');
        const patched = await call('PATCH', `${W}/${old.id}`, { weight: 2.5 });
        expect(patched.status, JSON.stringify(patched.body)).to.equal(200);
        expect(patched.body.data).to.include({ name: 'Alpha', size: 1, color: 'red', weight: 2.5 });
        const heavy = await call('GET', `${W}?weight[gte]=1`);
        expect(heavy.body.data.map((r: any) => r.name)).to.deep.equal(['Alpha']);
        const all = await call('GET', `${W}?limit=100`);
        expect(all.body.total_count).to.equal(before.filter((r: any) => r.deleted_at === null && r.org_id === old.org_id).length);

        // A third start with the same definitions has nothing left to do.
        expect(await planSchemaSync(rt2.db, rt2.registry.all())).to.deep.equal([]);
      } finally {
        await http2.close();
        await rt2.close();
      }
    });
  });
});
