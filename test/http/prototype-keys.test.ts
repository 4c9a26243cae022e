import { expect } from 'chai';
import { createPatient, detailPaths, expectError, setupApi, type Fixture } from '../support/api-fixtures.js';

const json = { 'content-type': 'application/json' };

describe('prototype keys in bodies and queries', () => {
  let f: Fixture;

  before(async () => {
    f = await setupApi();
  });

  after(async () => {
    await f.s.close();
    expect(({} as Record<string, unknown>).polluted, 'Object.prototype polluted').to.equal(undefined);
  });

  const post = (rawBody: string) => f.s.api('POST', `${f.base}/patients`, { key: f.key, rawBody, headers: json });

  for (const [name, rawBody] of [
    ['a top-level __proto__', '{"first_name":"A","last_name":"B","__proto__":{"polluted":true}}'],
    ['a nested __proto__', '{"first_name":"A","last_name":"B","x":{"y":[{"__proto__":{"polluted":true}}]}}'],
    ['an escaped __proto__', '{"first_name":"A","last_name":"B","\\u005f_proto__":{"polluted":true}}'],
  ]) {
    it(`answers ${name} with 400 validation_error at /body`, async () => {
      const res = await post(rawBody);
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.deep.equal(['/body']);
      expect(res.body.details[0].message).to.contain('__proto__');
    });
  }

  it('answers __proto__ in an update and in the token exchange with 400', async () => {
    const patient = await createPatient(f, { first_name: 'A', last_name: 'B' });
    const res = await f.s.api('PATCH', `${f.base}/patients/${patient.id}`, { key: f.key, rawBody: '{"first_name":"C","__proto__":{"polluted":true}}', headers: json });
    expectError(res, 400, 'validation_error');
    const token = await f.s.api('POST', '/api/v1/auth/token', { rawBody: `{"apiKey":"${f.key}","__proto__":{"polluted":true}}`, headers: json });
    expectError(token, 400, 'validation_error');
  });

  it('answers constructor and prototype keys as unknown fields', async () => {
    const res = await post('{"first_name":"A","last_name":"B","constructor":{"prototype":{"polluted":true}},"prototype":{"polluted":true}}');
    expectError(res, 400, 'validation_error');
    expect(detailPaths(res).sort()).to.deep.equal(['/body/constructor', '/body/prototype']);
  });

  it('answers ?include= naming an Object.prototype property as an unknown relation', async () => {
    const patient = await createPatient(f, { first_name: 'A', last_name: 'B' });
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      for (const path of [`${f.base}/patients?include=${name}`, `${f.base}/patients/${patient.id}?include=${name}`]) {
        const res = await f.s.api('GET', path, { key: f.key });
        expectError(res, 400, 'validation_error');
        expect(detailPaths(res), path).to.deep.equal(['/query/include']);
      }
    }
  });

  for (const param of ['__proto__', 'constructor', 'toString']) {
    it(`answers ?${param}= as a parameter of its own, not a repeat`, async () => {
      const res = await f.s.api('GET', `${f.base}/patients?${param}=1`, { key: f.key });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.deep.equal([`/query/${param}`]);
      expect(res.body.details[0].message).to.contain(`'${param}'`).and.not.contain('more than once');
    });
  }
});
