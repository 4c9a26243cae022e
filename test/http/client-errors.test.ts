import { expect } from 'chai';
import { startTestServer, type TestServer } from '../support/server.js';
import { rawHttp, type RawResponse } from '../support/raw-http.js';

/** The envelope written by the server's clientError handler, before Koa ever sees the request. */
function expectRawError(res: RawResponse, status: number, code: string) {
  expect(res.status, res.body).to.equal(status);
  expect(res.headers['content-type']).to.match(/^application\/json/);
  expect(res.headers['x-content-type-options']).to.equal('nosniff');
  expect(Number(res.headers['content-length'])).to.equal(Buffer.byteLength(res.body));
  const body = JSON.parse(res.body);
  expect(Object.keys(body).sort()).to.deep.equal(['error', 'message', 'request_id']);
  expect(body.error).to.equal(code);
  expect(body.message).to.be.a('string').and.not.equal('');
  expect(body.request_id).to.be.a('string').and.not.equal('');
  expect(res.headers['x-request-id']).to.equal(body.request_id);
}

describe('errors answered by the HTTP parser', () => {
  let s: TestServer;

  before(async () => {
    s = await startTestServer();
  });

  after(async () => {
    await s.close();
  });

  it('answers a URL over 16 KB with 431 in the envelope', async () => {
    const res = await rawHttp(s.url, `GET /api/v1/x/patients?search=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    expectRawError(res, 431, 'headers_too_large');
  });

  it('answers a header over 16 KB with 431 in the envelope', async () => {
    const res = await rawHttp(s.url, `GET /health HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
    expectRawError(res, 431, 'headers_too_large');
  });

  it('answers a control byte in the request line with 400 bad_request', async () => {
    const res = await rawHttp(s.url, 'GET /hea\x01lth HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expectRawError(res, 400, 'bad_request');
  });

  it('answers a malformed header line with 400 bad_request', async () => {
    const res = await rawHttp(s.url, 'GET /health HTTP/1.1\r\nHost: localhost\r\nNo colon here\r\n\r\n');
    expectRawError(res, 400, 'bad_request');
  });

  it('answers Content-Length together with chunked encoding with 400 bad_request', async () => {
    const res = await rawHttp(s.url, 'POST /api/v1/auth/token HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n');
    expectRawError(res, 400, 'bad_request');
  });

  it('answers CONNECT, which never reaches Koa, with 501 not_implemented', async () => {
    const res = await rawHttp(s.url, 'CONNECT example.org:443 HTTP/1.1\r\nHost: example.org:443\r\n\r\n');
    expectRawError(res, 501, 'not_implemented');
  });

  it('keeps serving well-formed requests', async () => {
    const res = await s.api('GET', '/health');
    expect(res.status).to.equal(200);
  });
});
