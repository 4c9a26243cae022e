import { ConfigError, loadConfig } from './core/config.js';
import { createHttpApp } from './http/server.js';
import { createRuntime } from './runtime.js';
import { resolveOrg } from './auth/orgs.js';
import { DEMO_ORG, issueDemoKey, seedDemo } from '../seeds/demo.js';

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
  let demoAdmins: { email: string; role: string; password: string }[] = [];
  if (config.seedDemo) {
    const seeded = await seedDemo(rt);
    if (seeded.created) rt.logger.info(seeded.counts, 'demo data seeded');
    demoKey = (await issueDemoKey(rt)).key;
    const org = await resolveOrg(rt, DEMO_ORG.slug);
    if (config.admin.enabled && org) demoAdmins = await (await import('../admin/users.js')).issueDemoAdmins(rt, org);
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
  if (demoAdmins.length) {
    lines.push(`  Back office:   ${url}/admin (demo logins; new passwords each start):`);
    for (const a of demoAdmins) lines.push(`    ${a.role.padEnd(15)} ${a.email}  ${a.password}`);
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
