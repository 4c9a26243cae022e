import { expect } from 'chai';
import { pino } from 'pino';
import { systemContext } from '../../app/auth/system-context.js';
import { defineEntity } from '../../app/core/define.js';
import { definePlugin } from '../../app/core/plugin.js';
import type { EntityDefinition, FieldDefinition } from '../../app/core/types.js';
import { createHttpApp } from '../../app/http/server.js';
import { createRecord } from '../../app/operations/create.js';
import { createRuntime, type Runtime } from '../../app/runtime.js';
import { captureLogs } from '../support/log-capture.js';
import { startTestServer, type TestServer } from '../support/server.js';

const ORG = 'finishing';
const G = `/api/v1/${ORG}/gadgets`;

/**
 * A stand-in for data-defined schema (the custom patient fields to come): the allowed finishes of
 * a gadget are rows of a catalog that a practice admin edits, not code. Adding a row changes
 * validation and the OpenAPI document with no restart and no DDL.
 */
const finishCatalog = definePlugin({
  name: 'finish-catalog',
  definitions: [
    defineEntity({
      name: 'gadget', path: 'gadgets', table: 'gadgets', scope: 'gadgets', tenant: true, defaultSort: 'name',
      fields: {
        name: { type: 'string', required: true, maxLength: 100, sort: true },
        finish: { type: 'enum', values: ['raw'], default: 'raw', filter: true, description: 'How the gadget is finished.' },
      },
    }),
    defineEntity({
      name: 'finish-option', path: 'finish-options', table: 'finish_options', scope: 'finish-options', tenant: false, defaultSort: 'value',
      fields: {
        value: { type: 'string', required: true, unique: true, sort: true, filter: true, pattern: '^[a-z_]{1,30}$' },
        extra_field: { type: 'boolean', default: false, description: 'Asks for a field the table does not have (a change that would need DDL).' },
      },
    }),
  ],
  schema: {
    watch: ['finish-option'],
    async apply(definitions: EntityDefinition[], db) {
      const rows: { value: string; extra_field: unknown }[] = await db('finish_options').whereNull('deleted_at').orderBy('value').select('value', 'extra_field');
      return definitions.map((def) => {
        if (def.name !== 'gadget') return def;
        const fields: Record<string, FieldDefinition> = { ...def.fields, finish: { ...def.fields.finish, values: ['raw', ...rows.map((r) => r.value)] } };
        if (rows.some((r) => r.extra_field === true || r.extra_field === 1)) fields.gloss = { type: 'integer' };
        return { ...def, fields };
      });
    },
  },
});

async function within<T>(ms: number, probe: () => Promise<T | undefined>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return { value, ms: Date.now() - started };
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const finishEnum = (doc: any): string[] => doc.components.schemas.Gadget.properties.finish.enum.filter((v: unknown) => v !== null);

describe('schema generations: data-defined schema changes while running', () => {
  let s: TestServer;
  let key: string;
  let other: Runtime;
  let otherUrl: string;
  let closeOther: () => Promise<void>;

  before(async () => {
    s = await startTestServer({ plugins: [finishCatalog], env: { SCHEMA_POLL_MS: '100' } });
    await s.createOrg(ORG);
    key = (await s.createKey({ orgs: [ORG], scopes: ['gadgets:write', 'finish-options:write'], rateLimit: 100000 })).key;
    // A second process on the same database (and Redis prefix): it learns of changes only through
    // the database's commit signal or Redis, never through this process's memory.
    other = await createRuntime(s.rt.config, { plugins: [finishCatalog], redisPrefix: s.rt.redisPrefix, logger: pino({ level: 'silent' }) });
    const http = createHttpApp(other);
    otherUrl = (await http.listen(0, '127.0.0.1')).url;
    closeOther = async () => {
      await http.close();
      await other.close();
    };
  });
  after(async () => {
    await closeOther?.();
    await s?.close();
  });

  it('switches at once in the process that made the change, and within a second in another', async () => {
    const refused = await s.api('POST', G, { key, body: { name: 'Lamp', finish: 'brushed' } });
    expect(refused.status).to.equal(400);
    expect(refused.body.details[0].path).to.equal('/body/finish');
    const before = s.rt.schema.version;
    expect(finishEnum((await s.api('GET', '/api/openapi.json')).body)).to.deep.equal(['raw']);

    const option = await s.api('POST', '/api/v1/finish-options', { key, body: { value: 'brushed' } });
    expect(option.status, JSON.stringify(option.body)).to.equal(201);
    expect(s.rt.schema.version).to.equal(before + 1);
    const accepted = await s.api('POST', G, { key, body: { name: 'Lamp', finish: 'brushed' } });
    expect(accepted.status, JSON.stringify(accepted.body)).to.equal(201);
    expect(finishEnum((await s.api('GET', '/api/openapi.json')).body)).to.deep.equal(['raw', 'brushed']);

    const seen = await within(1000, async () => {
      const doc = await (await fetch(`${otherUrl}/api/openapi.json`)).json();
      return finishEnum(doc).includes('brushed') ? true : undefined;
    });
    expect(seen.ms).to.be.below(1000);
    const res = await fetch(`${otherUrl}${G}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Vase', finish: 'brushed' }) });
    expect(res.status).to.equal(201);
  });

  it('lets an operation that started on a generation finish on it', async () => {
    const org = (await s.rt.db.knex('organizations').where({ slug: ORG }).first())!;
    const ctx = systemContext(s.rt, org);
    const pinned = { ...ctx, schema: s.rt.schema };
    expect((await s.api('POST', '/api/v1/finish-options', { key, body: { value: 'matte' } })).status).to.equal(201);
    expect(s.rt.schema.version).to.equal(pinned.schema.version + 1);
    // The current generation accepts the new finish; the pinned one still validates by its own schema.
    expect((await createRecord(s.rt, { resource: 'gadget', ctx, body: { name: 'Bowl', finish: 'matte' } })).finish).to.equal('matte');
    let error: any;
    try {
      await createRecord(s.rt, { resource: 'gadget', ctx: pinned, body: { name: 'Cup', finish: 'matte' } });
    } catch (err) {
      error = err;
    }
    expect(error?.code).to.equal('validation_error');
    expect(error.details[0].path).to.equal('/body/finish');
  });

  it('builds no new generation when the watched rows change nothing in the definitions', async () => {
    const version = s.rt.schema.version;
    const list = await s.api('GET', '/api/v1/finish-options?value=brushed', { key });
    const brushed = list.body.data[0];
    // An update that leaves the values alone (the set of finishes is unchanged).
    expect((await s.api('PATCH', `/api/v1/finish-options/${brushed.id}`, { key, body: { value: 'brushed', extra_field: false } })).status).to.equal(200);
    expect(s.rt.schema.version).to.equal(version);
  });
  it('refuses a data-defined change that would need DDL, and keeps serving the current generation', async () => {
    const version = s.rt.schema.version;
    const res = await s.api('POST', '/api/v1/finish-options', { key, body: { value: 'glossy', extra_field: true } });
    expect(res.status).to.equal(201);
    expect(s.rt.schema.version).to.equal(version);
    expect(s.rt.schema.registry.get('gadget').fields).to.not.have.property('gloss');
    expect((await s.api('POST', G, { key, body: { name: 'Plate', finish: 'raw' } })).status).to.equal(201);
  });

});

describe('a data-defined schema source that fails', () => {
  it('keeps the current generation and logs an error code, never the failing statement and its values', async () => {
    let failing = false;
    const fragile = definePlugin({
      name: 'fragile-catalog',
      definitions: [defineEntity({ name: 'fragile-option', path: 'fragile-options', table: 'fragile_options', scope: 'fragile-options', tenant: false, fields: { value: { type: 'string', required: true } } })],
      schema: {
        watch: ['fragile-option'],
        async apply(definitions, db) {
          // A query whose error message quotes its bound value, as a stored name would be.
          if (failing) await db('no_such_table').where('last_name', 'Ravenscroft-Quill').first();
          return definitions;
        },
      },
    });
    const logs = captureLogs();
    const s = await startTestServer({ plugins: [fragile], logger: logs.logger });
    try {
      const key = (await s.createKey({ orgs: [(await s.createOrg()).slug], scopes: ['fragile-options:write'] })).key;
      const version = s.rt.schema.version;
      failing = true;
      expect((await s.api('POST', '/api/v1/fragile-options', { key, body: { value: 'x' } })).status).to.equal(201);
      expect(s.rt.schema.version).to.equal(version);
      const refused = logs.entries().find((e) => e.code === 'schema_generation_refused');
      expect(refused, 'the refusal is logged').to.not.equal(undefined);
      expect(logs.lines().join('\n')).to.not.contain('Ravenscroft');
    } finally {
      await s.close();
    }
  });
});
