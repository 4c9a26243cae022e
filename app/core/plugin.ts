import type { Readable } from 'node:stream';
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
  /** The parent record's id, for nested resources (the patient of a chart row). */
  parentId?: string;
  /** For update: the version the change is based on, when the caller sent one. */
  baseVersion?: number;
  /** Adds a domain event (`patient.active`) written to the outbox with the change. */
  emit(type: string, payload?: Row): void;
  /** An Objection query over a resource of this organization, in the write's transaction. */
  query(resource: string): QueryBuilderType<Model>;
  /**
   * Values the answer to this write carries beyond the stored record (afterChange fills it):
   * only names the definition declares as computed fields are shown, after the computed values.
   * Never stored nor audited, so a later read computes the field anew (`interaction_warnings`).
   */
  answer: Row;
  /**
   * Declares that the hook changed the table of another resource (through `query`), e.g. a
   * derived column kept in step with this write. Once the write commits, that table's cached
   * counts and pages are invalidated together with the write's own table (also when the write
   * joined an outer transaction: then after the outermost commit). Only the cache: a hook's
   * writes through `query` are not versioned, audited or evented.
   */
  touch(resource: string): void;
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
  /** Error codes the hook may refuse a write with: the OpenAPI document lists them on those operations. */
  errors?: readonly string[];
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

/** What a read action asks of `find`: rows of one resource the caller may read, shaped for it. */
export interface FindSpec {
  /** Narrows the rows: conditions on the resource's table (its columns, quoted). */
  where?(qb: Knex.QueryBuilder): void;
  /** Every word must prefix-match (case-insensitively) one of these searchable fields the caller may read. */
  search?: { text: string; fields: readonly string[] };
  /** Sort keys (the id breaks ties). */
  sort?: readonly { field: string; desc?: boolean }[];
  limit: number;
  /** Only these fields of each row (those the caller may read); all it may read when absent. */
  fields?: readonly string[];
  /** Also count every matching row (`total`). */
  count?: boolean;
  /** Relations to embed, as `?include=` does (one query per relation, whatever the number of rows). */
  include?: readonly string[];
  /** `false` when the caller records the read itself (a cached composition logs it on every answer). */
  audit?: boolean;
}

export interface FoundRows {
  rows: Row[];
  total?: number;
}

export interface ActionArgs {
  /** The runtime, to call other operations (they join the action's transaction through `ctx`). */
  rt: Runtime;
  /** The caller, with `transaction` set to the action's own (write actions). */
  ctx: OperationContext;
  def: ResolvedDefinition;
  /** The action's transaction; read actions (`access: 'read'`) run without one. */
  trx?: Knex.Transaction;
  /** The parent record's id, for actions of nested resources (the patient of an alert). */
  parentId?: string;
  /** The validated input. */
  input: Row;
  /** The stored record, for record actions (locked for the transaction on PostgreSQL). */
  current: Row | null;
  emit(type: string, payload?: Row): void;
  /** An Objection query over a resource of this organization, in the action's transaction (if any). */
  query(resource: string): QueryBuilderType<Model>;
  /**
   * A knex query over the rows of a resource the caller may read (its organization, its row
   * conditions, not archived), in the action's transaction; forbidden without read access.
   * For aggregates: rows it returns are not shaped nor audited (use `find` for those).
   */
  read(resource: string): Knex.QueryBuilder;
  /** Rows the caller may read, shaped to the fields it may see and read-audited like a list. */
  find(resource: string, spec: FindSpec): Promise<FoundRows>;
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
  /**
   * Kebab-case segments, `/`-separated; the URL path: `POST /{collection}/{name}` or
   * `POST /{collection}/{id}/{name}` (`counts/by-location`).
   */
  name: string;
  on: 'record' | 'collection';
  /**
   * `post` (the default) takes a JSON body; `get` (read actions only) takes the input
   * from the query string: values are coerced to the schema's types, and a parameter whose
   * schema is an array may be repeated (`?status_set=active&status_set=inactive`).
   */
  method?: 'post' | 'get';
  summary: string;
  description?: string;
  /** What the caller needs: `write` (the resource's write scope; the default) or `read`. */
  access?: 'read' | 'write';
  /** JSON Schema of the body or query (an object schema; additional properties are refused). */
  input: Record<string, unknown>;
  /** JSON Schema of the response's `data` (the record for record actions without `result`). */
  output?: Record<string, unknown>;
  /** Error codes the action may answer besides the generic ones. */
  errors?: readonly string[];
  run(args: ActionArgs): Promise<ActionResult> | ActionResult;
}

/** What a list rule adds to one list request (see ListRule). */
export interface ListRuleResult {
  /** Extra conditions on the rows (after the organization's and the caller's). */
  where?: (qb: Knex.QueryBuilder) => void;
  /** `where` selects among the parent's rows and others itself: the parent term is left out. */
  replacesParent?: boolean;
  /** The rows depend on other tables than the resource's own: the page and total are not cached. */
  uncached?: boolean;
}

/**
 * Shapes a resource's list beyond its field filters (alerts leave archived ones out unless asked;
 * `include_family=true` adds relatives' family alerts). Its params are accepted, validated and
 * documented on the generated list route, which stays the one door for the list.
 */
export interface ListRule {
  resource: string;
  /** Boolean query parameters it adds (`true` / `false`), with their descriptions. */
  params?: Record<string, { type: 'boolean'; description: string }>;
  /** A sentence for the list route's description. */
  description?: string;
  prepare(args: {
    ctx: OperationContext;
    parentId?: string;
    /** The rule's params given on this request. */
    params: Record<string, boolean>;
    /** The fields the request filters on. */
    filtered: readonly string[];
    /** An Objection query over a resource of this organization (the list's connection). */
    query(resource: string): QueryBuilderType<Model>;
  }): ListRuleResult | Promise<ListRuleResult>;
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

/** How the OpenAPI document describes a plugin route that belongs to a resource. */
export interface PluginRouteDoc {
  /** The definition name whose tag and scope it shares (`patient`). */
  resource: string;
  /** The scope level it needs on that resource's scope. */
  access: 'read' | 'write';
  summary: string;
  description?: string;
  /** JSON Schemas of its query parameters, by name. */
  query?: Record<string, Record<string, unknown>>;
  /** JSON Schema of the request body. */
  body?: Record<string, unknown>;
  /** JSON Schema of the response body. */
  response: Record<string, unknown>;
  /** Its success status (200 unless given). */
  status?: number;
  /** Other successful answers it may give, by status (a 202 with a job). */
  otherResponses?: Record<number, { description: string; schema: Record<string, unknown> }>;
  /** Media types of the body besides JSON, each with its schema (`text/csv`). */
  bodyTypes?: Record<string, Record<string, unknown>>;
  /** Error codes it may answer besides the generic ones. */
  errors?: readonly string[];
}

/** An HTTP route a plugin serves outside the generated ones: it still only translates to operations. */
export interface PluginRoute {
  method: 'get' | 'post' | 'patch' | 'put' | 'delete';
  /** Under /api/v1; global (`/auth/token`) unless `tenant` (then `/:org` is prefixed). Path parameters are ids (`:patient_id`). */
  path: string;
  tenant?: boolean;
  /** Whether a key or token is needed (default true). */
  authenticated?: boolean;
  /** Its place in the OpenAPI document (routes without one are described by the core itself, or not at all). */
  openapi?: PluginRouteDoc;
  /**
   * A body this route reads itself instead of the API's JSON body (limited by BODY_LIMIT): its
   * own size limit, and text media types it accepts besides JSON (handed over as `text`).
   */
  body?: { limit: string; text?: readonly string[]; stream?: boolean };
  /**
   * With `body.stream`, the body is not read before the handler: it gets `stream` (decompressed,
   * counted against the limit; its errors are AppErrors) and parses it as it arrives.
   */
  handler(req: { rt: Runtime; ctx: OperationContext | null; params: Record<string, string>; query: Row; body: Row; text?: string; stream?: Readable; contentType?: string; ip: string }): Promise<{ status?: number; body: unknown; headers?: Record<string, string> }>;
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
  lists?: readonly ListRule[];
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
