import path from 'node:path';

export type SqliteDriver = 'better-sqlite3' | 'sqlite3';

export interface Config {
  port: number;
  host: string;
  database: { kind: 'sqlite'; file: string; driver: SqliteDriver; cacheMb?: number } | { kind: 'postgres'; url: string; schema?: string };
  redisUrl?: string;
  logLevel: string;
  rateLimitPerMinute: number;
  /** Failed authentications per client IP and minute before further failures get 429. */
  authFailuresPerMinute: number;
  jwtSecret?: string;
  tokenTtlSeconds: number;
  authCacheTtlMs: number;
  auditFlushMs: number;
  /** How long an event's dispatcher holds it before another may deliver it again. */
  eventLeaseMs: number;
  /** How often undelivered events are looked for. */
  eventSweepMs: number;
  /** How often other processes' data-defined schema changes are looked for. */
  schemaPollMs: number;
  /**
   * How long a request holds its Idempotency-Key while it runs. A process that dies mid-request
   * leaves its reservation behind; after this a retry takes it over. A slow request that lost its
   * reservation cannot commit (completing checks it is still its own), so nothing is written twice.
   */
  idempotencyLeaseMs: number;
  /** How long a running job may go unseen (no lease renewal) before it is taken to be dead and resumed. */
  jobLeaseMs: number;
  bodyLimit: string;
  seedDemo: boolean;
  publicUrl?: string;
  /** When set, GET /metrics requires `Authorization: Bearer <metricsToken>`. */
  metricsToken?: string;
  /** The API's request log (app/usage/request-log.ts): REQUEST_LOG_* variables. */
  requestLog: { enabled: boolean; flushMs: number; batchSize: number; maxBuffer: number; retentionDays: number };
  /** The back office at /admin (off for benchmarks: nothing of AdminJS is then loaded). */
  admin: {
    enabled: boolean;
    /** Signs the admin session cookie; generated once and kept in the database when unset. */
    sessionSecret?: string;
    /** Failed logins in a row that lock an admin user out, and for how long. */
    maxFailedLogins: number;
    lockoutSeconds: number;
  };
}

export class ConfigError extends Error {}

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}, got '${raw}'`);
    return fallback;
  }
  return n;
}

function bool(env: NodeJS.ProcessEnv, name: string, fallback: boolean, problems: string[]): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  problems.push(`${name} must be true or false, got '${raw}'`);
  return fallback;
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean, problems: string[]): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['on', '1', 'true', 'yes'].includes(raw.toLowerCase())) return true;
  if (['off', '0', 'false', 'no'].includes(raw.toLowerCase())) return false;
  problems.push(`${name} must be on or off, got '${raw}'`);
  return fallback;
}

/** Reads and validates configuration; every problem is reported at once, with its variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const driver = (env.SQLITE_DRIVER || 'better-sqlite3') as SqliteDriver;
  if (!['better-sqlite3', 'sqlite3'].includes(driver)) problems.push(`SQLITE_DRIVER must be better-sqlite3 or sqlite3, got '${driver}'`);

  let database: Config['database'];
  const url = env.DATABASE_URL || 'sqlite:./data/emr.sqlite';
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\//, '');
    if (!file) problems.push(`DATABASE_URL 'sqlite:' needs a file path, e.g. sqlite:./data/emr.sqlite`);
    database = { kind: 'sqlite', file: file === ':memory:' ? file : path.resolve(file), driver, cacheMb: int(env, 'SQLITE_CACHE_MB', 16, 2, 4096, problems) };
  } else if (/^postgres(ql)?:\/\//.test(url)) {
    database = { kind: 'postgres', url, schema: env.DATABASE_SCHEMA || undefined };
  } else {
    problems.push(`DATABASE_URL must start with sqlite: or postgres://, got '${url.replace(/\/\/[^@]*@/, '//***@')}'`);
    database = { kind: 'sqlite', file: path.resolve('./data/emr.sqlite'), driver };
  }

  const redisUrl = env.REDIS_URL || undefined;
  if (redisUrl && !/^rediss?:\/\//.test(redisUrl)) problems.push(`REDIS_URL must start with redis:// or rediss://`);
  const logLevel = env.LOG_LEVEL || 'info';
  if (!LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LEVELS.join(', ')}, got '${logLevel}'`);
  const jwtSecret = env.JWT_SECRET || undefined;
  if (jwtSecret && jwtSecret.length < 32) problems.push('JWT_SECRET must be at least 32 characters');
  const metricsToken = env.METRICS_TOKEN || undefined;
  const adminSessionSecret = env.ADMIN_SESSION_SECRET || undefined;
  if (adminSessionSecret && adminSessionSecret.length < 32) problems.push('ADMIN_SESSION_SECRET must be at least 32 characters');
  if (metricsToken && (metricsToken.length < 16 || /\s/.test(metricsToken))) problems.push('METRICS_TOKEN must be at least 16 characters, without spaces');

  const config: Config = {
    port: int(env, 'PORT', 3000, 0, 65535, problems),
    host: env.HOST || '0.0.0.0',
    database,
    redisUrl,
    logLevel,
    rateLimitPerMinute: int(env, 'RATE_LIMIT_PER_MINUTE', 100, 1, 1_000_000_000, problems),
    authFailuresPerMinute: int(env, 'AUTH_FAILURES_PER_MINUTE', 20, 1, 1_000_000, problems),
    jwtSecret,
    tokenTtlSeconds: int(env, 'TOKEN_TTL_SECONDS', 24 * 3600, 60, 30 * 24 * 3600, problems),
    authCacheTtlMs: int(env, 'AUTH_CACHE_TTL_MS', 5000, 0, 600_000, problems),
    auditFlushMs: int(env, 'AUDIT_FLUSH_MS', 1000, 10, 60_000, problems),
    eventLeaseMs: int(env, 'EVENT_LEASE_MS', 30_000, 50, 3_600_000, problems),
    eventSweepMs: int(env, 'EVENT_SWEEP_MS', 5_000, 20, 600_000, problems),
    schemaPollMs: int(env, 'SCHEMA_POLL_MS', 250, 20, 60_000, problems),
    idempotencyLeaseMs: int(env, 'IDEMPOTENCY_LEASE_MS', 10_000, 100, 600_000, problems),
    jobLeaseMs: int(env, 'JOB_LEASE_MS', 30_000, 100, 3_600_000, problems),
    bodyLimit: env.BODY_LIMIT || '1mb',
    seedDemo: bool(env, 'SEED_DEMO', true, problems),
    publicUrl: env.PUBLIC_URL || undefined,
    metricsToken,
    requestLog: {
      enabled: onOff(env, 'REQUEST_LOG', true, problems),
      flushMs: int(env, 'REQUEST_LOG_FLUSH_MS', 1000, 10, 60_000, problems),
      batchSize: int(env, 'REQUEST_LOG_BATCH', 500, 1, 10_000, problems),
      maxBuffer: int(env, 'REQUEST_LOG_MAX_BUFFER', 20_000, 1, 1_000_000, problems),
      retentionDays: int(env, 'REQUEST_LOG_RETENTION_DAYS', 30, 0, 3650, problems),
    },
    admin: {
      enabled: bool(env, 'ADMIN_ENABLED', true, problems),
      sessionSecret: adminSessionSecret,
      maxFailedLogins: int(env, 'ADMIN_MAX_FAILED_LOGINS', 5, 1, 1000, problems),
      lockoutSeconds: int(env, 'ADMIN_LOCKOUT_SECONDS', 900, 1, 7 * 24 * 3600, problems),
    },
  };
  if (problems.length) throw new ConfigError(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  return config;
}
