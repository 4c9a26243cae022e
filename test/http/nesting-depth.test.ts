import { expect } from 'chai';
import { detailPaths, expectError, setupApi, type Fixture } from '../support/api-fixtures.js';

const MAX_DEPTH = 32;
const json = { 'content-type': 'application/json' };

/** A patient body whose extra field `x` nests arrays so that the whole body is `depth` levels deep. */
function bodyOfDepth(depth: number): string {
  const inner = depth - 1; // the body object itself is the first level
  return `{"first_name":"A","last_name":"B","x":${'['.repeat(inner)}${']'.repeat(inner)}}`;
}

describe('nesting depth of request bodies', () => {
  let f: Fixture;

  before(async () => {
    f = await setupApi();
  });

  after(async () => {
    await f.s.close();
  });

  const post = (rawBody: string, headers: Record<string, string> = {}) => f.s.api('POST', `${f.base}/patients`, { key: f.key, rawBody, headers: { ...json, ...headers } });

  it('answers arrays nested 2,000 deep with 400 validation_error at /body', async () => {
    const res = await post(bodyOfDepth(2000));
    expectError(res, 400, 'validation_error');
    expect(detailPaths(res)).to.deep.equal(['/body']);
    expect(res.body.details[0].message).to.contain(String(MAX_DEPTH));
  });

  it('answers objects nested 2,000 deep with 400', async () => {
    const res = await post(`{"first_name":"A","last_name":"B","x":${'{"a":'.repeat(2000)}1${'}'.repeat(2000)}}`);
    expectError(res, 400, 'validation_error');
    expect(detailPaths(res)).to.deep.equal(['/body']);
  });

  it('answers a deep body with 400 also when it carries an Idempotency-Key', async () => {
    expectError(await post(bodyOfDepth(5000), { 'idempotency-key': 'deep-1' }), 400, 'validation_error');
  });

  it('answers a deep body to the token exchange with 400', async () => {
    const res = await f.s.api('POST', '/api/v1/auth/token', { rawBody: `{"apiKey":${'['.repeat(3000)}${']'.repeat(3000)}}`, headers: json });
    expectError(res, 400, 'validation_error');
    expect(detailPaths(res)).to.deep.equal(['/body']);
  });

  it(`allows ${MAX_DEPTH} levels (then the schema speaks) and refuses one more`, async () => {
    const atLimit = await post(bodyOfDepth(MAX_DEPTH));
    expectError(atLimit, 400, 'validation_error');
    expect(detailPaths(atLimit)).to.deep.equal(['/body/x']);
    expect(atLimit.body.details[0].message).to.equal("unknown field 'x'");
    const over = await post(bodyOfDepth(MAX_DEPTH + 1));
    expectError(over, 400, 'validation_error');
    expect(detailPaths(over)).to.deep.equal(['/body']);
  });

  it('still reports NUL characters with their path, in document order', async () => {
    const res = await post('{"first_name":"A\\u0000","last_name":"B","x":[1,{"a/b~c":"\\u0000"}],"y":"\\u0000"}');
    expectError(res, 400, 'validation_error');
    expect(detailPaths(res)).to.deep.equal(['/body/first_name', '/body/x/1/a~1b~0c', '/body/y']);
  });
});
