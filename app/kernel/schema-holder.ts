import type { Logger } from 'pino';
import type { SchemaGeneration } from '../core/schema-generation.js';
import type { WriteGenerations } from '../db/write-generations.js';
import { DefinitionError } from '../core/define.js';
import { loggableError } from '../core/loggable-error.js';
import { SchemaChangeRefused, type GenerationBuilder } from '../schema/generation.js';
import type { Kernel } from './kernel.js';

/**
 * Holds the current schema generation and moves to the next when data-defined schema changes.
 * The process that commits such a change switches before it answers; every other process notices
 * through the write generations of the watched tables (SQLite's data_version, Redis, PostgreSQL's
 * NOTIFY) within one poll interval. Requests already running keep the generation they started with.
 */
export class SchemaHolder {
  private gen: SchemaGeneration;
  private fingerprint: string;
  private readonly watchedResources: Set<string>;
  private seen = new Map<string, string | null>();
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;

  constructor(
    initial: SchemaGeneration,
    initialFingerprint: string,
    private readonly builder: GenerationBuilder,
    kernel: Kernel,
    private readonly generations: WriteGenerations,
    private readonly logger: Logger,
  ) {
    this.gen = initial;
    this.fingerprint = initialFingerprint;
    this.watchedResources = new Set(kernel.schemaSources.flatMap((src) => src.watch));
  }

  get current(): SchemaGeneration {
    return this.gen;
  }

  watches(resource: string): boolean {
    return this.watchedResources.has(resource);
  }

  private watchedTables(): string[] {
    return [...this.watchedResources].filter((r) => this.gen.registry.has(r)).map((r) => this.gen.registry.get(r).table);
  }

  /** Rebuilds from the stored schema data; switches only when the definitions actually changed. */
  refresh(): Promise<void> {
    this.refreshing ??= this.rebuild().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async rebuild(): Promise<void> {
    try {
      const definitions = await this.builder.definitions();
      const fingerprint = definitionFingerprint(definitions);
      if (fingerprint === this.fingerprint) return;
      this.gen = await this.builder.build(this.gen.version + 1, definitions, { requireNoDdl: true });
      this.fingerprint = fingerprint;
      this.logger.info({ schema_version: this.gen.version }, 'schema generation switched');
    } catch (err) {
      // A schema the engine cannot serve is refused; the current generation stays. Only the
      // engine's own refusals are quoted: a database error's message can echo stored values.
      const ours = err instanceof SchemaChangeRefused || err instanceof DefinitionError;
      this.logger.error({ code: 'schema_generation_refused', ...(ours ? { reason: (err as Error).message } : { err: loggableError(err) }) }, 'data-defined schema change refused');
    }
  }

  /** Polls the watched tables' write generations; a change in another process triggers a rebuild. */
  async startWatching(pollMs: number): Promise<void> {
    const tables = this.watchedTables();
    if (!tables.length) return;
    for (const t of tables) this.seen.set(t, await this.generations.current(t));
    this.timer = setInterval(() => void this.poll(tables), pollMs);
    this.timer.unref();
  }

  private async poll(tables: string[]): Promise<void> {
    try {
      let changed = false;
      for (const t of tables) {
        const now = await this.generations.current(t);
        // Unknown (null) means a change may have been missed: rebuild to be sure.
        if (now === null || now !== this.seen.get(t)) changed = true;
        this.seen.set(t, now);
      }
      if (changed) await this.refresh();
    } catch (err) {
      this.logger.warn({ code: (err as { code?: string }).code ?? 'schema_poll_failed' }, 'schema poll failed');
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.refreshing;
  }
}

/** Definitions compared as data (computed fields' functions are code, the same in every generation). */
export function definitionFingerprint(definitions: unknown): string {
  return JSON.stringify(definitions);
}
