import { expect } from 'chai';
import type { Org } from '../../app/operations/context.js';
import { createAdminUser, type AdminRole } from '../../admin/users.js';
import { startTestServer, type TestServer } from '../support/server.js';

// The back office over HTTP: login, lock-out, logout, and what each role reaches through
// AdminJS's JSON API (/admin/api/resources/<resource>/…), which runs the kernel's operations.

const PASSWORD = 'correct horse battery';

/** A browser-like client: keeps the admin session cookies between requests, never follows redirects. */
class AdminClient {
  private cookies = new Map<string, string>();
  constructor(private readonly url: string) {}

  async request(method: string, path: string, form?: Record<string, string>): Promise<{ status: number; location: string | null; text: string; json: any; requestId: string | null }> {
    const headers: Record<string, string> = {};
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (form) {
      body = new URLSearchParams(form).toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    }
    const res = await fetch(`${this.url}${path}`, { method, headers, body, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const at = pair.indexOf('=');
      const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
      if (attrs.some((a) => /expires=Thu, 01 Jan 1970/i.test(a)) || value === '') this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value);
    }
    const text = await res.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      /* an HTML page */
    }
    return { status: res.status, location: res.headers.get('location'), text, json, requestId: res.headers.get('x-request-id') };
  }

  cookieNames(): string[] {
    return [...this.cookies.keys()];
  }

  async login(email: string, password = PASSWORD) {
    return this.request('POST', '/admin/login', { email, password });
  }

  list(resource: string, query = '') {
    return this.request('GET', `/admin/api/resources/${resource}/actions/list${query}`);
  }

  show(resource: string, id: string) {
    return this.request('GET', `/admin/api/resources/${resource}/records/${id}/show`);
  }

  edit(resource: string, id: string, form: Record<string, string>) {
    return this.request('POST', `/admin/api/resources/${resource}/records/${id}/edit`, form);
  }
}

/**
 * AdminJS answers most refused or failed actions with 200 and the error in the body (its pages
 * show it as a notice), and some (a record it must load first) with the status: the error's type,
 * or undefined when the action succeeded.
 */
function refusal(res: { status: number; json: any }): string | undefined {
  if (res.status === 403 && res.json?.error === 'forbidden') return 'ForbiddenError';
  if (res.status === 404 && res.json?.error === 'not_found') return 'NotFoundError';
  expect(res.status).to.equal(200);
  return res.json?.record?.baseError?.type;
}

describe('admin panel: login, roles and the operations behind AdminJS', function () {
  this.timeout(60_000);
  let s: TestServer;
  let orgA: Org;
  let orgB: Org;
  let keyA: string;
  let keyB: string;
  const users: Record<string, { id: string; email: string }> = {};
  const patients: Record<string, any> = {};
  const tickets: Record<string, any> = {};

  async function user(role: AdminRole, org?: Org, email = `${role}-${Math.random().toString(36).slice(2, 8)}@example.test`) {
    const created = await createAdminUser(s.rt, { email, name: role, role, organizationId: org?.id ?? null, password: PASSWORD });
    return { id: created.id, email };
  }

  async function loggedIn(role: string): Promise<AdminClient> {
    const c = new AdminClient(s.url);
    const res = await c.login(users[role].email);
    expect(res.status, res.text.slice(0, 200)).to.equal(302);
    return c;
  }

  before(async () => {
    s = await startTestServer({ env: { ADMIN_MAX_FAILED_LOGINS: '3', ADMIN_LOCKOUT_SECONDS: '1' } });
    orgA = await s.createOrg('admin-a');
    orgB = await s.createOrg('admin-b');
    keyA = (await s.createKey({ orgs: [orgA.slug], scopes: ['*'], rateLimit: 1_000_000 })).key;
    keyB = (await s.createKey({ orgs: [orgB.slug], scopes: ['*'], rateLimit: 1_000_000 })).key;
    users.super = await user('super_admin');
    users.practice = await user('practice_admin', orgA);
    users.support = await user('support_agent');
    users.locked = await user('practice_admin', orgA);
    for (const [name, org, key] of [['a', orgA, keyA], ['b', orgB, keyB]] as const) {
      const p = await s.api('POST', `/api/v1/${org.slug}/patients`, { key, body: { first_name: `Pat${name}`, last_name: `Org${name}` } });
      expect(p.status, JSON.stringify(p.body)).to.equal(201);
      patients[name] = p.body.data;
      const t = await s.api('POST', `/api/v1/${org.slug}/tickets`, { key, body: { subject: `Ticket of ${name}`, patient_id: p.body.data.id } });
      expect(t.status, JSON.stringify(t.body)).to.equal(201);
      tickets[name] = t.body.data;
    }
  });
  after(async () => {
    await s?.close();
  });

  describe('sessions', () => {
    it('sends a visitor without a session to the login page, for pages and the JSON API alike', async () => {
      const c = new AdminClient(s.url);
      for (const path of ['/admin', '/admin/resources/patient', '/admin/api/resources/patient/actions/list', '/admin/account/password']) {
        const res = await c.request('GET', path);
        expect(res.status, path).to.equal(302);
        expect(res.location, path).to.equal('/admin/login');
      }
      const page = await c.request('GET', '/admin/login');
      expect(page.status).to.equal(200);
      expect(page.text).to.match(/<html/i);
    });

    it('refuses a wrong password or an unknown email and grants no session', async () => {
      const c = new AdminClient(s.url);
      for (const [email, password] of [[users.practice.email, 'wrong password!'], ['nobody@example.test', PASSWORD]]) {
        const res = await c.login(email, password);
        expect(res.status).to.equal(200);
        expect(res.text).to.match(/invalidCredentials|Wrong email and\/or password/);
        expect((await c.request('GET', '/admin')).status).to.equal(302);
      }
    });

    it('logs in with the right password (case-insensitive email), records the login, and logs out', async () => {
      const c = new AdminClient(s.url);
      const res = await c.login(users.practice.email.toUpperCase());
      expect(res.status).to.equal(302);
      expect(res.location).to.equal('/admin');
      expect(c.cookieNames()).to.include.members(['emr_admin', 'emr_admin.sig']);
      const home = await c.request('GET', '/admin');
      expect(home.status).to.equal(200);
      expect(home.text).to.match(/<html/i);
      const row = await s.rt.db.knex('admin_users').where({ id: users.practice.id }).first('last_login_at', 'failed_logins');
      expect(row.last_login_at).to.not.equal(null);
      expect(Number(row.failed_logins)).to.equal(0);

      const out = await c.request('GET', '/admin/logout');
      expect(out.status).to.equal(302);
      expect(out.location).to.equal('/admin/login');
      expect((await c.request('GET', '/admin/api/resources/ticket/actions/list')).status).to.equal(302);
    });

    it('a tampered session cookie is no session', async () => {
      const c = await loggedIn('super');
      const forged = new AdminClient(s.url);
      const cookie = Buffer.from(JSON.stringify({ adminUser: { id: users.super.id, role: 'super_admin' } })).toString('base64');
      (forged as any).cookies.set('emr_admin', cookie);
      (forged as any).cookies.set('emr_admin.sig', 'forged');
      expect((await forged.request('GET', '/admin')).status).to.equal(302);
      expect((await c.request('GET', '/admin')).status).to.equal(200);
    });

    it('locks a user out after the configured failures in a row, even with the right password, until the lock runs out', async () => {
      const c = new AdminClient(s.url);
      for (let i = 0; i < 3; i++) expect((await c.login(users.locked.email, `wrong ${i} password`)).status).to.equal(200);
      const row = await s.rt.db.knex('admin_users').where({ id: users.locked.id }).first('failed_logins', 'locked_until');
      expect(Number(row.failed_logins)).to.equal(3);
      expect(row.locked_until).to.not.equal(null);
      const refused = await c.login(users.locked.email);
      expect(refused.status).to.equal(200);
      expect((await c.request('GET', '/admin')).status).to.equal(302);

      await new Promise((r) => setTimeout(r, 1100));
      const res = await c.login(users.locked.email);
      expect(res.status).to.equal(302);
      expect((await c.request('GET', '/admin')).status).to.equal(200);
      const after = await s.rt.db.knex('admin_users').where({ id: users.locked.id }).first('failed_logins', 'locked_until');
      expect(Number(after.failed_logins)).to.equal(0);
      expect(after.locked_until).to.equal(null);
    });

    it('a success before the limit starts the count again', async () => {
      const u = await user('support_agent');
      const c = new AdminClient(s.url);
      for (let i = 0; i < 2; i++) await c.login(u.email, 'not it at all');
      expect((await c.login(u.email)).status).to.equal(302);
      for (let i = 0; i < 2; i++) await c.login(u.email, 'not it at all');
      expect((await c.login(u.email)).status).to.equal(302);
    });

    it('changes the password: the current one is required, the new one works at the next login', async () => {
      const u = await user('support_agent');
      const c = new AdminClient(s.url);
      await c.login(u.email);
      const form = await c.request('GET', '/admin/account/password');
      expect(form.status).to.equal(200);
      expect(form.text).to.include('name="new_password"');
      const wrong = await c.request('POST', '/admin/account/password', { current_password: 'not my password', new_password: 'a brand new secret', confirm_password: 'a brand new secret' });
      expect(wrong.status).to.equal(400);
      expect(wrong.text).to.include('not your current password');
      const short = await c.request('POST', '/admin/account/password', { current_password: PASSWORD, new_password: 'short', confirm_password: 'short' });
      expect(short.status).to.equal(400);
      const ok = await c.request('POST', '/admin/account/password', { current_password: PASSWORD, new_password: 'a brand new secret', confirm_password: 'a brand new secret' });
      expect(ok.status).to.equal(200);
      expect(ok.text).to.include('Your password was changed');
      expect((await new AdminClient(s.url).login(u.email)).status).to.equal(200);
      expect((await new AdminClient(s.url).login(u.email, 'a brand new secret')).status).to.equal(302);
    });
  });

  describe('roles', () => {
    it('practice_admin: lists and shows only its own practice\'s patients', async () => {
      const c = await loggedIn('practice');
      const res = await c.list('patient');
      expect(res.status, res.text.slice(0, 300)).to.equal(200);
      const listed = res.json.records.map((r: any) => r.params.id);
      expect(listed).to.include(patients.a.id);
      expect(listed).to.not.include(patients.b.id);
      expect(res.json.meta.total).to.equal(1);
      expect(res.json.records[0].params.organization).to.equal(orgA.slug);

      expect((await c.show('patient', patients.a.id)).json.record.params.last_name).to.equal('Orga');
      expect(refusal(await c.show('patient', patients.b.id))).to.equal('NotFoundError');
      const other = await c.list('patient', `?filters.organization=${orgB.slug}`);
      expect(other.status).to.equal(404);
      expect(other.json.error).to.equal('not_found');
      // An edit of another practice's record is refused and changes nothing.
      expect(refusal(await c.edit('patient', patients.b.id, { first_name: 'Hijack', version: '1' }))).to.equal('NotFoundError');
      const b = await s.api('GET', `/api/v1/${orgB.slug}/patients/${patients.b.id}`, { key: keyB });
      expect(b.body.data.first_name).to.equal('Patb');
    });

    it('support_agent: no patient resource at all, tickets of every organization, without patient data', async () => {
      const c = await loggedIn('support');
      for (const res of [await c.list('patient'), await c.show('patient', patients.a.id), await c.list('patient-allergy'), await c.list('patient-vital-sign')]) {
        expect(refusal(res)).to.equal('ForbiddenError');
        expect(res.json.records ?? []).to.deep.equal([]);
        expect(JSON.stringify(res.json)).to.not.include('Orga');
      }
      const home = await c.request('GET', '/admin');
      expect(home.status).to.equal(200);

      const inA = await c.list('ticket', `?filters.organization=${orgA.slug}`);
      const inB = await c.list('ticket', `?filters.organization=${orgB.slug}`);
      expect(inA.status, inA.text.slice(0, 300)).to.equal(200);
      expect(inA.json.records.map((r: any) => r.params.id)).to.deep.equal([tickets.a.id]);
      expect(inB.json.records.map((r: any) => r.params.id)).to.deep.equal([tickets.b.id]);
      const shown = await c.show('ticket', tickets.b.id);
      expect(shown.status).to.equal(200);
      expect(shown.json.record.params.subject).to.equal('Ticket of b');
      expect(shown.json.record.params.organization).to.equal(orgB.slug);
      // The ticket's patient reference is not resolved into the patient's record for this role.
      expect(JSON.stringify(shown.json.record.populated ?? {})).to.not.include('Patb');
      expect(JSON.stringify(shown.json)).to.not.include('Orgb');
    });

    it('super_admin: every resource, in the organization it picks', async () => {
      const c = await loggedIn('super');
      const b = await c.list('patient', `?filters.organization=${orgB.slug}`);
      expect(b.json.records.map((r: any) => r.params.id)).to.deep.equal([patients.b.id]);
      expect((await c.show('patient', patients.a.id)).json.record.params.id).to.equal(patients.a.id);
      expect((await c.list('kb-article')).status).to.equal(200);
    });
  });

  describe('every definition is a resource', () => {
    it('lists every resource the API serves, from its definition, with no admin code per resource', async () => {
      const c = await loggedIn('super');
      const home = await c.request('GET', '/admin');
      const exposed = s.rt.registry.exposed();
      for (const def of exposed) {
        const res = await c.list(def.name, `?filters.organization=${orgA.slug}`);
        expect(res.status, def.name).to.equal(200);
        expect(refusal(res), `${def.name}: ${JSON.stringify(res.json?.notice)}`).to.equal(undefined);
        expect(res.json.meta.total, def.name).to.be.a('number');
        expect(home.text, def.name).to.include(`"id":"${def.name}"`);
      }
      // Navigation group, icon and list columns come from the definition's admin hints.
      const ticket = exposed.find((d) => d.name === 'ticket')!;
      expect(home.text).to.include(`"name":"${ticket.admin!.group}","icon":"${ticket.admin!.icon}"`);
      const page = await c.request('GET', '/admin/resources/ticket');
      expect(page.status).to.equal(200);
    });

    it('shows a role only the resources it may read', async () => {
      const c = await loggedIn('support');
      const home = await c.request('GET', '/admin');
      const state = JSON.parse(/window\.REDUX_STATE = (\{.*?\});?\s*$/m.exec(home.text)?.[1] ?? 'null');
      expect(state, 'the page carries AdminJS state').to.not.equal(null);
      const reachable = state.resources.filter((r: any) => r.href).map((r: any) => r.id).sort();
      expect(reachable).to.deep.equal(['kb-article', 'ticket', 'ticket-comment']);
    });
  });

  describe('writes through the operations', () => {
    it('an edit writes the change with a new version and an audit event whose actor is the admin user', async () => {
      const c = await loggedIn('practice');
      const shown = await c.show('patient', patients.a.id);
      const version = shown.json.record.params.version;
      const res = await c.edit('patient', patients.a.id, { first_name: 'Edited', version: String(version) });
      expect(res.status, res.text.slice(0, 300)).to.equal(200);
      expect(res.json.notice.type, JSON.stringify(res.json.notice)).to.equal('success');
      const api = await s.api('GET', `/api/v1/${orgA.slug}/patients/${patients.a.id}`, { key: keyA });
      expect(api.body.data.first_name).to.equal('Edited');
      expect(api.body.data.version).to.equal(version + 1);

      await s.rt.audit.flush();
      const audit = await s.api('GET', `/api/v1/${orgA.slug}/audit-events?resource_id=${patients.a.id}&action=update`, { key: keyA });
      expect(audit.status, JSON.stringify(audit.body)).to.equal(200);
      const mine = audit.body.data.filter((e: any) => e.actor_id === users.practice.id);
      expect(mine).to.have.length(1);
      expect(mine[0].actor_type).to.equal('admin_user');
      expect(mine[0].actor_label).to.equal(users.practice.email);
      expect(mine[0].request_id).to.equal(res.requestId);
      expect(mine[0].ip).to.be.a('string').and.not.equal('');
    });

    it('an edit based on a stale version is refused with a clear message and overwrites nothing', async () => {
      const c = await loggedIn('practice');
      const stale = (await c.show('patient', patients.a.id)).json.record.params.version;
      // Someone else saves first (through the API).
      const other = await s.api('PATCH', `/api/v1/${orgA.slug}/patients/${patients.a.id}`, { key: keyA, body: { last_name: 'Newer', base_version: stale } });
      expect(other.status, JSON.stringify(other.body)).to.equal(200);

      const res = await c.edit('patient', patients.a.id, { last_name: 'Stale', version: String(stale) });
      expect(res.status).to.equal(200);
      expect(res.json.notice.type).to.equal('error');
      expect(res.json.notice.message).to.match(/someone else changed this record/);
      const api = await s.api('GET', `/api/v1/${orgA.slug}/patients/${patients.a.id}`, { key: keyA });
      expect(api.body.data.last_name).to.equal('Newer');
      expect(api.body.data.version).to.equal(stale + 1);
    });

    it('validation problems come back on the form\'s fields, nothing is written', async () => {
      const c = await loggedIn('super');
      const t = (await c.show('ticket', tickets.a.id)).json.record.params;
      const res = await c.edit('ticket', tickets.a.id, { priority: 'whenever', version: String(t.version) });
      expect(res.json.notice.type).to.equal('error');
      expect(res.json.record.errors.priority, JSON.stringify(res.json.record.errors)).to.be.an('object');
      const api = await s.api('GET', `/api/v1/${orgA.slug}/tickets/${tickets.a.id}`, { key: keyA });
      expect(api.body.data.priority).to.equal('normal');
      expect(api.body.data.version).to.equal(t.version);
    });

    it('creates in the picked organization, and delete archives', async () => {
      const c = await loggedIn('support');
      const created = await c.request('POST', '/admin/api/resources/ticket/actions/new', { organization: orgB.slug, subject: 'Raised in the back office', priority: 'high' });
      expect(created.status, created.text.slice(0, 300)).to.equal(200);
      expect(created.json.notice.type, JSON.stringify(created.json.notice)).to.equal('success');
      const id = created.json.record.params.id;
      const api = await s.api('GET', `/api/v1/${orgB.slug}/tickets/${id}`, { key: keyB });
      expect(api.body.data.requester).to.equal(users.support.email);

      const moved = await c.edit('ticket', id, { organization: orgA.slug, subject: 'Moved?' });
      expect(refusal(moved)).to.equal(undefined);
      expect(moved.json.notice.type).to.equal('error');
      expect(moved.json.record.errors.organization).to.be.an('object');

      const del = await c.request('POST', `/admin/api/resources/ticket/records/${id}/delete`);
      expect(del.status, del.text.slice(0, 300)).to.equal(200);
      expect(del.json.notice.type).to.equal('success');
      expect((await s.api('GET', `/api/v1/${orgB.slug}/tickets/${id}`, { key: keyB })).status).to.equal(404);
      const archived = await s.api('GET', `/api/v1/${orgB.slug}/tickets/${id}?include_archived=true`, { key: keyB });
      expect(archived.body.data.deleted_at).to.be.a('string');
    });

    it('a nested record is created under the parent its form names, and listed under it', async () => {
      const c = await loggedIn('support');
      const created = await c.request('POST', '/admin/api/resources/ticket-comment/actions/new', { organization: orgB.slug, ticket_id: tickets.b.id, body: 'Looking into it' });
      expect(created.json.notice.type, JSON.stringify(created.json)).to.equal('success');
      const api = await s.api('GET', `/api/v1/${orgB.slug}/tickets/${tickets.b.id}/comments`, { key: keyB });
      expect(api.body.data.map((r: any) => r.body)).to.deep.equal(['Looking into it']);
      expect(api.body.data[0].author).to.equal(users.support.email);
      const listed = await c.list('ticket-comment', `?filters.organization=${orgB.slug}&filters.ticket_id=${tickets.b.id}`);
      expect(listed.json.records.map((r: any) => r.params.body)).to.deep.equal(['Looking into it']);
      // Comments are append-only: no edit.
      expect(refusal(await c.edit('ticket-comment', api.body.data[0].id, { body: 'Changed' }))).to.equal('ForbiddenError');
    });

    it('lists page with exact totals', async () => {
      for (let i = 0; i < 4; i++) await s.api('POST', `/api/v1/${orgA.slug}/tickets`, { key: keyA, body: { subject: `Paged ${i}` } });
      const c = await loggedIn('super');
      const page1 = await c.list('ticket', `?filters.organization=${orgA.slug}&perPage=2&page=1`);
      const page3 = await c.list('ticket', `?filters.organization=${orgA.slug}&perPage=2&page=3`);
      expect(page1.json.meta.total).to.equal(5);
      expect(page1.json.records).to.have.length(2);
      expect(page3.json.records).to.have.length(1);
    });
  });
});

describe('admin panel: demo users', function () {
  this.timeout(60_000);
  let s: TestServer;
  before(async () => {
    s = await startTestServer();
  });
  after(async () => {
    await s?.close();
  });

  it('issues one user per role for the demo organization, with a new password at each start', async () => {
    const { issueDemoAdmins } = await import('../../admin/users.js');
    const org = await s.createOrg('demo-users');
    const first = await issueDemoAdmins(s.rt, org);
    expect(first.map((u) => u.role)).to.deep.equal(['super_admin', 'practice_admin', 'support_agent']);
    const again = await issueDemoAdmins(s.rt, org);
    expect(again.map((u) => u.email)).to.deep.equal(first.map((u) => u.email));
    const rows = await s.rt.db.knex('admin_users').whereIn('email', first.map((u) => u.email)).select('email', 'role', 'organization_id');
    expect(rows).to.have.length(3);
    expect(rows.find((r: any) => r.role === 'practice_admin').organization_id).to.equal(org.id);
    for (const [i, u] of again.entries()) {
      expect(u.password).to.not.equal(first[i].password);
      const c = new AdminClient(s.url);
      expect((await c.login(u.email, first[i].password)).status).to.equal(200);
      expect((await c.login(u.email, u.password)).status).to.equal(302);
    }
  });
});
