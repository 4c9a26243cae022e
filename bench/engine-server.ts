// The engine's HTTP server for the benchmarks, in a process of its own: the full stack (auth,
// rate limit, CASL, validation, audit) on the SQLite file named by BENCH_DB. Prints
// `LISTENING <url>` once it accepts connections.
import { loadConfig } from '../app/core/config.js';
import { createHttpApp } from '../app/http/server.js';
import { createRuntime } from '../app/runtime.js';
import pipelinePlugin from './pipeline-plugin.js';

const file = process.env.BENCH_DB;
if (!file) {
  console.error('BENCH_DB (the SQLite file) is required');
  process.exit(2);
}

const config = loadConfig({
  ...process.env,
  DATABASE_URL: `sqlite:${file}`,
  SQLITE_DRIVER: 'better-sqlite3',
  REDIS_URL: '',
  LOG_LEVEL: 'silent',
  RATE_LIMIT_PER_MINUTE: '1000000000',
  SEED_DEMO: 'false',
  HOST: '127.0.0.1',
  PORT: '0',
});
// The pipeline-cost cases write a resource with a hook and an event subscriber (bench/pipeline-plugin.ts).
const rt = await createRuntime(config, { plugins: [pipelinePlugin] });
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
