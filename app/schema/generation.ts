import type { Knex } from 'knex';
import { countSignature } from '../counts/keys.js';
import { Registry } from '../core/registry.js';
import type { DefinitionValidators, RecordCodec, SchemaGeneration } from '../core/schema-generation.js';
import type { EntityDefinition, ResolvedDefinition } from '../core/types.js';
import type { Kernel } from '../kernel/kernel.js';
import { makeCodec } from '../db/codec.js';
import type { Dialect } from '../db/connection.js';
import { planSchemaSync } from '../db/schema-sync.js';
import { compileInputSchema, compileQueryInputSchema, compileValidators } from './validators.js';

/** A data-defined schema the engine cannot serve; its message names definitions, never data. */
export class SchemaChangeRefused extends Error {}

/**
 * Builds schema generations. Definitions that a data-defined source left untouched keep their
 * resolution, validators and codec from the generation before, so a new generation compiles only
 * what changed.
 */
export class GenerationBuilder {
  private readonly resolved = new WeakMap<EntityDefinition, ResolvedDefinition>();
  private readonly compiled = new WeakMap<ResolvedDefinition, { validators: DefinitionValidators; codec: RecordCodec }>();
  private readonly actionInputs = new Map<string, (input: Record<string, unknown>) => Record<string, unknown>>();
  /** Each definition's count keys as of the first generation: counts are rebuilt only at start. */
  private countKeys: Map<string, string> | undefined;

  constructor(
    private readonly base: readonly EntityDefinition[],
    private readonly kernel: Kernel,
    private readonly db: { knex: Knex; dialect: Dialect },
  ) {}

  /** The definitions as declared, reshaped by every data-defined source in plugin order. */
  async definitions(): Promise<EntityDefinition[]> {
    let defs = [...this.base];
    for (const source of this.kernel.schemaSources) defs = await source.apply(defs, this.db.knex);
    return defs;
  }

  /**
   * A new generation. Past the first, a generation may change validation, enums and documentation
   * but never needs DDL: one whose definitions would add a table or column is refused.
   */
  async build(version: number, definitions: EntityDefinition[], options: { requireNoDdl: boolean }): Promise<SchemaGeneration> {
    const registry = new Registry(definitions, { reservedNames: this.kernel.reservedNames, resolved: this.resolved });
    if (options.requireNoDdl) {
      const steps = (await planSchemaSync(this.db, registry.all())).filter((s) => s.kind !== 'create_index');
      if (steps.length) throw new SchemaChangeRefused(`a data-defined schema change may not alter tables (${steps.map((s) => `${s.kind} ${s.table}.${s.name}`).join(', ')})`);
    }
    const countKeys = new Map(registry.all().map((d) => [d.name, countSignature(d)]));
    if (this.countKeys) {
      // Stored counts follow the keys they were built for; new keys would need a recount of the
      // table, which only the start does (with writes held off).
      const none = countSignature({});
      const changed = [...countKeys].filter(([name, sig]) => sig !== (this.countKeys!.get(name) ?? none)).map(([name]) => name);
      if (changed.length) throw new SchemaChangeRefused(`a data-defined schema change may not change count keys (${changed.join(', ')}); they change at a restart`);
    } else {
      this.countKeys = countKeys;
    }
    for (const action of this.kernel.allActions()) {
      if (!registry.has(action.resource)) throw new Error(`action '${action.name}' belongs to unknown resource '${action.resource}'`);
    }
    const compiledFor = (name: string) => {
      const def = registry.get(name);
      let entry = this.compiled.get(def);
      if (!entry) {
        entry = { validators: compileValidators(def, registry), codec: makeCodec(def, this.db.dialect) };
        this.compiled.set(def, entry);
      }
      return entry;
    };
    // Compile everything now: a schema that cannot compile must fail here, not in a request.
    for (const def of registry.all()) compiledFor(def.name);
    const memo = new Map<string, unknown>();
    return {
      version,
      registry,
      validators: (name) => compiledFor(name).validators,
      codec: (name) => compiledFor(name).codec,
      actionInput: (resource, name, on) => {
        const key = `${resource}/${name}/${on}`;
        let check = this.actionInputs.get(key);
        if (!check) {
          const action = this.kernel.action(resource, name, on);
          if (!action) throw new Error(`unknown action ${key}`);
          check = action.method === 'get' ? compileQueryInputSchema(action.input) : compileInputSchema(action.input);
          this.actionInputs.set(key, check);
        }
        return check;
      },
      memo<T>(key: string, build: () => T): T {
        if (!memo.has(key)) memo.set(key, build());
        return memo.get(key) as T;
      },
    };
  }
}
