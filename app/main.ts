import { ConfigError, loadConfig } from './core/config.js';
import { createHttpApp } from './http/server.js';
import { createRuntime } from './runtime.js';
import { issueDemoKey, seedDemo } from '../seeds/demo.js';

/** `npm start`: schema sync, demo data (unless SEED_DEMO=false), API on PORT. */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const rt = await createRuntime(config);
  if (rt.syncSteps.length) rt.logger.info({ steps: rt.syncSteps.length }, 'schema synchronized');
  let demoKey: string | undefined;
  if (config.seedDemo) {
    const seeded = await seedDemo(rt);
    if (seeded.created) rt.logger.info(seeded.counts, 'demo data seeded');
    demoKey = (await issueDemoKey(rt)).key;
  }
  const http = createHttpApp(rt);
  const { url } = await http.listen();
  const lines = [
    '',
    `  EMR platform listening on ${url}`,
    `  API:           ${url}/api/v1/demo-clinic/patients`,
    `  OpenAPI:       ${url}/api/openapi.json`,
    `  API reference: ${url}/api/docs`,
    `  Health:        ${url}/health`,
  ];
  if (demoKey) {
    lines.push(`  Demo API key (scope *, org demo-clinic; a new one each start):`, `    ${demoKey}`);
    lines.push(`  Try: curl -H "Authorization: Bearer ${demoKey}" "${url}/api/v1/demo-clinic/patients?limit=2"`);
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    rt.logger.info({ signal }, 'shutting down');
    await http.close();
    await rt.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
