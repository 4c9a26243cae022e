import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { AuditWriter } from './audit/audit-writer.js';
import type { Config } from './core/config.js';
import { backfillCounts } from './counts/backfill.js';
import type { PluginDefinition } from './core/plugin.js';
import { loggableError } from './core/loggable-error.js';
import { loadDefinitionDirs, Registry } from './core/registry.js';
import type { SchemaGeneration } from './core/schema-generation.js';
import { systemDefinitions } from './core/system-definitions.js';
import type { EntityDefinition } from './core/types.js';
import { openDatabase, type Database } from './db/connection.js';
import { syncSchema, type SyncStep } from './db/schema-sync.js';
import { makeWriteGenerations, ResultCache, type WriteGenerations } from './db/write-generations.js';
import { EventBus } from './events/outbox.js';
import { Kernel, loadPluginDirs } from './kernel/kernel.js';
import { definitionFingerprint, SchemaHolder } from './kernel/schema-holder.js';
import { createJobQueue, type JobQueue } from './jobs/index.js';
import { GenerationBuilder } from './schema/generation.js';
import { RequestLog } from './usage/request-log.js';
import type { CachedPage } from './operations/list.js';

// The root of the running tree: the repository under tsx, dist/ when compiled (`npm start`), where
// definitions/ (and plugins/) are compiled beside app/; folders loaded by path are found under it.
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_DEFINITION_DIRS = [path.join(PROJECT_ROOT, 'definitions')];
export const DEFAULT_PLUGIN_DIRS = [path.join(PROJECT_ROOT, 'plugins')];

/** Everything generated from the definitions and plugins for one database; shared by REST, CLI, jobs and tests. */
export interface Runtime {
  config: Config;
  logger: Logger;
  kernel: Kernel;
  /** The current schema generation; an operation pins the one it started with. */
  readonly schema: SchemaGeneration;
  schemas: SchemaHolder;
  /** The current generation's registry (a shorthand for `schema.registry`). */
  readonly registry: Registry;
  db: Database;
  redis?: Redis;
  /** Prefix for every Redis key of this runtime (tests isolate themselves with it). */
  redisPrefix: string;
  audit: AuditWriter;
  /** The API's request log (calls under /api/v1), written in batches. */
  requestLog: RequestLog;
  events: EventBus;
  /** Background jobs: BullMQ with REDIS_URL, else kept and run from the database. */
  jobs: JobQueue;
  generations: WriteGenerations;
  counts: ResultCache<number>;
  /** Decoded list pages (without embedded relations), exact per write generation. */
  pages: ResultCache<CachedPage>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  definitionDirs?: string[];
  /** Definitions contributed by tests, in addition to the folders and plugins. */
  extraDefinitions?: EntityDefinition[];
  pluginDirs?: string[];
  /** Plugins given as objects (tests), in addition to the folders. */
  plugins?: PluginDefinition[];
  logger?: Logger;
  redisPrefix?: string;
  /** Run schema sync while starting (the server does; `emr migrate --dry-run` does not). */
  sync?: boolean;
  /** Start the background parts (event sweeps, schema polling); the server does, one-shot CLI commands do not. */
  background?: boolean;
}

export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime & { syncSteps: SyncStep[] }> {
  const logger = options.logger ?? pino({ level: config.logLevel, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
  const kernel = new Kernel([...(await loadPluginDirs(options.pluginDirs ?? DEFAULT_PLUGIN_DIRS)), ...(options.plugins ?? [])]);
  const loaded = await loadDefinitionDirs(options.definitionDirs ?? DEFAULT_DEFINITION_DIRS);
  const declared = [...systemDefinitions, ...loaded, ...kernel.definitions, ...(options.extraDefinitions ?? [])];
  // Checked before the database is touched: a malformed definition never reaches schema sync.
  const declaredRegistry = new Registry(declared, { reservedNames: kernel.reservedNames });
  kernel.checkActions((resource) => declaredRegistry.has(resource) && declaredRegistry.get(resource).archivable);
  const db = openDatabase(config.database);
  let redis: Redis | undefined;
  const closers: (() => Promise<void>)[] = [];
  try {
    const syncSteps = options.sync === false ? [] : await syncSchema(db, declaredRegistry.all());
    if (config.redisUrl) {
      redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: true });
      redis.on('error', (err) => logger.warn({ err: loggableError(err) }, 'redis error'));
      await redis.connect();
    }
    const builder = new GenerationBuilder(declared, kernel, db);
    // Data-defined schema is read from tables that exist only once synced.
    const definitions = options.sync === false ? declared : await builder.definitions();
    const first = await builder.build(0, definitions, { requireNoDdl: options.sync !== false });
    if (options.sync !== false) {
      // Once the tables exist, and before any write: counts of keys declared or changed since
      // the last start are recomputed from the rows.
      const recounted = await backfillCounts(db, first.registry.all());
      if (recounted.length) logger.info({ tables: recounted }, 'record counts rebuilt');
    }
    const redisPrefix = options.redisPrefix ?? 'emr:';
    const generations = makeWriteGenerations(db, redis, redisPrefix);
    const schemas = new SchemaHolder(first, definitionFingerprint(definitions), builder, kernel, generations, logger);
    const jobs = createJobQueue({
      knex: db.knex,
      dialect: db.dialect,
      logger,
      redisUrl: config.redisUrl,
      redisPrefix: `${redisPrefix}jobs:`,
      leaseMs: config.jobLeaseMs,
      onJobsChanged: () => generations.bump(first.registry.get('job').table),
    });
    // Plugin jobs run operations: their handlers get the runtime, which exists before any job starts.
    let built: Runtime | undefined;
    for (const [type, job] of kernel.jobs) jobs.define(type, (ctx) => job.handler({ ...ctx, rt: built! }), { attempts: job.attempts, backoffMs: job.backoffMs });
    const auditTable = first.registry.get('audit-event').table;
    const audit = new AuditWriter(db.knex, db.statements, auditTable, () => schemas.current.codec('audit-event'), config.auditFlushMs, logger, () => generations.bump(auditTable));
    const events = new EventBus({
      knex: db.knex,
      statements: db.statements,
      kernel,
      logger,
      codec: () => schemas.current.codec('outbox-event'),
      services: {
        logger,
        enqueue: (type, input) => jobs.enqueue(type, input),
      },
      leaseMs: config.eventLeaseMs,
      sweepMs: config.eventSweepMs,
    });
    const requestLog = new RequestLog(db.knex, db.statements, config.requestLog, logger);
    // Jobs stop first (their handlers may still write), then events, then the buffered audit and
    // request log.
    closers.push(() => jobs.close(), () => schemas.close(), () => events.close(), () => audit.flush(), () => requestLog.close());
    const runtime: Runtime & { syncSteps: SyncStep[] } = {
      config,
      logger,
      kernel,
      get schema() {
        return schemas.current;
      },
      schemas,
      get registry() {
        return schemas.current.registry;
      },
      db,
      redis,
      redisPrefix,
      audit,
      requestLog,
      events,
      jobs,
      generations,
      counts: new ResultCache(5000),
      pages: new ResultCache(100),
      syncSteps,
      async close() {
        for (const close of closers) await close();
        if (redis) redis.disconnect();
        await db.close();
      },
    };
    built = runtime;
    if (options.background !== false) {
      await jobs.start();
      events.start();
      requestLog.startRetention();
      await schemas.startWatching(config.schemaPollMs);
    }
    return runtime;
  } catch (err) {
    for (const close of closers) await close().catch(() => {});
    redis?.disconnect();
    await db.close();
    throw err;
  }
}
