import { expect } from 'chai';
import { definePlugin } from '../../app/core/plugin.js';
import { AppError } from '../../app/core/errors.js';
import { setupApi, type Fixture } from '../support/api-fixtures.js';
import { startTestServer, type TestServer } from '../support/server.js';

/** Patient status is marked as owned by the `transition-status` action (definitions/patients.ts). */
const lifecycle = definePlugin({
  name: 'patient-lifecycle-test',
  actions: [{
    resource: 'patient', name: 'transition-status', on: 'record', summary: 'Move a patient to another status',
    input: { properties: { status: { type: 'string', enum: ['active', 'inactive'] } }, required: ['status'] },
    errors: ['invalid_transition'],
    run: ({ current, input }) => {
      if (current!.status === input.status) throw new AppError('invalid_transition', `The patient is already ${input.status}`);
      return { changes: { status: input.status } };
    },
  }],
});

describe('a field owned by an action (changedBy)', () => {
  let f: Fixture;
  let s: TestServer;

  before(async () => {
    // Both servers leave plugins/patient-chart out: one has no owner of status, the other this test's.
    f = await setupApi({ withoutPlugins: ['patient-chart'] });
    s = await startTestServer({ plugins: [lifecycle], withoutPlugins: ['patient-chart'] });
  });
  after(async () => {
    await f?.s.close();
    await s?.close();
  });

  it('is still written by PATCH while no plugin provides the action', async () => {
    const p = (await f.s.api('POST', `${f.base}/patients`, { key: f.key, body: { first_name: 'Ada', last_name: 'Byron' } })).body.data;
    const res = await f.s.api('PATCH', `${f.base}/patients/${p.id}`, { key: f.key, body: { status: 'inactive', base_version: 1 } });
    expect(res.status).to.equal(200);
    expect(res.body.data.status).to.equal('inactive');
  });

  it('is refused in create and update once the action exists, and the action changes it', async () => {
    const org = await s.createOrg();
    const key = (await s.createKey({ orgs: [org.slug], scopes: ['patients:write'] })).key;
    const base = `/api/v1/${org.slug}/patients`;
    const refusedCreate = await s.api('POST', base, { key, body: { first_name: 'Ada', last_name: 'Byron', status: 'inactive' } });
    expect(refusedCreate.status).to.equal(400);
    expect(refusedCreate.body.details).to.deep.equal([{ path: '/body/status', message: 'must be one of active, prospective on create; it is changed with POST …/patients/{id}/transition-status' }]);
    // The definition's createValues still let a create start the record in one of them.
    const prospect = await s.api('POST', base, { key, body: { first_name: 'Ada', last_name: 'Byron', status: 'prospective' } });
    expect(prospect.status, JSON.stringify(prospect.body)).to.equal(201);
    expect(prospect.body.data.status).to.equal('prospective');
    const p = (await s.api('POST', base, { key, body: { first_name: 'Ada', last_name: 'Byron' } })).body.data;
    const refusedPatch = await s.api('PATCH', `${base}/${p.id}`, { key, body: { status: 'inactive', base_version: 1 } });
    expect(refusedPatch.status).to.equal(400);
    expect(refusedPatch.body.details[0].path).to.equal('/body/status');
    const moved = await s.api('POST', `${base}/${p.id}/transition-status`, { key, body: { status: 'inactive' } });
    expect(moved.status, JSON.stringify(moved.body)).to.equal(200);
    expect(moved.body.data).to.include({ status: 'inactive', version: 2 });
    const again = await s.api('POST', `${base}/${p.id}/transition-status`, { key, body: { status: 'inactive' } });
    expect(again.status).to.equal(422);
    expect(again.body.error).to.equal('invalid_transition');
  });
});
