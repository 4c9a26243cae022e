import type { Registry } from './registry.js';

/** A compiled request and query schema of one definition (app/schema/validators.ts). */
export interface DefinitionValidators {
  create(body: Record<string, unknown>): Record<string, unknown>;
  update(body: Record<string, unknown>): Record<string, unknown>;
  listQuery(query: Record<string, unknown>): Record<string, unknown>;
  getQuery(query: Record<string, unknown>): Record<string, unknown>;
}

/** Converts between API values and stored values (app/db/codec.ts). */
export interface RecordCodec {
  toDb(values: Record<string, unknown>): Record<string, unknown>;
  fromDb(row: Record<string, unknown>): Record<string, unknown>;
  /** One scalar for a WHERE clause (filters, cursors). */
  scalarToDb(field: string, value: unknown): unknown;
}

/**
 * One immutable version of the schema: the registry of definitions and everything compiled from
 * it. Data-defined schema (catalog rows a practice admin edits) makes a new generation; requests
 * already running finish on the one they started with.
 */
export interface SchemaGeneration {
  /** The stored schema version this generation was built from (0 before any data-defined change). */
  readonly version: number;
  readonly registry: Registry;
  validators(resource: string): DefinitionValidators;
  codec(resource: string): RecordCodec;
  /** Compiled input checks of plugin actions, keyed `resource/name/on`. */
  actionInput(resource: string, name: string, on: 'record' | 'collection'): (input: Record<string, unknown>) => Record<string, unknown>;
  /** Memo for artefacts derived from this generation (OpenAPI documents, abilities …). */
  memo<T>(key: string, build: () => T): T;
}
