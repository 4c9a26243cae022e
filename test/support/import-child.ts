// A runner process for test/jobs/patient-import-restart.test.ts: it opens a runtime on the
// database named by the environment (DATABASE_URL, DATABASE_SCHEMA; REDIS_URL for BullMQ, with
// IMPORT_REDIS_PREFIX), runs the queued patient import, and kills itself with SIGKILL as soon as
// the first chunk's `patient.created` events are dispatched, i.e. mid-import.
//
// Run: node --import tsx test/support/import-child.ts
import { pino } from 'pino';
import { loadConfig } from '../../app/core/config.js';
import { definePlugin } from '../../app/core/plugin.js';
import { createRuntime } from '../../app/runtime.js';

const dieMidImport = definePlugin({
  name: 'die-mid-import',
  events: { 'patient.created': () => { process.kill(process.pid, 'SIGKILL'); } },
});

await createRuntime(loadConfig(process.env), {
  plugins: [dieMidImport],
  logger: pino({ level: process.env.LOG_LEVEL || 'silent' }, pino.destination(2)),
  redisPrefix: process.env.IMPORT_REDIS_PREFIX,
});
process.stdout.write('RUNNING\n');
