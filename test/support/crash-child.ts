// The process test/kernel/crash-recovery.test.ts kills with SIGKILL in the middle of a stream of
// writes. It opens a runtime on the database named by the environment (DATABASE_URL=sqlite:<file>,
// or a PostgreSQL URL with DATABASE_SCHEMA), with the crash-test plugin given as an object,
// creates an organization and a `*` key, serves the HTTP API on an ephemeral port and prints one
// JSON line `{url, key, org}` to stdout. It then serves until it is killed.
// CRASH_AFTER_COMMIT_DELAY_MS slows the plugin's afterCommit hook (committed, not yet answered);
// CRASH_HELD_MS holds `[held]` notes before their transaction (never committed before the kill).
//
// Run: node --import tsx test/support/crash-child.ts
import type { Knex } from 'knex';
import { pino } from 'pino';
import { createApiKey } from '../../app/auth/api-keys.js';
import { createOrg } from '../../app/auth/orgs.js';
import { loadConfig } from '../../app/core/config.js';
import { createHttpApp } from '../../app/http/server.js';
import { createRuntime } from '../../app/runtime.js';
import { crashPlugin, deferred } from './crash-plugin.js';

const config = loadConfig(process.env);
const knexReady = deferred<Knex>();
const rt = await createRuntime(
  { ...config, port: 0, host: '127.0.0.1' },
  {
    plugins: [crashPlugin({ knex: knexReady.promise, afterCommitDelayMs: Number(process.env.CRASH_AFTER_COMMIT_DELAY_MS || 0), heldMs: Number(process.env.CRASH_HELD_MS || 0) })],
    logger: pino({ level: process.env.LOG_LEVEL || 'silent' }, pino.destination(2)),
    redisPrefix: process.env.CRASH_REDIS_PREFIX || undefined,
  },
);
knexReady.resolve(rt.db.knex);
const org = await createOrg(rt, { slug: process.env.CRASH_ORG_SLUG || 'crash-clinic', name: 'Crash Clinic' });
const key = await createApiKey(rt, { orgSlugs: [org.slug], partnerName: 'Crash Partner', scopes: ['*'], rateLimit: 1_000_000_000 });
const { url } = await createHttpApp(rt).listen(0, '127.0.0.1');
process.stdout.write(`${JSON.stringify({ url, key: key.key, keyId: key.id, org: org.slug })}\n`);
