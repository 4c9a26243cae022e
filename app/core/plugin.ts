import type { Knex } from 'knex';
import type { Model, QueryBuilderType } from 'objection';
import type { Logger } from 'pino';
// Type-only: plugins reach the runtime's services through the objects they are handed.
import type { Runtime } from '../runtime.js';
import type { JobContext, JobTypeOptions } from '../jobs/types.js';
import type { ErrorCodeInfo } from './errors.js';
import type { OperationContext } from './context.js';
import type { EntityDefinition, ResolvedDefinition } from './types.js';

// The plugin contract: one object that contributes definitions, hooks, event subscribers, actions,
// routes, job types, error codes and admin hints. The kernel loads plugins from `plugins/` at start;
// nothing else needs to change for a plugin to take part in every request.

export type Row = Record<string, unknown>;

/** What a write does; plugin actions are writes too, named by the action. */
export type WriteOperation = 'create' | 'update' | 'archive' | 'restore' | (string & {});

/**
 * What a hook sees of one write. `data` holds the values being written (the validated body for
 * create and update, the changes for archive, restore and actions); `current` is the stored record
 * before the change (null on create); `record` is the record after it (from beforeChange on).
 */
export interface WriteState {
  operation: WriteOperation;
  def: ResolvedDefinition;
  ctx: OperationContext;
  /** The raw input before validation (beforeValidate may reshape it). */
  input: Row;
  data: Row;
  current: Row | null;
  record: Row | null;
  /** The transaction of the write (from beforeChange to afterChange). */
  trx?: Knex.Transaction;
  /** For update: the version the change is based on, when the caller sent one. */
  baseVersion?: number;
  /** Adds a domain event (`patient.active`) written to the outbox with the change. */
  emit(type: string, payload?: Row): void;
  /** An Objection query over a resource of this organization, in the write's transaction. */
  query(resource: string): QueryBuilderType<Model>;
}

export type Hook = (state: WriteState) => void | Promise<void>;

/** The closed list of lifecycle hooks, in the order a write runs them (see app/operations/pipeline.ts). */
export const HOOK_NAMES = ['beforeValidate', 'beforeChange', 'afterChange', 'afterCommit'] as const;
export type HookName = (typeof HOOK_NAMES)[number];

export interface HookRegistration {
  /** The resource (definition name) it applies to, or '*' for every resource. */
  resource: string;
  /** Only for these operations (all when absent). */
  operations?: readonly WriteOperation[];
  hook: Hook;
}

export type PluginHooks = Partial<Record<HookName, readonly HookRegistration[]>>;

/** A committed domain event, as subscribers receive it. */
export interface DomainEvent {
  id: string;
  type: string;
  org_id: string;
  resource: string;
  resource_id: string | null;
  actor: string;
  payload: Row;
  created_at: string;
}

export interface KernelServices {
  logger: Logger;
  /** Enqueues a background job of a type some plugin declared. */
  enqueue(type: string, input: { orgId: string; payload: unknown; dedupeKey?: string }): Promise<{ id: string }>;
}

/** Runs after the event's change committed; a throw is retried later (delivery is at least once). */
export type EventSubscriber = (event: DomainEvent, services: KernelServices) => Promise<void> | void;

/** An event subscription: a function, or a job type to enqueue with the event as payload. */
export type Subscription = EventSubscriber | { job: string };

export interface ActionArgs {
  ctx: OperationContext;
  def: ResolvedDefinition;
  trx: Knex.Transaction;
  /** The validated input. */
  input: Row;
  /** The stored record, for record actions (locked for the transaction on PostgreSQL). */
  current: Row | null;
  emit(type: string, payload?: Row): void;
  /** An Objection query over a resource of this organization, in the action's transaction. */
  query(resource: string): QueryBuilderType<Model>;
}

export interface ActionResult {
  /** Changes to the record (record actions): written, versioned, audited and evented like an update. */
  changes?: Row;
  /** The response's `data` when the action does not answer with the record. */
  result?: unknown;
}

export interface ActionDefinition {
  /** The definition name it belongs to. */
  resource: string;
  /** Kebab-case; the URL segment: `POST /{collection}/{name}` or `POST /{collection}/{id}/{name}`. */
  name: string;
  on: 'record' | 'collection';
  summary: string;
  description?: string;
  /** What the caller needs: `write` (the resource's write scope; the default) or `read`. */
  access?: 'read' | 'write';
  /** JSON Schema of the body (an object schema; additional properties are refused). */
  input: Record<string, unknown>;
  /** JSON Schema of the response's `data` (the record for record actions without `result`). */
  output?: Record<string, unknown>;
  /** Error codes the action may answer besides the generic ones. */
  errors?: readonly string[];
  run(args: ActionArgs): Promise<ActionResult> | ActionResult;
}

/** A plugin job's handler: the job's context and the runtime, to run operations with. */
export type PluginJobHandler = (ctx: JobContext & { rt: Runtime }) => Promise<unknown>;

/** A background job type: its handler and retry policy (app/jobs/types.ts). */
export interface JobDeclaration extends JobTypeOptions {
  handler: PluginJobHandler;
  /**
   * A scope (`patients:read`) that also reads this type's jobs in its organization, besides
   * `jobs:read`: for jobs whose report is data of that resource (an import's per-row outcome).
   */
  readScope?: string;
}

/** An HTTP route a plugin serves outside the generated ones: it still only translates to operations. */
export interface PluginRoute {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  /** Under /api/v1; global (`/auth/token`) unless `tenant` (then `/:org` is prefixed). */
  path: string;
  tenant?: boolean;
  /** Whether a key or token is needed (default true). */
  authenticated?: boolean;
  /**
   * A body this route reads itself instead of the API's JSON body (limited by BODY_LIMIT): its
   * own size limit, and text media types it accepts besides JSON (handed over as `text`).
   */
  body?: { limit: string; text?: readonly string[] };
  handler(req: { rt: Runtime; ctx: OperationContext | null; params: Record<string, string>; query: Row; body: Row; text?: string; contentType?: string; ip: string }): Promise<{ status?: number; body: unknown; headers?: Record<string, string> }>;
}

/** A data-defined part of the schema: read from the database when each generation is built. */
export interface SchemaSource {
  /** Resources whose committed writes make a new generation (their rows define schema). */
  watch: readonly string[];
  /** Reshapes the declared definitions from stored rows; may change validation, never add columns. */
  apply(definitions: EntityDefinition[], db: Knex): Promise<EntityDefinition[]>;
}

export interface PluginDefinition {
  name: string;
  definitions?: readonly EntityDefinition[];
  hooks?: PluginHooks;
  /** Event type (`ticket.created`, or `*`) → subscribers. */
  events?: Record<string, Subscription | readonly Subscription[]>;
  actions?: readonly ActionDefinition[];
  routes?: readonly PluginRoute[];
  jobs?: Record<string, JobDeclaration>;
  errors?: Record<string, ErrorCodeInfo>;
  /** Global URL segments the plugin owns (an organization slug may not take them). */
  reservedNames?: readonly string[];
  schema?: SchemaSource;
  /** Back-office hints, read by the admin panel. */
  admin?: Record<string, unknown>;
}

/** Declares a plugin; checked when the kernel loads it. */
export function definePlugin<const T extends PluginDefinition>(plugin: T): T {
  return plugin;
}
