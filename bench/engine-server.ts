// The engine's HTTP server for the benchmarks, in a process of its own: the full stack (auth,
// rate limit, CASL, validation, audit) on DATABASE_URL (an SQLite file or PostgreSQL; BENCH_DB
// names an SQLite file instead), with REDIS_URL when set and its Redis keys under
// BENCH_REDIS_PREFIX. Prints `LISTENING <url>` once it accepts connections.
import { loadConfig } from '../app/core/config.js';
import { createHttpApp } from '../app/http/server.js';
import { createRuntime } from '../app/runtime.js';
import pipelinePlugin from './pipeline-plugin.js';

const databaseUrl = process.env.DATABASE_URL || (process.env.BENCH_DB ? `sqlite:${process.env.BENCH_DB}` : '');
if (!databaseUrl) {
  console.error('DATABASE_URL (or BENCH_DB, an SQLite file) is required');
  process.exit(2);
}

const config = loadConfig({
  ...process.env,
  DATABASE_URL: databaseUrl,
  SQLITE_DRIVER: 'better-sqlite3',
  REDIS_URL: process.env.REDIS_URL ?? '',
  LOG_LEVEL: 'silent',
  RATE_LIMIT_PER_MINUTE: '1000000000',
  SEED_DEMO: 'false',
  // The benchmarks measure the API; the back office is left out unless asked for.
  ADMIN_ENABLED: process.env.ADMIN_ENABLED ?? 'false',
  HOST: '127.0.0.1',
  PORT: '0',
});
// The pipeline-cost cases write a resource with a hook and an event subscriber (bench/pipeline-plugin.ts).
const rt = await createRuntime(config, { plugins: [pipelinePlugin], redisPrefix: process.env.BENCH_REDIS_PREFIX || undefined });
const http = createHttpApp(rt);
const { url } = await http.listen(0, '127.0.0.1');
process.stdout.write(`LISTENING ${url}\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await http.close();
  await rt.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
