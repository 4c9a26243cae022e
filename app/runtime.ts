import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { AuditWriter } from './audit/audit-writer.js';
import type { Config } from './core/config.js';
import { loadDefinitionDirs, Registry } from './core/registry.js';
import { systemDefinitions } from './core/system-definitions.js';
import type { EntityDefinition } from './core/types.js';
import { makeCodec, type RecordCodec } from './db/codec.js';
import { openDatabase, type Database } from './db/connection.js';
import { buildModels, type ModelClass } from './db/models.js';
import { syncSchema, type SyncStep } from './db/schema-sync.js';
import { makeWriteGenerations, ResultCache, type WriteGenerations } from './db/write-generations.js';
import { compileValidators, type DefinitionValidators } from './schema/validators.js';

// The root of the running tree: the repository under tsx, dist/ when compiled (`npm start`), where
// definitions/ (and plugins/) are compiled beside app/; folders loaded by path are found under it.
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_DEFINITION_DIRS = [path.join(PROJECT_ROOT, 'definitions')];

/** Everything generated from the definitions for one database; shared by REST, CLI, jobs and tests. */
export interface Runtime {
  config: Config;
  logger: Logger;
  registry: Registry;
  db: Database;
  redis?: Redis;
  /** Prefix for every Redis key of this runtime (tests isolate themselves with it). */
  redisPrefix: string;
  models: Map<string, ModelClass>;
  validators: Map<string, DefinitionValidators>;
  codecs: Map<string, RecordCodec>;
  audit: AuditWriter;
  generations: WriteGenerations;
  counts: ResultCache<number>;
  /** Decoded list pages (without embedded relations), exact per write generation. */
  pages: ResultCache<{ rows: Record<string, unknown>[]; hasNext: boolean }>;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  definitionDirs?: string[];
  /** Definitions contributed by plugins or tests, in addition to the folders. */
  extraDefinitions?: EntityDefinition[];
  logger?: Logger;
  redisPrefix?: string;
  /** Run schema sync while starting (the server does; `emr migrate --dry-run` does not). */
  sync?: boolean;
}

export async function createRuntime(config: Config, options: RuntimeOptions = {}): Promise<Runtime & { syncSteps: SyncStep[] }> {
  const logger = options.logger ?? pino({ level: config.logLevel, base: undefined, timestamp: pino.stdTimeFunctions.isoTime });
  const loaded = await loadDefinitionDirs(options.definitionDirs ?? DEFAULT_DEFINITION_DIRS);
  const registry = new Registry([...systemDefinitions, ...loaded, ...(options.extraDefinitions ?? [])]);
  const db = openDatabase(config.database);
  let redis: Redis | undefined;
  try {
    const syncSteps = options.sync === false ? [] : await syncSchema(db, registry.all());
    if (config.redisUrl) {
      redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: true });
      redis.on('error', (err) => logger.warn({ err: err.message }, 'redis error'));
      await redis.connect();
    }
    const codecs = new Map<string, RecordCodec>();
    const validators = new Map<string, DefinitionValidators>();
    for (const def of registry.all()) {
      codecs.set(def.name, makeCodec(def, db.dialect));
      validators.set(def.name, compileValidators(def));
    }
    const redisPrefix = options.redisPrefix ?? 'emr:';
    const generations = makeWriteGenerations(db, redis, redisPrefix);
    const auditTable = registry.get('audit-event').table;
    const audit = new AuditWriter(db.knex, codecs.get('audit-event')!, config.auditFlushMs, logger, () => generations.bump(auditTable));
    const runtime: Runtime & { syncSteps: SyncStep[] } = {
      config,
      logger,
      registry,
      db,
      redis,
      redisPrefix,
      models: buildModels(registry, db.knex),
      validators,
      codecs,
      audit,
      generations,
      counts: new ResultCache(5000),
      pages: new ResultCache(100),
      syncSteps,
      async close() {
        await audit.flush();
        if (redis) redis.disconnect();
        await db.close();
      },
    };
    return runtime;
  } catch (err) {
    redis?.disconnect();
    await db.close();
    throw err;
  }
}
