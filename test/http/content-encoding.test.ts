import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { detailPaths, expectError, setupApi, type Fixture } from '../support/api-fixtures.js';

const BODY = JSON.stringify({ first_name: 'Ada', last_name: 'Lovelace' });
const COMPRESSORS: Record<string, (b: Buffer) => Buffer> = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync };
const COMPRESS = Object.fromEntries(Object.entries(COMPRESSORS).map(([name, compress]) => [name, (b: Buffer) => new Uint8Array(compress(b))]));

describe('Content-Encoding of request bodies', () => {
  let f: Fixture;

  before(async () => {
    f = await setupApi();
  });

  after(async () => {
    await f.s.close();
  });

  const post = (rawBody: string | Uint8Array<ArrayBuffer>, headers: Record<string, string>) =>
    f.s.api('POST', `${f.base}/patients`, { key: f.key, rawBody, headers: { 'content-type': 'application/json', ...headers } });

  for (const encoding of Object.keys(COMPRESS)) {
    it(`accepts a ${encoding} body`, async () => {
      const res = await post(COMPRESS[encoding](Buffer.from(BODY)), { 'content-encoding': encoding });
      expect(res.status, JSON.stringify(res.body)).to.equal(201);
      expect(res.body.data.last_name).to.equal('Lovelace');
    });

    it(`answers a body that is not ${encoding} data with 400 at /body`, async () => {
      const res = await post(BODY, { 'content-encoding': encoding });
      expectError(res, 400, 'validation_error');
      expect(detailPaths(res)).to.deep.equal(['/body']);
      expect(res.body.details[0].message).to.contain(encoding);
    });

    it(`answers a truncated ${encoding} body with 400`, async () => {
      const whole = COMPRESS[encoding](Buffer.from(BODY));
      expectError(await post(whole.subarray(0, whole.length - 6), { 'content-encoding': encoding }), 400, 'validation_error');
    });
  }

  for (const encoding of ['compress', 'zstd', 'gzip, gzip', 'x-unknown']) {
    it(`answers Content-Encoding: ${encoding} with 415 unsupported_media_type`, async () => {
      const res = await post(BODY, { 'content-encoding': encoding });
      expectError(res, 415, 'unsupported_media_type');
      expect(res.body.message).to.contain('Content-Encoding');
    });
  }
});
