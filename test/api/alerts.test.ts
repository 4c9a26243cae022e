import { expect } from 'chai';
import { MISSING_ID, create, createPatient, detailPaths, expectError, ids, list, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

// Patient alerts (seed 001 §1.2, §2.5, §3.13): catalog defaults, the status lifecycle (disable,
// archive by status, bulk dismiss) and family-scoped alerts across a guarantor family (§3.12).

describe('Chart sub-resource: alerts', () => {
  let f: Fixture;
  let plain: Row;
  let familyKind: Row;
  let archivedKind: Row;
  let head: Row;
  let child: Row;
  let sibling: Row;
  let outsider: Row;

  before(async () => {
    f = await setupApi();
    plain = await create(f, 'patient-alert-definitions', { name: 'Latex allergy' });
    familyKind = await create(f, 'patient-alert-definitions', { name: 'Financial hold', default_scope: 'family', default_is_urgent: true });
    archivedKind = await create(f, 'patient-alert-definitions', { name: 'Old kind' });
    await f.s.api('POST', `${f.base}/patient-alert-definitions/${archivedKind.id}/archive`, { key: f.key });
    head = await createPatient(f, { first_name: 'Hal', last_name: 'Head' });
    child = await createPatient(f, { first_name: 'Cy', last_name: 'Head', responsible_party_id: head.id });
    sibling = await createPatient(f, { first_name: 'Sib', last_name: 'Head', responsible_party_id: head.id });
    outsider = await createPatient(f, { first_name: 'Out', last_name: 'Sider' });
  });

  after(async () => {
    await f.s.close();
  });

  const path = (p: Row) => `${f.base}/patients/${p.id}/alerts`;
  const post = (p: Row, body: Row) => f.s.api('POST', path(p), { key: f.key, body });
  const alert = async (p: Row, body: Row = {}) => {
    const res = await post(p, { alert_definition_id: plain.id, ...body });
    expect(res.status, JSON.stringify(res.body)).to.equal(201);
    return res.body.data as Row;
  };
  const act = (p: Row, id: string, action: string, body?: Row) => f.s.api('POST', `${path(p)}/${id}/${action}`, { key: f.key, body });

  describe('create', () => {
    it('takes scope and urgency from the catalog entry when left out, else patient and not urgent; starts active', async () => {
      const a = await alert(outsider);
      expect(a).to.include({ patient_id: outsider.id, alert_definition_id: plain.id, alert_scope: 'patient', is_urgent: false, status: 'active', version: 1 });
      expect(a.date_disabled).to.equal(null);
      expect(a.created_by).to.be.a('string').and.not.empty;
      expect(a).to.not.have.property('deleted_at');
      const fam = await alert(outsider, { alert_definition_id: familyKind.id });
      expect(fam).to.include({ alert_scope: 'family', is_urgent: true });
      const given = await alert(outsider, { alert_definition_id: familyKind.id, alert_scope: 'patient', is_urgent: false, disable_on: '2030-01-01', note: 'n' });
      expect(given).to.include({ alert_scope: 'patient', is_urgent: false, disable_on: '2030-01-01', note: 'n' });
    });

    it('refuses a bad alert_scope, a missing definition, status or date_disabled on create', async () => {
      const bad = await post(outsider, { alert_definition_id: plain.id, alert_scope: 'world' });
      expectError(bad, 400, 'validation_error');
      expect(detailPaths(bad)).to.deep.equal(['/body/alert_scope']);
      expect(detailPaths(await post(outsider, {}))).to.deep.equal(['/body/alert_definition_id']);
      const lifecycle = await post(outsider, { alert_definition_id: plain.id, status: 'archived', date_disabled: '2025-01-01T00:00:00Z' });
      expectError(lifecycle, 400, 'validation_error');
      expect(detailPaths(lifecycle).sort()).to.deep.equal(['/body/date_disabled', '/body/status']);
    });

    it('refuses an unknown or archived catalog entry (reference error) and answers 404 for an unknown patient', async () => {
      for (const id of [MISSING_ID, archivedKind.id]) {
        const res = await post(outsider, { alert_definition_id: id });
        expectError(res, 422, 'unprocessable');
        expect(detailPaths(res)).to.deep.equal(['/body/alert_definition_id']);
      }
      expectError(await f.s.api('POST', `${f.base}/patients/${MISSING_ID}/alerts`, { key: f.key, body: { alert_definition_id: plain.id } }), 404, 'not_found');
      expectError(await f.s.api('GET', `${f.base}/patients/${MISSING_ID}/alerts`, { key: f.key }), 404, 'not_found');
    });
  });

  describe('update', () => {
    it('changes scope, urgency, note, disable_on and status with base_version; a stale one is 409; the definition is fixed', async () => {
      const a = await alert(outsider);
      const url = `${path(outsider)}/${a.id}`;
      expectError(await f.s.api('PATCH', url, { key: f.key, body: { note: 'x' } }), 400, 'validation_error');
      const res = await f.s.api('PATCH', url, { key: f.key, body: { base_version: 1, alert_scope: 'family', is_urgent: true, note: 'changed', disable_on: '2031-02-03' } });
      expect(res.status).to.equal(200);
      expect(res.body.data).to.include({ alert_scope: 'family', is_urgent: true, note: 'changed', disable_on: '2031-02-03', version: 2 });
      expectError(await f.s.api('PATCH', url, { key: f.key, body: { base_version: 1, note: 'late' } }), 409, 'version_conflict');
      expectError(await f.s.api('PATCH', url, { key: f.key, body: { base_version: 2, status: 'gone' } }), 400, 'validation_error');
      expectError(await f.s.api('PATCH', url, { key: f.key, body: { base_version: 2, alert_scope: 'world' } }), 400, 'validation_error');
      expectError(await f.s.api('PATCH', url, { key: f.key, body: { base_version: 2, alert_definition_id: familyKind.id } }), 400, 'validation_error');
      expectError(await f.s.api('PATCH', `${path(head)}/${a.id}`, { key: f.key, body: { base_version: 2, note: 'y' } }), 404, 'not_found');
    });

    it('a PATCH to disabled stamps date_disabled, back to active clears it, unless date_disabled is sent', async () => {
      const a = await alert(outsider);
      const url = `${path(outsider)}/${a.id}`;
      const off = await f.s.api('PATCH', url, { key: f.key, body: { base_version: 1, status: 'disabled' } });
      expect(off.body.data.status).to.equal('disabled');
      expect(off.body.data.date_disabled).to.be.a('string');
      const on = await f.s.api('PATCH', url, { key: f.key, body: { base_version: 2, status: 'active' } });
      expect(on.body.data).to.include({ status: 'active', date_disabled: null });
      const given = await f.s.api('PATCH', url, { key: f.key, body: { base_version: 3, status: 'disabled', date_disabled: '2025-05-05T10:00:00Z' } });
      expect(given.body.data.date_disabled).to.match(/^2025-05-05T10:00:00(\.000)?Z$/);
    });
  });

  describe('disable and archive', () => {
    it('disable needs base_version, sets disabled and date_disabled now; stale is 409; disabling again is 422', async () => {
      const a = await alert(outsider);
      expectError(await act(outsider, a.id, 'disable', {}), 400, 'validation_error');
      expectError(await act(outsider, a.id, 'disable', { base_version: 7 }), 409, 'version_conflict');
      const before = Date.now();
      const res = await act(outsider, a.id, 'disable', { base_version: 1 });
      expect(res.status).to.equal(200);
      expect(res.body.data).to.include({ status: 'disabled', version: 2 });
      expect(Date.parse(res.body.data.date_disabled)).to.be.within(before - 1000, Date.now() + 1000);
      expectError(await act(outsider, a.id, 'disable', { base_version: 2 }), 422, 'invalid_transition');
      expectError(await act(outsider, MISSING_ID, 'disable', { base_version: 1 }), 404, 'not_found');
      expectError(await act(head, a.id, 'disable', { base_version: 2 }), 404, 'not_found');
    });

    it('archive sets status archived (no soft delete, no restore); archived alerts leave the list unless status=archived', async () => {
      const a = await alert(outsider, { note: 'to archive' });
      const res = await act(outsider, a.id, 'archive');
      expect(res.status).to.equal(200);
      expect(res.body.data).to.include({ status: 'archived', version: 2 });
      const again = await act(outsider, a.id, 'archive');
      expect(again.body.data).to.include({ status: 'archived', version: 2 });
      expect(ids((await list(f, `patients/${outsider.id}/alerts`)).data)).to.not.include(a.id);
      expect(ids((await list(f, `patients/${outsider.id}/alerts?status=archived`)).data)).to.include(a.id);
      expect((await list(f, `patients/${outsider.id}/alerts?status=archived`)).data.every((r: Row) => r.status === 'archived')).to.equal(true);
      // Disabled alerts stay in the default list.
      expect((await list(f, `patients/${outsider.id}/alerts`)).data.some((r: Row) => r.status === 'disabled')).to.equal(true);
      expect((await f.s.api('GET', `${path(outsider)}/${a.id}`, { key: f.key })).body.data.status).to.equal('archived');
      expect((await act(outsider, a.id, 'restore')).status).to.equal(404);
      expect((await f.s.api('DELETE', `${path(outsider)}/${a.id}`, { key: f.key })).status).to.equal(405);
      expectError(await act(head, a.id, 'archive'), 404, 'not_found');
      expectError(await act(outsider, a.id, 'disable', { base_version: 2 }), 422, 'invalid_transition');
    });
  });

  describe('bulk-dismiss', () => {
    const dismiss = (p: Row, alert_ids: unknown) => f.s.api('POST', `${path(p)}/bulk-dismiss`, { key: f.key, body: { alert_ids } });

    it('archives up to 50 alerts of the patient in one call and skips those archived already', async () => {
      const p = await createPatient(f, { first_name: 'Bulk', last_name: 'Fifty' });
      const made: Row[] = [];
      for (let i = 0; i < 50; i++) made.push(await alert(p));
      await act(p, made[0].id, 'archive');
      const res = await dismiss(p, made.map((a) => a.id));
      expect(res.status).to.equal(200);
      expect(res.body.data.skipped).to.deep.equal([made[0].id]);
      expect(res.body.data.archived).to.have.length(49);
      expect((await list(f, `patients/${p.id}/alerts`)).data).to.deep.equal([]);
      expect((await list(f, `patients/${p.id}/alerts?status=archived&limit=100`)).data).to.have.length(50);
    });

    it('refuses 51 ids (422 too_many_alerts) and none (400), archiving nothing', async () => {
      const p = await createPatient(f, { first_name: 'Bulk', last_name: 'Many' });
      const a = await alert(p);
      const ids51 = [a.id, ...Array.from({ length: 50 }, (_, i) => `01900000-0000-7000-8000-${String(i).padStart(12, '0')}`)];
      const res = await dismiss(p, ids51);
      expectError(res, 422, 'too_many_alerts');
      expect(detailPaths(res)).to.deep.equal(['/body/alert_ids']);
      expectError(await dismiss(p, []), 400, 'validation_error');
      expectError(await dismiss(p, ['nope']), 400, 'validation_error');
      expect(ids((await list(f, `patients/${p.id}/alerts`)).data)).to.deep.equal([a.id]);
    });

    it('an unknown id or another patient\'s alert is 404 and nothing is archived', async () => {
      const p = await createPatient(f, { first_name: 'Bulk', last_name: 'Mixed' });
      const mine = [await alert(p), await alert(p)];
      const theirs = await alert(outsider);
      expectError(await dismiss(p, [mine[0].id, MISSING_ID]), 404, 'not_found');
      expectError(await dismiss(p, [mine[0].id, mine[1].id, theirs.id]), 404, 'not_found');
      expect((await list(f, `patients/${p.id}/alerts`)).data.map((r: Row) => r.status)).to.deep.equal(['active', 'active']);
      expect((await f.s.api('GET', `${path(outsider)}/${theirs.id}`, { key: f.key })).body.data.status).to.equal('active');
      expectError(await f.s.api('POST', `${f.base}/patients/${MISSING_ID}/alerts/bulk-dismiss`, { key: f.key, body: { alert_ids: [mine[0].id] } }), 404, 'not_found');
    });
  });

  describe('family-scoped alerts', () => {
    let headFam: Row;
    let childOwn: Row;
    let siblingFam: Row;
    let siblingPatientScoped: Row;
    let outsiderFam: Row;

    before(async () => {
      headFam = await alert(head, { alert_definition_id: familyKind.id, note: 'head family' });
      childOwn = await alert(child, { note: 'child own' });
      siblingFam = await alert(sibling, { alert_scope: 'family', note: 'sibling family' });
      siblingPatientScoped = await alert(sibling, { note: 'sibling only' });
      const archivedFam = await alert(sibling, { alert_scope: 'family', note: 'archived family' });
      await act(sibling, archivedFam.id, 'archive');
      outsiderFam = await alert(outsider, { alert_scope: 'family' });
    });

    it('without include_family a patient sees only its own alerts', async () => {
      expect(ids((await list(f, `patients/${child.id}/alerts`)).data)).to.deep.equal([childOwn.id]);
    });

    it('include_family=true adds the family-scoped alerts of every member of the guarantor family, not archived ones nor outsiders\'', async () => {
      const page = await list(f, `patients/${child.id}/alerts?include_family=true&sort=created_at`);
      expect(ids(page.data)).to.deep.equal([headFam.id, childOwn.id, siblingFam.id]);
      expect(ids(page.data)).to.not.include(siblingPatientScoped.id);
      expect(ids(page.data)).to.not.include(outsiderFam.id);
      expect(page.total_count).to.equal(3);
      // From the guarantor's chart: its own alerts and its dependents' family alerts.
      expect(ids((await list(f, `patients/${head.id}/alerts?include_family=true&sort=created_at`)).data)).to.deep.equal([headFam.id, siblingFam.id]);
      // Filters still apply, and archived family alerts come back with status=archived.
      expect((await list(f, `patients/${child.id}/alerts?include_family=true&status=archived`)).data.map((r: Row) => r.note)).to.deep.equal(['archived family']);
      expect(ids((await list(f, `patients/${child.id}/alerts?include_family=false`)).data)).to.deep.equal([childOwn.id]);
    });

    it('follows a change of guarantor at once (the family list is not cached)', async () => {
      expect(ids((await list(f, `patients/${outsider.id}/alerts?include_family=true&alert_scope=family`)).data)).to.not.include(headFam.id);
      const current = (await f.s.api('GET', `${f.base}/patients/${outsider.id}`, { key: f.key })).body.data;
      await f.s.api('PATCH', `${f.base}/patients/${outsider.id}`, { key: f.key, body: { base_version: current.version, responsible_party_id: head.id } });
      expect(ids((await list(f, `patients/${outsider.id}/alerts?include_family=true&alert_scope=family`)).data)).to.include(headFam.id);
      expect(ids((await list(f, `patients/${child.id}/alerts?include_family=true`)).data)).to.include(outsiderFam.id);
    });

    it('refuses a non-boolean include_family and unknown parameters', async () => {
      expectError(await f.s.api('GET', `${path(child)}?include_family=yes`, { key: f.key }), 400, 'validation_error');
      expectError(await f.s.api('GET', `${path(child)}?include_relatives=true`, { key: f.key }), 400, 'validation_error');
    });
  });
});
