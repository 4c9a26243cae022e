import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { registerErrorCodes } from '../core/errors.js';
import {
  HOOK_NAMES,
  type ActionDefinition,
  type Hook,
  type HookName,
  type HookRegistration,
  type JobDeclaration,
  type ListRule,
  type PluginDefinition,
  type PluginRoute,
  type SchemaSource,
  type Subscription,
  type WriteOperation,
} from '../core/plugin.js';
import type { EntityDefinition } from '../core/types.js';

const KEBAB = /^[a-z][a-z0-9-]*$/;
/** An action name: kebab-case URL segments separated by `/`. */
const ACTION_NAME = /^[a-z][a-z0-9-]*(\/[a-z][a-z0-9-]*)*$/;
/**
 * Segments the generated record routes of an archivable resource use after `/{id}/`; a resource
 * that is not soft-deletable (alerts, archived by status) may have record actions of these names.
 */
export const BUILT_IN_RECORD_SEGMENTS = ['archive', 'restore'];

/**
 * Everything the loaded plugins contribute, indexed for the hot path: hooks by name, resource
 * and operation; actions by resource; subscribers by event type.
 */
export class Kernel {
  readonly plugins: PluginDefinition[] = [];
  readonly definitions: EntityDefinition[] = [];
  readonly routes: (PluginRoute & { plugin: string })[] = [];
  readonly jobs = new Map<string, JobDeclaration & { plugin: string }>();
  /** Job types readable with a scope of their own besides `jobs:read` (JobDeclaration.readScope). */
  readonly jobReadScopes = new Map<string, string>();
  readonly schemaSources: (SchemaSource & { plugin: string })[] = [];
  readonly reservedNames = new Set<string>();
  private readonly hooks: Record<HookName, HookRegistration[]> = { beforeValidate: [], beforeChange: [], afterChange: [], afterCommit: [] };
  private readonly hookCache = new Map<string, Hook[]>();
  private readonly actionsByResource = new Map<string, ActionDefinition[]>();
  private readonly subscribers = new Map<string, Subscription[]>();
  private readonly listRules = new Map<string, ListRule[]>();

  constructor(plugins: readonly PluginDefinition[]) {
    for (const plugin of plugins) this.add(plugin);
  }

  private add(plugin: PluginDefinition): void {
    const owner = `plugin '${plugin.name}'`;
    if (!plugin.name || !KEBAB.test(plugin.name)) throw new Error(`a plugin needs a kebab-case name, got '${plugin.name}'`);
    if (this.plugins.some((p) => p.name === plugin.name)) throw new Error(`${owner} is loaded twice`);
    this.plugins.push(plugin);
    if (plugin.errors) registerErrorCodes(plugin.errors, owner);
    this.definitions.push(...(plugin.definitions ?? []));
    for (const name of Object.keys(plugin.hooks ?? {})) {
      if (!HOOK_NAMES.includes(name as HookName)) throw new Error(`${owner}: unknown hook '${name}' (hooks are ${HOOK_NAMES.join(', ')})`);
      this.hooks[name as HookName].push(...plugin.hooks![name as HookName]!);
    }
    for (const action of plugin.actions ?? []) {
      if (!ACTION_NAME.test(action.name)) throw new Error(`${owner}: action '${action.name}' must be kebab-case segments`);
      if (action.method === 'get' && action.access !== 'read') throw new Error(`${owner}: action '${action.name}' is a GET, so its access must be 'read'`);
      const list = this.actionsByResource.get(action.resource) ?? [];
      if (list.some((a) => a.name === action.name && a.on === action.on)) throw new Error(`${owner}: action '${action.resource}/${action.name}' is declared twice`);
      list.push(action);
      this.actionsByResource.set(action.resource, list);
    }
    for (const [type, subs] of Object.entries(plugin.events ?? {})) {
      const list = this.subscribers.get(type) ?? [];
      list.push(...(Array.isArray(subs) ? subs : [subs as Subscription]));
      this.subscribers.set(type, list);
    }
    for (const route of plugin.routes ?? []) this.routes.push({ ...route, plugin: plugin.name });
    for (const rule of plugin.lists ?? []) {
      const rules = this.listRules.get(rule.resource) ?? [];
      const taken = Object.keys(rule.params ?? {}).filter((p) => rules.some((r) => r.params && p in r.params));
      if (taken.length) throw new Error(`${owner}: list parameter '${taken[0]}' of '${rule.resource}' is declared twice`);
      rules.push(rule);
      this.listRules.set(rule.resource, rules);
    }
    for (const [type, job] of Object.entries(plugin.jobs ?? {})) {
      if (this.jobs.has(type)) throw new Error(`${owner}: job type '${type}' is already declared by plugin '${this.jobs.get(type)!.plugin}'`);
      this.jobs.set(type, { ...job, plugin: plugin.name });
      if (job.readScope) this.jobReadScopes.set(type, job.readScope);
    }
    for (const name of plugin.reservedNames ?? []) this.reservedNames.add(name);
    if (plugin.schema) this.schemaSources.push({ ...plugin.schema, plugin: plugin.name });
    this.hookCache.clear();
  }

  /** The hooks to run, in registration order, for one resource and operation. */
  hooksFor(name: HookName, resource: string, operation: WriteOperation): Hook[] {
    const key = `${name}\u0000${resource}\u0000${operation}`;
    let list = this.hookCache.get(key);
    if (!list) {
      list = this.hooks[name]
        .filter((h) => (h.resource === '*' || h.resource === resource) && (!h.operations || h.operations.includes(operation)))
        .map((h) => h.hook);
      this.hookCache.set(key, list);
    }
    return list;
  }

  actionsOf(resource: string): readonly ActionDefinition[] {
    return this.actionsByResource.get(resource) ?? [];
  }

  allActions(): ActionDefinition[] {
    return [...this.actionsByResource.values()].flat();
  }

  action(resource: string, name: string, on: 'record' | 'collection'): ActionDefinition | undefined {
    return this.actionsOf(resource).find((a) => a.name === name && a.on === on);
  }

  /** The list rules of a resource, in plugin order. */
  listRulesOf(resource: string): readonly ListRule[] {
    return this.listRules.get(resource) ?? [];
  }

  /** The boolean list parameters plugins add, by resource (for the OpenAPI document). */
  listParams(): Record<string, { params: Record<string, { type: 'boolean'; description: string }>; descriptions: string[] }> {
    const out: Record<string, { params: Record<string, { type: 'boolean'; description: string }>; descriptions: string[] }> = {};
    for (const [resource, rules] of this.listRules) {
      out[resource] = { params: Object.assign({}, ...rules.map((r) => r.params ?? {})), descriptions: rules.flatMap((r) => (r.description ? [r.description] : [])) };
    }
    return out;
  }

  /** The error codes hooks declare, by resource and operation (create, update, archive, restore). */
  operationErrors(): Record<string, Record<string, string[]>> {
    const out: Record<string, Record<string, string[]>> = {};
    for (const name of HOOK_NAMES) {
      for (const reg of this.hooks[name]) {
        if (!reg.errors?.length) continue;
        for (const op of reg.operations ?? ['create', 'update', 'archive', 'restore']) {
          const list = ((out[reg.resource] ??= {})[op] ??= []);
          for (const code of reg.errors) if (!list.includes(code)) list.push(code);
        }
      }
    }
    return out;
  }

  /** A record action may not take a segment the generated routes of an archivable resource use. */
  checkActions(archivable: (resource: string) => boolean): void {
    for (const action of this.allActions()) {
      if (action.on === 'record' && BUILT_IN_RECORD_SEGMENTS.includes(action.name) && archivable(action.resource)) {
        throw new Error(`action '${action.resource}/${action.name}' is a built-in route of an archivable resource`);
      }
    }
  }

  subscribersOf(type: string): Subscription[] {
    return [...(this.subscribers.get(type) ?? []), ...(this.subscribers.get('*') ?? [])];
  }

  /** Whether anyone receives events of this type (only those are stored and delivered). */
  isSubscribed(type: string): boolean {
    return this.subscribers.has(type) || this.subscribers.has('*');
  }
}

/**
 * Imports every plugin in the given folders: a folder with an `index.ts`/`index.js`, or a single
 * module, whose default export was made with definePlugin().
 */
export async function loadPluginDirs(dirs: readonly string[]): Promise<PluginDefinition[]> {
  const found: PluginDefinition[] = [];
  for (const dir of dirs) {
    let entries: string[];
    try {
      entries = (await readdir(dir)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const entry of entries) {
      const full = path.join(dir, entry);
      let file: string | undefined;
      if ((await stat(full)).isDirectory()) {
        for (const index of ['index.ts', 'index.js']) {
          if ((await readdir(full)).includes(index)) file = path.join(full, index);
        }
      } else if (/\.(ts|js|mjs)$/.test(entry) && !entry.endsWith('.d.ts')) {
        file = full;
      }
      if (!file) continue;
      const plugin = (await import(pathToFileURL(file).href)).default as PluginDefinition | undefined;
      if (!plugin || typeof plugin !== 'object' || !plugin.name) throw new Error(`${file} has no default export made with definePlugin()`);
      found.push(plugin);
    }
  }
  return found;
}
