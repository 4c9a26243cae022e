import { expect } from 'chai';
import { MISSING_ID, create, detailPaths, expectError, ids, list, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

describe('Nested and append-only resources', () => {
  let f: Fixture;
  let ticket: Row;
  let other: Row;
  let comment: Row;

  before(async () => {
    f = await setupApi();
    ticket = await create(f, 'tickets', { subject: 'Cannot print superbills', requester: 'front.desk@example.com' });
    other = await create(f, 'tickets', { subject: 'Another issue', requester: 'front.desk@example.com' });
    comment = await create(f, `tickets/${ticket.id}/comments`, { author: 'Support Agent', body: 'First reply' });
  });

  after(async () => {
    await f.s.close();
  });

  describe('ticket comments', () => {
    it('creates a comment under its ticket with 201 and a nested Location', async () => {
      const res = await f.s.api('POST', `${f.base}/tickets/${ticket.id}/comments`, { key: f.key, body: { author: 'Front desk', body: 'Thanks!' } });
      expect(res.status).to.equal(201);
      expect(res.body.data).to.include({ ticket_id: ticket.id, author: 'Front desk', body: 'Thanks!' });
      expect(res.body.data).to.not.have.property('version');
      expect(res.headers.get('location')).to.equal(`${f.base}/tickets/${ticket.id}/comments/${res.body.data.id}`);
      const got = await f.s.api('GET', res.headers.get('location')!, { key: f.key });
      expect(got.status).to.equal(200);
      expect(got.body.data.id).to.equal(res.body.data.id);
    });

    it('lists only the comments of the ticket in the URL', async () => {
      const mine = await create(f, `tickets/${other.id}/comments`, { author: 'Agent', body: 'On the other ticket' });
      const forTicket = await list(f, `tickets/${ticket.id}/comments`);
      expect(ids(forTicket.data)).to.include(comment.id).and.not.include(mine.id);
      expect(forTicket.data.every((c: Row) => c.ticket_id === ticket.id)).to.equal(true);
      const forOther = await list(f, `tickets/${other.id}/comments`);
      expect(ids(forOther.data)).to.deep.equal([mine.id]);
      expect(forOther.total_count).to.equal(1);
      expectError(await f.s.api('GET', `${f.base}/tickets/${other.id}/comments/${comment.id}`, { key: f.key }), 404, 'not_found');
    });

    it('takes the ticket from the URL, never from the body', async () => {
      const res = await f.s.api('POST', `${f.base}/tickets/${ticket.id}/comments`, { key: f.key, body: { author: 'A', body: 'B', ticket_id: other.id } });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.deep.equal(['/body/ticket_id']);
      const listQuery = await f.s.api('GET', `${f.base}/tickets/${ticket.id}/comments?ticket_id=${other.id}`, { key: f.key });
      expectError(listQuery, 400, 'validation_error');
    });

    it('answers comments of a missing or malformed ticket with 404 and 400', async () => {
      expectError(await f.s.api('GET', `${f.base}/tickets/${MISSING_ID}/comments`, { key: f.key }), 404, 'not_found');
      expectError(await f.s.api('POST', `${f.base}/tickets/${MISSING_ID}/comments`, { key: f.key, body: { author: 'A', body: 'B' } }), 404, 'not_found');
      expectError(await f.s.api('GET', `${f.base}/tickets/nope/comments`, { key: f.key }), 400, 'invalid_id');
    });

    it('accepts create and read only: PATCH, PUT and DELETE of a comment are refused', async () => {
      for (const method of ['PATCH', 'PUT', 'DELETE']) {
        const res = await f.s.api(method, `${f.base}/tickets/${ticket.id}/comments/${comment.id}`, { key: f.key, body: method === 'DELETE' ? undefined : { body: 'edited' } });
        expect([404, 405], `${method}: ${res.status}`).to.include(res.status);
        expectError(res, res.status, res.status === 405 ? 'method_not_allowed' : 'not_found');
      }
      for (const suffix of ['/archive', '/restore']) {
        const res = await f.s.api('POST', `${f.base}/tickets/${ticket.id}/comments/${comment.id}${suffix}`, { key: f.key });
        expect([404, 405]).to.include(res.status);
        expect(res.body.error).to.be.a('string');
      }
      const got = await f.s.api('GET', `${f.base}/tickets/${ticket.id}/comments/${comment.id}`, { key: f.key });
      expect(got.body.data).to.include({ body: 'First reply', author: 'Support Agent' });
    });

    it('does not find the comments of a ticket in another org', async () => {
      const org2 = await f.s.createOrg();
      const both = (await f.s.createKey({ orgs: [f.org.slug, org2.slug], scopes: ['tickets:write'], rateLimit: 100000 })).key;
      const base2 = `/api/v1/${org2.slug}`;
      expect((await f.s.api('GET', `${f.base}/tickets/${ticket.id}/comments`, { key: both })).status).to.equal(200);
      expectError(await f.s.api('GET', `${base2}/tickets/${ticket.id}/comments`, { key: both }), 404, 'not_found');
      expectError(await f.s.api('GET', `${base2}/tickets/${ticket.id}/comments/${comment.id}`, { key: both }), 404, 'not_found');
      expectError(await f.s.api('POST', `${base2}/tickets/${ticket.id}/comments`, { key: both, body: { author: 'Intruder', body: 'Hi' } }), 404, 'not_found');
      const ticket2 = (await f.s.api('POST', `${base2}/tickets`, { key: both, body: { subject: 'Org 2 ticket', requester: 'x@example.com' } })).body.data;
      expectError(await f.s.api('GET', `${base2}/tickets/${ticket2.id}/comments/${comment.id}`, { key: both }), 404, 'not_found');
      const onlyOrg2 = (await f.s.createKey({ orgs: [org2.slug], scopes: ['tickets:write'], rateLimit: 100000 })).key;
      expectError(await f.s.api('GET', `${f.base}/tickets/${ticket.id}/comments`, { key: onlyOrg2 }), 404, 'not_found');
      expect(ids((await list(f, `tickets/${ticket.id}/comments?search=Intruder`)).data)).to.deep.equal([]);
    });

    it('requires a non-empty body and a non-empty author when one is sent', async () => {
      const res = await f.s.api('POST', `${f.base}/tickets/${ticket.id}/comments`, { key: f.key, body: { body: '', author: '' } });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.have.members(['/body/author', '/body/body']);
    });

    it('embeds at most 20 comments per ticket with ?include=comments, the oldest first; the rest are paged at their route', async () => {
      const busy = await create(f, 'tickets', { subject: 'Busy ticket' });
      const written: string[] = [];
      for (let i = 0; i < 25; i++) written.push((await create(f, `tickets/${busy.id}/comments`, { body: `Reply ${i}` })).id);
      const one = await f.s.api('GET', `${f.base}/tickets/${busy.id}?include=comments`, { key: f.key });
      expect(one.status).to.equal(200);
      expect(ids(one.body.data.comments)).to.deep.equal(written.slice(0, 20));
      const listed = (await list(f, `tickets?include=comments&limit=100`)).data.find((t: Row) => t.id === busy.id);
      expect(ids(listed.comments)).to.deep.equal(written.slice(0, 20));
      const rest = await list(f, `tickets/${busy.id}/comments?limit=100&sort=created_at`);
      expect(rest.total_count).to.equal(25);
    });

    it('makes the calling partner the author of a comment, and the requester of a ticket, when left out', async () => {
      const written = await create(f, `tickets/${ticket.id}/comments`, { body: 'Looking into it' });
      expect(written.author).to.equal('Test Partner');
      const opened = await create(f, 'tickets', { subject: 'Fax server down' });
      expect(opened.requester).to.equal('Test Partner');
      const named = await create(f, 'tickets', { subject: 'Printer jam', requester: 'front.desk@example.com' });
      expect(named.requester).to.equal('front.desk@example.com');
    });
  });

  describe('audit events', () => {
    it('are readable but have no POST, PATCH or DELETE', async () => {
      const events = await list(f, 'audit-events?limit=100');
      expect(events.data.length).to.be.greaterThan(0);
      const event = events.data[0];
      const post = await f.s.api('POST', `${f.base}/audit-events`, { key: f.key, body: { action: 'forged', resource: 'patient' } });
      expect([404, 405]).to.include(post.status);
      expectError(post, post.status, post.status === 405 ? 'method_not_allowed' : 'not_found');
      for (const method of ['PATCH', 'PUT', 'DELETE']) {
        const res = await f.s.api(method, `${f.base}/audit-events/${event.id}`, { key: f.key, body: method === 'DELETE' ? undefined : { action: 'forged' } });
        expect([404, 405], method).to.include(res.status);
        expect(res.body.error).to.be.a('string');
        expect(res.body.request_id).to.be.a('string');
      }
      const after = await list(f, 'audit-events?action=forged');
      expect(after.data).to.deep.equal([]);
      const same = await f.s.api('GET', `${f.base}/audit-events/${event.id}`, { key: f.key });
      expect(same.status).to.equal(200);
      expect(same.body.data).to.deep.equal(event);
    });

    it('record the comments created here', async () => {
      const events = await list(f, `audit-events?resource_id=${comment.id}`);
      expect(events.data.map((e: Row) => e.action)).to.deep.equal(['create']);
      expect(events.data[0].resource).to.equal('ticket-comment');
    });
  });
});
