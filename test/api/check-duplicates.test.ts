import { expect } from 'chai';
import { createPatient, detailPaths, expectError, setupApi, type Fixture } from '../support/api-fixtures.js';

type Row = Record<string, any>;

// Seed 001 §1.1 Src#43, §2.4 DuplicateCheckIn/Out, §3.10: any single signal flags a potential duplicate.

describe('Patients: duplicate check (POST /patients/check-duplicates)', () => {
  let f: Fixture;
  let jane: Row;
  let john: Row;
  let archived: Row;
  let reader: string;

  before(async () => {
    f = await setupApi();
    jane = await createPatient(f, { first_name: 'Jane', last_name: 'Doe', date_of_birth: '1985-03-15', email: 'Jane.Doe@Example.com', mobile_phone: '416-555-0123', social_security_number: '123-45-6789' });
    john = await createPatient(f, { first_name: 'John', last_name: 'Smith', date_of_birth: '1990-01-01', mobile_phone: '+1 (647) 555.0199' });
    archived = await createPatient(f, { first_name: 'Old', last_name: 'Doe', date_of_birth: '1985-03-15', email: 'old@example.com' });
    expect((await f.s.api('POST', `${f.base}/patients/${archived.id}/archive`, { key: f.key })).status).to.equal(200);
    reader = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['patients:read'], rateLimit: 1000 })).key;
  });

  after(async () => {
    await f.s.close();
  });

  const check = (body: Row, key = f.key) => f.s.api('POST', `${f.base}/patients/check-duplicates`, { key, body });
  const matches = (res: { body: Row }) => res.body.data.items.map((i: Row) => [i.id, i.matched_on]);

  it('matches last name + date of birth (name case-insensitive), never last name alone', async () => {
    expect(matches(await check({ last_name: ' doe ', date_of_birth: '1985-03-15' }))).to.deep.equal([[jane.id, ['last_name_date_of_birth']]]);
    expect(matches(await check({ last_name: 'Doe' }))).to.deep.equal([]);
    expect(matches(await check({ last_name: 'Doe', date_of_birth: '1985-03-16' }))).to.deep.equal([]);
    expect(matches(await check({ last_name: 'Roe', date_of_birth: '1985-03-15' }))).to.deep.equal([]);
  });

  it('matches the email case-insensitively, whatever the last name', async () => {
    expect(matches(await check({ last_name: 'Other', email: 'jane.doe@example.COM' }))).to.deep.equal([[jane.id, ['email']]]);
  });

  it('matches the mobile phone by its digits', async () => {
    expect(matches(await check({ last_name: 'Other', mobile_phone: '(416) 555 0123' }))).to.deep.equal([[jane.id, ['mobile_phone']]]);
    expect(matches(await check({ last_name: 'Other', mobile_phone: '16475550199' }))).to.deep.equal([[john.id, ['mobile_phone']]]);
    expect(matches(await check({ last_name: 'Other', mobile_phone: '416-555-0124' }))).to.deep.equal([]);
  });

  it('matches the SSN by its digits with patients:sensitive, and never returns it', async () => {
    const res = await check({ last_name: 'Other', social_security_number: '123 45 6789' });
    expect(matches(res)).to.deep.equal([[jane.id, ['social_security_number']]]);
    expect(JSON.stringify(res.body)).to.not.include('6789');
    expect(res.body.data.items[0]).to.not.have.property('social_security_number');
  });

  it('refuses an SSN without patients:sensitive (403), so a key cannot confirm a guessed one', async () => {
    const res = await check({ last_name: 'Other', social_security_number: '123-45-6789' }, reader);
    expectError(res, 403, 'forbidden');
    expect(detailPaths(res)).to.deep.equal(['/body/social_security_number']);
    expect(JSON.stringify(res.body)).to.not.include('6789');
    // The other signals work with the read scope alone.
    expect(matches(await check({ last_name: 'Doe', date_of_birth: '1985-03-15' }, reader))).to.deep.equal([[jane.id, ['last_name_date_of_birth']]]);
  });

  it('lists every signal a patient matched, one item per patient, and total; archived patients are not checked', async () => {
    const res = await check({ last_name: 'Doe', date_of_birth: '1985-03-15', email: 'JANE.doe@example.com', mobile_phone: '+1 647 555 0199' });
    expect(res.status).to.equal(200);
    expect(matches(res)).to.deep.equal([
      [jane.id, ['last_name_date_of_birth', 'email']],
      [john.id, ['mobile_phone']],
    ]);
    expect(res.body.data.total).to.equal(2);
    expect(Object.keys(res.body.data.items[0]).sort()).to.deep.equal(
      ['chart_number', 'date_of_birth', 'email', 'first_name', 'id', 'last_name', 'matched_on', 'mobile_phone', 'preferred_name', 'status'],
    );
    expect(matches(await check({ last_name: 'Doe', email: 'old@example.com' }))).to.deep.equal([]);
  });

  it('requires last_name and refuses malformed or unknown fields', async () => {
    for (const [body, path] of [
      [{ email: 'a@b.c' }, '/body/last_name'],
      [{ last_name: '' }, '/body/last_name'],
      [{ last_name: 'Doe', date_of_birth: '15/03/1985' }, '/body/date_of_birth'],
      [{ last_name: 'Doe', first_name: 'Jane' }, '/body/first_name'],
    ] as const) {
      const res = await check(body as Row);
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.deep.equal([path]);
    }
  });

  it('needs the patients read scope', async () => {
    const other = (await f.s.createKey({ orgs: [f.org.slug], scopes: ['tasks:write'], rateLimit: 1000 })).key;
    expectError(await check({ last_name: 'Doe', date_of_birth: '1985-03-15' }, other), 403, 'forbidden');
  });
});
