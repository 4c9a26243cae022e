// The server test/jobs/patient-import-memory.test.ts starts with a small heap (--max-old-space-size):
// a runtime on the database named by the environment (DATABASE_URL, DATABASE_SCHEMA) that runs no
// jobs, an organization and a `*` key, the HTTP API on an ephemeral port, and one JSON line
// `{url, key, org}` on stdout. It then serves until it is killed.
//
// Run: node --max-old-space-size=64 --import tsx test/support/import-server-child.ts
import { pino } from 'pino';
import { createApiKey } from '../../app/auth/api-keys.js';
import { createOrg } from '../../app/auth/orgs.js';
import { loadConfig } from '../../app/core/config.js';
import { createHttpApp } from '../../app/http/server.js';
import { createRuntime } from '../../app/runtime.js';

const rt = await createRuntime({ ...loadConfig(process.env), port: 0, host: '127.0.0.1' }, {
  logger: pino({ level: process.env.LOG_LEVEL || 'silent' }, pino.destination(2)),
  background: false,
});
const org = await createOrg(rt, { slug: 'memory-clinic', name: 'Memory Clinic' });
const key = await createApiKey(rt, { orgSlugs: [org.slug], partnerName: 'Memory Partner', scopes: ['*'], rateLimit: 1_000_000_000 });
const { url } = await createHttpApp(rt).listen(0, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ url, key: key.key, org: org.slug })}\n`);
