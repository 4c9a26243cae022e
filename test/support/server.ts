import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import knexPkg from 'knex';
import { pino, type Logger } from 'pino';
import { createApiKey, type CreatedKey } from '../../app/auth/api-keys.js';
import { createOrg } from '../../app/auth/orgs.js';
import { loadConfig, type Config } from '../../app/core/config.js';
import type { PluginDefinition } from '../../app/core/plugin.js';
import type { EntityDefinition } from '../../app/core/types.js';
import type { Org } from '../../app/operations/context.js';
import { createHttpApp } from '../../app/http/server.js';
import { loadPluginDirs } from '../../app/kernel/kernel.js';
import { createRuntime, DEFAULT_PLUGIN_DIRS, type Runtime } from '../../app/runtime.js';

const { knex } = knexPkg;

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export interface TestServer {
  url: string;
  rt: Runtime;
  api<T = any>(method: string, urlPath: string, opts?: { key?: string; body?: unknown; headers?: Record<string, string>; rawBody?: string | Uint8Array<ArrayBuffer> }): Promise<ApiResponse<T>>;
  createOrg(slug?: string): Promise<Org>;
  createKey(opts: { orgs: string[]; scopes: string[]; rateLimit?: number; expiresAt?: string; partner?: string }): Promise<CreatedKey>;
  close(): Promise<void>;
}

/**
 * A real server on an ephemeral port over a database of its own: a temporary SQLite file, or a
 * fresh PostgreSQL schema when DATABASE_URL points at PostgreSQL. REDIS_URL is honoured with a
 * unique key prefix. Everything is removed by close().
 */
export async function startTestServer(opts: { definitionDirs?: string[]; extraDefinitions?: EntityDefinition[]; pluginDirs?: string[]; plugins?: PluginDefinition[]; withoutPlugins?: string[]; env?: Record<string, string>; logger?: Logger } = {}): Promise<TestServer> {
  const env = { ...process.env, LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent', SEED_DEMO: 'false', ...opts.env };
  const base = loadConfig(env);
  let cleanup: () => Promise<void>;
  let database: Config['database'];
  if (base.database.kind === 'postgres') {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const admin = knex({ client: 'pg', connection: base.database.url });
    await admin.raw(`create schema "${schema}"`);
    await admin.destroy();
    database = { kind: 'postgres', url: base.database.url, schema };
    cleanup = async () => {
      const k = knex({ client: 'pg', connection: base.database.kind === 'postgres' ? base.database.url : '' });
      await k.raw(`drop schema "${schema}" cascade`);
      await k.destroy();
    };
  } else {
    const dir = mkdtempSync(path.join(tmpdir(), 'emr-test-'));
    database = { kind: 'sqlite', file: path.join(dir, 'test.sqlite'), driver: base.database.driver };
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  }
  const config: Config = { ...base, database, port: 0, host: '127.0.0.1' };
  // `withoutPlugins` leaves named plugins of the folders out: engine tests that use a field as plain
  // data (patient status) run without the plugin that owns its changes.
  const without = opts.withoutPlugins ?? [];
  const folderPlugins = without.length ? (await loadPluginDirs(opts.pluginDirs ?? DEFAULT_PLUGIN_DIRS)).filter((p) => !without.includes(p.name)) : [];
  const rt = await createRuntime(config, {
    definitionDirs: opts.definitionDirs,
    extraDefinitions: opts.extraDefinitions,
    pluginDirs: without.length ? [] : opts.pluginDirs,
    plugins: [...folderPlugins, ...(opts.plugins ?? [])],
    logger: opts.logger ?? pino({ level: env.LOG_LEVEL! }),
    redisPrefix: `emr-test:${randomBytes(6).toString('hex')}:`,
  });
  const http = createHttpApp(rt);
  const { url } = await http.listen(0, '127.0.0.1');
  let orgCount = 0;

  return {
    url,
    rt,
    async api(method, urlPath, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      if (o.key) headers.authorization = `Bearer ${o.key}`;
      let payload: string | Uint8Array<ArrayBuffer> | undefined = o.rawBody;
      if (o.body !== undefined) {
        payload = JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(`${url}${urlPath}`, { method, headers, body: payload });
      const text = await res.text();
      let body: any = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        /* not JSON (metrics, docs) */
      }
      return { status: res.status, headers: res.headers, body };
    },
    createOrg: (slug) => createOrg(rt, { slug: slug ?? `org-${++orgCount}-${randomBytes(3).toString('hex')}`, name: 'Test Clinic' }),
    createKey: (k) => createApiKey(rt, { orgSlugs: k.orgs, partnerName: k.partner ?? 'Test Partner', scopes: k.scopes, rateLimit: k.rateLimit, expiresAt: k.expiresAt }),
    async close() {
      await http.close();
      if (rt.redis) {
        const keys = await rt.redis.keys(`${rt.redisPrefix}*`);
        if (keys.length) await rt.redis.del(...keys);
      }
      await rt.close();
      await cleanup();
    },
  };
}
