import { expect } from 'chai';
import { buildAbility } from '../../app/auth/ability.js';
import { defineEntity } from '../../app/core/define.js';
import { AppError } from '../../app/core/errors.js';
import { archiveRecord, restoreRecord } from '../../app/operations/archive.js';
import type { OperationContext, Org } from '../../app/operations/context.js';
import { createRecord } from '../../app/operations/create.js';
import { getRecord } from '../../app/operations/get.js';
import { listRecords } from '../../app/operations/list.js';
import { updateRecord } from '../../app/operations/update.js';
import { MISSING_ID } from '../support/api-fixtures.js';
import { startTestServer, type ApiResponse, type TestServer } from '../support/server.js';

// Operations are the one door: every rule is the operation's, so calling one directly (as plugins,
// jobs, the CLI and seeding do) fails exactly as the same input does over HTTP: the same code,
// status, message and details. And a caller that is not HTTP cannot skip a rule: whatever it
// passes, a bad input is the AppError, never a TypeError and never a silently widened query.

type Row = Record<string, any>;

/** A tenant resource with a sensitive field that is filterable and sortable. */
const probeDefinition = defineEntity({
  name: 'direct-probe',
  path: 'direct-probes',
  table: 'direct_probes',
  scope: 'direct-probes',
  tenant: true,
  description: 'A resource declared by test/kernel/operations-direct.test.ts.',
  defaultSort: 'label',
  fields: {
    label: { type: 'string', required: true, minLength: 1, maxLength: 100, filter: true, sort: true },
    secret: { type: 'string', maxLength: 50, sensitive: true, filter: true, sort: true },
  },
});

interface Outcome {
  status: number;
  code: string;
  message: string;
  details?: unknown[];
}

interface Expected {
  status: number;
  code: string;
  /** The JSON paths of the details, in order (none when absent). */
  paths?: string[];
}

/** The error an HTTP answer carries, in the shape of an AppError. */
function fromHttp(res: ApiResponse): Outcome {
  expect(res.status, `HTTP answered ${res.status}: ${JSON.stringify(res.body)}`).to.be.at.least(400);
  const out: Outcome = { status: res.status, code: res.body?.error, message: res.body?.message };
  if (res.body?.details !== undefined) out.details = res.body.details;
  return out;
}

/** The AppError an operation throws; anything else (a result, a TypeError) fails the test. */
async function fromOperation(run: () => Promise<unknown>): Promise<Outcome> {
  let result: unknown;
  try {
    result = await run();
  } catch (err) {
    expect(err, `the operation threw ${(err as Error)?.stack ?? String(err)}`).to.be.instanceOf(AppError);
    const e = err as AppError;
    const out: Outcome = { status: e.status, code: e.code, message: e.message };
    // The envelope leaves out an empty details list.
    if (e.details?.length) out.details = JSON.parse(JSON.stringify(e.details));
    return out;
  }
  expect.fail(`the operation succeeded: ${JSON.stringify(result)}`);
}

/** Query-string form of a plain query object: `[in]` lists joined with commas as readQueryString splits them. */
function qs(query: Record<string, unknown>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) params.append(k, Array.isArray(v) ? v.join(',') : String(v));
  const text = params.toString();
  return text ? `?${text}` : '';
}

describe('operations called directly answer as HTTP does', () => {
  let s: TestServer;
  let org: Org;
  let other: Org;
  let base: string;
  let allKey: string;
  let readKey: string;
  /** The context HTTP builds for the `*` key (see operationContext in app/http/routes.ts). */
  let all: OperationContext;
  /** patients:read + direct-probes:read, no sensitive and no write scope. */
  let reader: OperationContext;
  let patient: Row;
  let foreignPatient: Row;

  /** Builds an operation context the way HTTP does: the key's actor, its ability and the path's org. */
  const contextFor = (keyId: string, scopes: string[], orgIds: string[], where: Org | undefined): OperationContext => ({
    actor: { type: 'api_key', id: keyId, label: 'Test Partner' },
    ability: buildAbility(s.rt.registry, { scopes, orgIds }),
    org: where,
  });

  /** Runs the same input over HTTP and through the operation; both must fail alike, as expected. */
  async function same(http: () => Promise<ApiResponse>, direct: () => Promise<unknown>, expected: Expected): Promise<Outcome> {
    const viaHttp = fromHttp(await http());
    const viaOperation = await fromOperation(direct);
    expect(viaOperation, 'the operation fails as HTTP does').to.deep.equal(viaHttp);
    expect({ status: viaHttp.status, code: viaHttp.code }).to.deep.equal({ status: expected.status, code: expected.code });
    const paths = ((viaHttp.details ?? []) as { path: string }[]).map((d) => d.path);
    expect(paths, JSON.stringify(viaHttp.details)).to.deep.equal(expected.paths ?? []);
    return viaHttp;
  }

  const listBoth = (resource: 'patient' | 'direct-probe', query: Record<string, unknown>, expected: Expected, as: 'all' | 'reader' = 'all') =>
    same(
      () => s.api('GET', `${base}/${resource === 'patient' ? 'patients' : 'direct-probes'}${qs(query)}`, { key: as === 'all' ? allKey : readKey }),
      () => listRecords(s.rt, { resource, ctx: as === 'all' ? all : reader, query: { ...query } }),
      expected,
    );

  before(async () => {
    s = await startTestServer({ extraDefinitions: [probeDefinition] });
    org = await s.createOrg();
    other = await s.createOrg();
    base = `/api/v1/${org.slug}`;
    const a = await s.createKey({ orgs: [org.slug], scopes: ['*'], rateLimit: 1_000_000 });
    const r = await s.createKey({ orgs: [org.slug], scopes: ['patients:read', 'direct-probes:read'], rateLimit: 1_000_000 });
    allKey = a.key;
    readKey = r.key;
    all = contextFor(a.id, ['*'], [org.id], org);
    reader = contextFor(r.id, ['patients:read', 'direct-probes:read'], [org.id], org);
    patient = await createRecord(s.rt, { resource: 'patient', ctx: all, body: { first_name: 'Ada', last_name: 'Direct' } });
    const foreignCtx = contextFor(a.id, ['*'], [other.id], other);
    foreignPatient = await createRecord(s.rt, { resource: 'patient', ctx: foreignCtx, body: { first_name: 'Eve', last_name: 'Elsewhere' } });
    await createRecord(s.rt, { resource: 'direct-probe', ctx: all, body: { label: 'one', secret: 's1' } });
  });

  after(async () => {
    await s?.close();
  });

  describe('list', () => {
    const bad = (paths: string[]): Expected => ({ status: 400, code: 'validation_error', paths });

    it('an unknown query parameter', async () => {
      await listBoth('patient', { nickname: 'x' }, bad(['/query/nickname']));
    });

    it('an unknown filter operator', async () => {
      await listBoth('patient', { 'status[foo]': 'active' }, bad(['/query/status[foo]']));
      await listBoth('patient', { 'first_name[gt]': 'A' }, bad(['/query/first_name[gt]']));
    });

    it('a filter on a field that is not filterable', async () => {
      await listBoth('patient', { middle_name: 'x' }, bad(['/query/middle_name']));
    });

    it('a filter value of the wrong type', async () => {
      await listBoth('patient', { date_of_birth: 'yesterday' }, bad(['/query/date_of_birth']));
      await listBoth('patient', { receives_email: 'maybe' }, bad(['/query/receives_email']));
      await listBoth('patient', { 'status[in]': ['active', 'zombie'] }, bad(['/query/status[in]/1']));
      await listBoth('patient', { primary_provider_id: 'not-a-uuid' }, bad(['/query/primary_provider_id']));
    });

    it('a sort on a field that is not sortable, or unknown', async () => {
      await listBoth('patient', { sort: 'middle_name' }, bad(['/query/sort']));
      await listBoth('patient', { sort: '-nickname' }, bad(['/query/sort']));
    });

    it('limit over the maximum, limit 0, a negative offset', async () => {
      await listBoth('patient', { limit: '101' }, bad(['/query/limit']));
      await listBoth('patient', { limit: '0' }, bad(['/query/limit']));
      await listBoth('patient', { offset: '-1' }, bad(['/query/offset']));
      await listBoth('patient', { page_size: '1000', page: '1' }, bad(['/query/page_size']));
    });

    it('a malformed after cursor, and one made for another sort', async () => {
      await listBoth('patient', { after: 'not-a-cursor' }, { status: 400, code: 'invalid_cursor', paths: ['/query/after'] });
      const page = await listRecords(s.rt, { resource: 'patient', ctx: all, query: { limit: '1' } });
      expect(page.page_info.end_cursor).to.be.a('string');
      await listBoth('patient', { after: page.page_info.end_cursor, sort: '-date_of_birth' }, { status: 400, code: 'invalid_cursor', paths: ['/query/after'] });
    });

    it('an unknown include relation and unknown fields', async () => {
      await listBoth('patient', { include: 'nope' }, bad(['/query/include']));
      await listBoth('patient', { fields: 'first_name,nope' }, bad(['/query/fields']));
    });

    it('a filter or sort on a sensitive field without the sensitive scope is forbidden', async () => {
      await listBoth('direct-probe', { secret: 's1' }, { status: 403, code: 'forbidden', paths: ['/query/secret'] }, 'reader');
      await listBoth('direct-probe', { 'secret[in]': ['s1', 's2'] }, { status: 403, code: 'forbidden', paths: ['/query/secret'] }, 'reader');
      await listBoth('direct-probe', { sort: '-secret' }, { status: 403, code: 'forbidden', paths: ['/query/sort'] }, 'reader');
      // With the scope both work, and find the same row.
      const res = await s.api('GET', `${base}/direct-probes?secret=s1`, { key: allKey });
      expect(res.status).to.equal(200);
      const direct = await listRecords(s.rt, { resource: 'direct-probe', ctx: all, query: { secret: 's1' } });
      expect(direct.data.map((r) => r.id)).to.deep.equal(res.body.data.map((r: Row) => r.id)).and.have.length(1);
    });

    it('several problems at once, reported alike', async () => {
      const out = await listBoth('patient', { nickname: 'x', limit: '0', offset: '-5' }, bad(['/query/nickname', '/query/limit', '/query/offset']));
      expect(out.details).to.have.length(3);
    });
  });

  describe('get', () => {
    it('an id that is not a UUID is invalid_id at /path/id', async () => {
      await same(
        () => s.api('GET', `${base}/patients/not-a-uuid`, { key: allKey }),
        () => getRecord(s.rt, { resource: 'patient', ctx: all, id: 'not-a-uuid' }),
        { status: 400, code: 'invalid_id', paths: ['/path/id'] },
      );
    });

    it("another organization's record is not_found", async () => {
      await same(
        () => s.api('GET', `${base}/patients/${foreignPatient.id}`, { key: allKey }),
        () => getRecord(s.rt, { resource: 'patient', ctx: all, id: foreignPatient.id }),
        { status: 404, code: 'not_found' },
      );
    });

    it('an unknown query parameter, include or field', async () => {
      for (const [query, path] of [[{ foo: '1' }, '/query/foo'], [{ include: 'nope' }, '/query/include'], [{ fields: 'nope' }, '/query/fields']] as const) {
        await same(
          () => s.api('GET', `${base}/patients/${patient.id}${qs(query)}`, { key: allKey }),
          () => getRecord(s.rt, { resource: 'patient', ctx: all, id: patient.id, query: { ...query } }),
          { status: 400, code: 'validation_error', paths: [path] },
        );
      }
    });
  });

  describe('create', () => {
    const createBoth = (body: Row, expected: Expected, as: 'all' | 'reader' = 'all') =>
      same(
        () => s.api('POST', `${base}/patients`, { key: as === 'all' ? allKey : readKey, body }),
        () => createRecord(s.rt, { resource: 'patient', ctx: as === 'all' ? all : reader, body: { ...body } }),
        expected,
      );
    const bad = (paths: string[]): Expected => ({ status: 400, code: 'validation_error', paths });

    it('an unknown field', async () => {
      await createBoth({ first_name: 'A', last_name: 'B', nickname: 'x' }, bad(['/body/nickname']));
    });

    it('a read-only field (id, version, created_at, a computed one)', async () => {
      await createBoth({ first_name: 'A', last_name: 'B', id: MISSING_ID }, bad(['/body/id']));
      await createBoth({ first_name: 'A', last_name: 'B', version: 7 }, bad(['/body/version']));
      await createBoth({ first_name: 'A', last_name: 'B', created_at: '2020-01-01T00:00:00.000Z' }, bad(['/body/created_at']));
      await createBoth({ first_name: 'A', last_name: 'B', scheduling_restricted: true }, bad(['/body/scheduling_restricted']));
    });

    it('a missing required field', async () => {
      await createBoth({ last_name: 'B' }, bad(['/body/first_name']));
    });

    it('an own __proto__ key, as JSON.parse makes it, is refused and changes no prototype', async () => {
      const body = JSON.parse('{"first_name":"A","last_name":"B","__proto__":{"polluted":true}}');
      try {
        await createRecord(s.rt, { resource: 'patient', ctx: all, body });
        expect.fail('created');
      } catch (err) {
        expect((err as AppError).code).to.equal('validation_error');
        expect((err as AppError).details?.map((d) => d.path)).to.deep.equal(['/body/__proto__']);
      }
      expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    });

    it('a value of the wrong type', async () => {
      await createBoth({ first_name: 5, last_name: 'B' }, bad(['/body/first_name']));
      await createBoth({ first_name: 'A', last_name: 'B', receives_sms: 'yes' }, bad(['/body/receives_sms']));
      await createBoth({ first_name: 'A', last_name: 'B', ask_to_arrive_early_mins: 500 }, bad(['/body/ask_to_arrive_early_mins']));
    });

    it('a reference to a record that does not exist is unprocessable', async () => {
      await createBoth({ first_name: 'A', last_name: 'B', primary_provider_id: MISSING_ID }, { status: 422, code: 'unprocessable', paths: ['/body/primary_provider_id'] });
    });

    it('a key without the write scope is forbidden', async () => {
      await createBoth({ first_name: 'A', last_name: 'B' }, { status: 403, code: 'forbidden' }, 'reader');
    });

    it('a sensitive field without the sensitive scope is forbidden', async () => {
      const w = await s.createKey({ orgs: [org.slug], scopes: ['patients:write'], rateLimit: 1_000_000 });
      const writer = contextFor(w.id, ['patients:write'], [org.id], org);
      const body = { first_name: 'A', last_name: 'B', social_security_number: '123' };
      await same(
        () => s.api('POST', `${base}/patients`, { key: w.key, body }),
        () => createRecord(s.rt, { resource: 'patient', ctx: writer, body: { ...body } }),
        { status: 403, code: 'forbidden', paths: ['/body/social_security_number'] },
      );
    });
  });

  describe('update, archive and restore', () => {
    const patchBoth = (id: string, body: Row, expected: Expected, as: 'all' | 'reader' = 'all') =>
      same(
        () => s.api('PATCH', `${base}/patients/${id}`, { key: as === 'all' ? allKey : readKey, body }),
        () => updateRecord(s.rt, { resource: 'patient', ctx: as === 'all' ? all : reader, id, body: { ...body } }),
        expected,
      );

    it('a stale base_version is a version_conflict naming the current version', async () => {
      const p = await createRecord(s.rt, { resource: 'patient', ctx: all, body: { first_name: 'Stale', last_name: 'Version' } });
      const v2 = await updateRecord(s.rt, { resource: 'patient', ctx: all, id: p.id as string, body: { base_version: 1, middle_name: 'M' } });
      expect(v2.version).to.equal(2);
      const out = await patchBoth(p.id as string, { base_version: 1, middle_name: 'N' }, { status: 409, code: 'version_conflict', paths: ['/body/base_version'] });
      expect(out.details).to.deep.equal([{ path: '/body/base_version', message: 'is stale', current_version: 2, base_version: 1 }]);
      const stored = await getRecord(s.rt, { resource: 'patient', ctx: all, id: p.id as string });
      expect({ version: stored.version, middle_name: stored.middle_name }).to.deep.equal({ version: 2, middle_name: 'M' });
    });

    it('a patient update without base_version is refused (patients require it)', async () => {
      await patchBoth(patient.id, { middle_name: 'X' }, { status: 400, code: 'validation_error', paths: ['/body/base_version'] });
    });

    it('an unknown field, a read-only field, a wrong type', async () => {
      await patchBoth(patient.id, { base_version: 1, nickname: 'x' }, { status: 400, code: 'validation_error', paths: ['/body/nickname'] });
      await patchBoth(patient.id, { base_version: 1, version: 9 }, { status: 400, code: 'validation_error', paths: ['/body/version'] });
      await patchBoth(patient.id, { base_version: '1', first_name: 'A' }, { status: 400, code: 'validation_error', paths: ['/body/base_version'] });
    });

    it("another organization's record, a non-UUID id, a key without the write scope", async () => {
      await patchBoth(foreignPatient.id, { base_version: 1, middle_name: 'X' }, { status: 404, code: 'not_found' });
      await patchBoth('nope', { base_version: 1, middle_name: 'X' }, { status: 400, code: 'invalid_id', paths: ['/path/id'] });
      await patchBoth(patient.id, { base_version: 1, middle_name: 'X' }, { status: 403, code: 'forbidden' }, 'reader');
      const stored = await getRecord(s.rt, { resource: 'patient', ctx: all, id: patient.id });
      expect(stored.version).to.equal(1);
    });

    it('archive of a missing id is not_found', async () => {
      await same(
        () => s.api('DELETE', `${base}/patients/${MISSING_ID}`, { key: allKey }),
        () => archiveRecord(s.rt, { resource: 'patient', ctx: all, id: MISSING_ID }),
        { status: 404, code: 'not_found' },
      );
      await same(
        () => s.api('POST', `${base}/patients/${MISSING_ID}/archive`, { key: allKey }),
        () => archiveRecord(s.rt, { resource: 'patient', ctx: all, id: MISSING_ID }),
        { status: 404, code: 'not_found' },
      );
    });

    it('restore of a record that is not archived is unprocessable', async () => {
      await same(
        () => s.api('POST', `${base}/patients/${patient.id}/restore`, { key: allKey }),
        () => restoreRecord(s.rt, { resource: 'patient', ctx: all, id: patient.id }),
        { status: 422, code: 'unprocessable', paths: ['/path/id'] },
      );
    });

    it('archive with a key without the write scope is forbidden', async () => {
      await same(
        () => s.api('DELETE', `${base}/patients/${patient.id}`, { key: readKey }),
        () => archiveRecord(s.rt, { resource: 'patient', ctx: reader, id: patient.id }),
        { status: 403, code: 'forbidden' },
      );
      const stored = await getRecord(s.rt, { resource: 'patient', ctx: all, id: patient.id });
      expect(stored.deleted_at).to.equal(null);
    });
  });
});

describe('a caller that is not HTTP cannot skip a rule', () => {
  let s: TestServer;
  let org: Org;
  let other: Org;
  let all: OperationContext;
  let patient: Row;
  let foreignPatient: Row;

  const ctxFor = (scopes: string[], orgIds: string[], where: Org | undefined): OperationContext => ({
    actor: { type: 'system', id: 'direct-test', label: 'direct test' },
    ability: buildAbility(s.rt.registry, { scopes, orgIds }),
    org: where,
  });

  /** The call must fail with this AppError (never a TypeError, never a result). */
  async function refuses(run: () => Promise<unknown>, code: string, paths?: string[]): Promise<Outcome> {
    const out = await fromOperation(run);
    expect(out.code, JSON.stringify(out)).to.equal(code);
    if (paths) expect(((out.details ?? []) as { path: string }[]).map((d) => d.path)).to.deep.equal(paths);
    return out;
  }

  before(async () => {
    s = await startTestServer();
    org = await s.createOrg();
    other = await s.createOrg();
    all = ctxFor(['*'], [org.id], org);
    patient = await createRecord(s.rt, { resource: 'patient', ctx: all, body: { first_name: 'Ada', last_name: 'Typed' } });
    foreignPatient = await createRecord(s.rt, { resource: 'patient', ctx: ctxFor(['*'], [other.id], other), body: { first_name: 'Eve', last_name: 'Elsewhere' } });
  });

  after(async () => {
    await s?.close();
  });

  const list = (query: Record<string, unknown>, ctx = all) => () => listRecords(s.rt, { resource: 'patient', ctx, query });

  it('typed query values obey the same bounds as strings from a URL', async () => {
    await refuses(list({ limit: 1000 }), 'validation_error', ['/query/limit']);
    await refuses(list({ limit: 0 }), 'validation_error', ['/query/limit']);
    await refuses(list({ limit: 2.5 }), 'validation_error', ['/query/limit']);
    await refuses(list({ offset: -1 }), 'validation_error', ['/query/offset']);
    await refuses(list({ page_size: 101, page: 1 }), 'validation_error', ['/query/page_size']);
    // And typed values that are within them work.
    const page = await listRecords(s.rt, { resource: 'patient', ctx: all, query: { limit: 1, offset: 0, receives_email: false } });
    expect(page.limit).to.equal(1);
    expect(page.data.map((r) => r.id)).to.deep.equal([patient.id]);
  });

  it('unknown parameters and fields that are not filterable are refused, sensitive ones included', async () => {
    await refuses(list({ ssn: 'x' }), 'validation_error', ['/query/ssn']);
    await refuses(list({ social_security_number: '123' }), 'validation_error', ['/query/social_security_number']);
    await refuses(list({ org_id: other.id }), 'validation_error', ['/query/org_id']);
    await refuses(list({ deleted_at: null }), 'validation_error', ['/query/deleted_at']);
  });

  it('values of the wrong shape are refused, not passed on to the query', async () => {
    await refuses(list({ sort: ['last_name'] }), 'validation_error', ['/query/sort']);
    await refuses(list({ include: { primary_provider: true } }), 'validation_error', ['/query/include']);
    await refuses(list({ 'status[in]': 'active' }), 'validation_error', ['/query/status[in]']);
    await refuses(list({ 'status[in]': [] }), 'validation_error', ['/query/status[in]']);
    await refuses(list({ status: ['active', 'inactive'] }), 'validation_error', ['/query/status']);
    await refuses(list({ first_name: { $ne: 'x' } }), 'validation_error', ['/query/first_name']);
    await refuses(list({ include_archived: 'yes' }), 'validation_error', ['/query/include_archived']);
    await refuses(list({ after: 12345 }), 'invalid_cursor', ['/query/after']);
    await refuses(list({ first_name: 'a\u0000b' }), 'validation_error', ['/query/first_name']);
  });

  it('a forged organization in the context reads nothing of it', async () => {
    // The ability is bound to `org`; a context naming another org cannot list or read there.
    const forged = { ...all, org: other };
    await refuses(list({}, forged), 'forbidden');
    await refuses(() => getRecord(s.rt, { resource: 'patient', ctx: forged, id: foreignPatient.id }), 'forbidden');
    await refuses(() => getRecord(s.rt, { resource: 'patient', ctx: all, id: foreignPatient.id }), 'not_found');
    // Nor write there.
    await refuses(() => createRecord(s.rt, { resource: 'patient', ctx: forged, body: { first_name: 'A', last_name: 'B' } }), 'forbidden');
    await refuses(() => updateRecord(s.rt, { resource: 'patient', ctx: forged, id: foreignPatient.id, body: { base_version: 1, middle_name: 'X' } }), 'forbidden');
    await refuses(() => archiveRecord(s.rt, { resource: 'patient', ctx: forged, id: foreignPatient.id }), 'forbidden');
    // A tenant operation without any organization is refused too.
    await refuses(list({}, { ...all, org: undefined }), 'forbidden');
    await refuses(() => createRecord(s.rt, { resource: 'patient', ctx: { ...all, org: undefined }, body: { first_name: 'A', last_name: 'B' } }), 'forbidden');
    const stored = await getRecord(s.rt, { resource: 'patient', ctx: ctxFor(['*'], [other.id], other), id: foreignPatient.id });
    expect({ version: stored.version, deleted_at: stored.deleted_at }).to.deep.equal({ version: 1, deleted_at: null });
  });

  it('ids of the wrong type are invalid_id', async () => {
    await refuses(() => getRecord(s.rt, { resource: 'patient', ctx: all, id: 42 as unknown as string }), 'invalid_id', ['/path/id']);
    await refuses(() => getRecord(s.rt, { resource: 'patient', ctx: all, id: undefined as unknown as string }), 'invalid_id', ['/path/id']);
    await refuses(() => archiveRecord(s.rt, { resource: 'patient', ctx: all, id: `${patient.id}' or 1=1 --` }), 'invalid_id', ['/path/id']);
  });

  it('write bodies: read-only fields, base_version and types are checked for typed callers too', async () => {
    await refuses(() => createRecord(s.rt, { resource: 'patient', ctx: all, body: { first_name: 'A', last_name: 'B', org_id: other.id } }), 'validation_error', ['/body/org_id']);
    await refuses(() => createRecord(s.rt, { resource: 'patient', ctx: all, body: { first_name: 'A', last_name: 'B', version: 3 } }), 'validation_error', ['/body/version']);
    await refuses(() => updateRecord(s.rt, { resource: 'patient', ctx: all, id: patient.id, body: { middle_name: 'X' } }), 'validation_error', ['/body/base_version']);
    await refuses(() => updateRecord(s.rt, { resource: 'patient', ctx: all, id: patient.id, body: { base_version: 1, deleted_at: null } }), 'validation_error', ['/body/deleted_at']);
    await refuses(() => updateRecord(s.rt, { resource: 'patient', ctx: all, id: patient.id, body: { base_version: 1, first_name: null } }), 'validation_error', ['/body/first_name']);
    const stored = await getRecord(s.rt, { resource: 'patient', ctx: all, id: patient.id });
    expect(stored.version).to.equal(1);
  });

  // HTTP refuses a body that is not a JSON object at /body (requestBody in app/http/routes.ts),
  // but a plugin, a job or the CLI may hand an operation anything.
  it('a null or missing body is an AppError, never a TypeError', async () => {
    await refuses(() => createRecord(s.rt, { resource: 'patient', ctx: all, body: null as unknown as Row }), 'validation_error', ['/body']);
    await refuses(() => updateRecord(s.rt, { resource: 'patient', ctx: all, id: patient.id, body: null as unknown as Row }), 'validation_error', ['/body']);
    // No body at all reads as an empty one, as over HTTP.
    await refuses(() => createRecord(s.rt, { resource: 'patient', ctx: all, body: undefined as unknown as Row }), 'validation_error', ['/body/first_name', '/body/last_name']);
    await refuses(() => updateRecord(s.rt, { resource: 'patient', ctx: all, id: patient.id, body: undefined as unknown as Row }), 'validation_error', ['/body/base_version']);
  });

  it('a body that is not an object is refused at /body, as over HTTP', async () => {
    const key = (await s.createKey({ orgs: [org.slug], scopes: ['*'], rateLimit: 1_000_000 })).key;
    const overHttp = fromHttp(await s.api('POST', `/api/v1/${org.slug}/patients`, { key, body: ['first_name'] }));
    expect(overHttp.details).to.deep.equal([{ path: '/body', message: 'must be a JSON object' }]);
    const direct = await fromOperation(() => createRecord(s.rt, { resource: 'patient', ctx: all, body: ['first_name'] as unknown as Row }));
    expect(direct, 'an array body fails as over HTTP').to.deep.equal(overHttp);
    for (const body of ['text', 42, ['A', 'B']]) {
      await refuses(() => createRecord(s.rt, { resource: 'patient', ctx: all, body: body as unknown as Row }), 'validation_error', ['/body']);
      await refuses(() => updateRecord(s.rt, { resource: 'patient', ctx: all, id: patient.id, body: body as unknown as Row }), 'validation_error', ['/body']);
    }
    const stored = await getRecord(s.rt, { resource: 'patient', ctx: all, id: patient.id });
    expect(stored.version).to.equal(1);
  });
});
