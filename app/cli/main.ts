import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { createApiKey, revokeApiKey, rotateApiKey } from '../auth/api-keys.js';
import { createOrg } from '../auth/orgs.js';
import { ConfigError, loadConfig } from '../core/config.js';
import { AppError } from '../core/errors.js';
import { planSchemaSync, syncSchema } from '../db/schema-sync.js';
import { createRuntime, type Runtime } from '../runtime.js';
import { seedDemo } from '../../seeds/demo.js';

const USAGE = `Usage: emr <command> [options]   (npm run emr -- <command> …)

  migrate [--dry-run]                      create missing tables, columns and indexes (never drops);
                                           --dry-run prints the plan and changes nothing
  seed                                     create the demo organization and its demo data
  orgs create --slug <slug> --name <name>  create an organization
  keys create --org <slug>[,<slug>…] --partner <name> --scopes <s1,s2,…>
              [--expires <date>] [--rate-limit <per-minute>] [--name <label>]
                                           issue an API key; prints it once, as JSON
  keys revoke <id>                         revoke a key (and its tokens) at once
  keys rotate <id> [--overlap <seconds>]   issue a replacement; the old key works for the
                                           overlap (default 86400 s), then expires

Configuration comes from the same environment as the server (DATABASE_URL, …).`;

function list(value: string | undefined): string[] {
  return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function print(value: unknown) {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'dry-run': { type: 'boolean' },
      slug: { type: 'string' },
      name: { type: 'string' },
      org: { type: 'string' },
      partner: { type: 'string' },
      scopes: { type: 'string' },
      expires: { type: 'string' },
      'rate-limit': { type: 'string' },
      overlap: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, sub, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return command || values.help ? 0 : 2;
  }
  const config = loadConfig();
  const dryRun = command === 'migrate' && values['dry-run'] === true;
  // The CLI logs only warnings: its stdout is for results (a new key is parsed by scripts).
  const rt = await createRuntime(config, { sync: !dryRun && command !== 'migrate', background: false, logger: pino({ level: 'warn' }, pino.destination(2)) });
  try {
    return await dispatch(rt, command, sub, arg, values, dryRun);
  } finally {
    await rt.close();
  }
}

async function dispatch(rt: Runtime, command: string, sub: string | undefined, arg: string | undefined, values: Record<string, string | boolean | undefined>, dryRun: boolean): Promise<number> {
  const str = (name: string) => values[name] as string | undefined;
  const need = (name: string): string => {
    const v = str(name);
    if (!v) throw new UsageError(`--${name} is required`);
    return v;
  };
  switch (`${command}${sub && command !== 'migrate' && command !== 'seed' ? ` ${sub}` : ''}`) {
    case 'migrate': {
      if (dryRun) {
        const steps = await planSchemaSync(rt.db, rt.registry.all());
        if (!steps.length) process.stdout.write('The schema is up to date: nothing to do.\n');
        for (const step of steps) process.stdout.write(`-- ${step.kind} ${step.table}${step.kind === 'create_table' ? '' : `.${step.name}`}\n${step.sql};\n`);
        return 0;
      }
      const steps = await syncSchema(rt.db, rt.registry.all());
      process.stdout.write(steps.length ? `Applied ${steps.length} change(s):\n${steps.map((s) => `  ${s.kind} ${s.table} ${s.name}`).join('\n')}\n` : 'The schema is up to date: nothing to do.\n');
      return 0;
    }
    case 'seed': {
      const result = await seedDemo(rt);
      print(result.created ? { seeded: true, counts: result.counts } : { seeded: false, reason: 'the demo organization already exists' });
      return 0;
    }
    case 'orgs create':
      print(await createOrg(rt, { slug: need('slug'), name: need('name') }));
      return 0;
    case 'keys create': {
      const rateLimit = str('rate-limit');
      if (rateLimit !== undefined && !/^\d+$/.test(rateLimit)) throw new UsageError('--rate-limit must be a whole number of requests per minute');
      print(await createApiKey(rt, {
        orgSlugs: list(need('org')),
        partnerName: need('partner'),
        scopes: list(need('scopes')),
        name: str('name'),
        expiresAt: str('expires'),
        rateLimit: rateLimit === undefined ? undefined : Number(rateLimit),
      }));
      return 0;
    }
    case 'keys revoke':
      if (!arg) throw new UsageError('keys revoke needs the key id');
      print(await revokeApiKey(rt, arg));
      return 0;
    case 'keys rotate': {
      if (!arg) throw new UsageError('keys rotate needs the key id');
      const overlap = str('overlap');
      if (overlap !== undefined && !/^\d+$/.test(overlap)) throw new UsageError('--overlap must be a whole number of seconds');
      print(await rotateApiKey(rt, arg, overlap === undefined ? undefined : Number(overlap)));
      return 0;
    }
    default:
      throw new UsageError(`unknown command '${[command, sub].filter(Boolean).join(' ')}'`);
  }
}

class UsageError extends Error {}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`emr: ${err.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
    else if (err instanceof AppError) {
      process.stderr.write(`emr: ${err.message}\n${(err.details ?? []).map((d) => `  ${d.path}: ${d.message}\n`).join('')}`);
    } else process.stderr.write(`emr: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
