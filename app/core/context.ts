import type { MongoAbility } from '@casl/ability';
import type { Knex } from 'knex';
import type { SchemaGeneration } from './schema-generation.js';

// The types every layer shares (auth builds them, operations and audit read them); they live
// here so that auth, audit and operations never import each other for a type.

export type AppAbility = MongoAbility;

export interface Actor {
  type: 'api_key' | 'admin_user' | 'system';
  id: string;
  /** Shown in audit trails, and the default of fields filled from the actor (a ticket's requester). */
  label: string;
}

export interface Org {
  id: string;
  slug: string;
  name: string;
}

/** Who is acting, where, and with what permissions. Operations know nothing else of transport. */
export interface OperationContext {
  actor: Actor;
  ability: AppAbility;
  /** The organization a tenant operation runs in (from the path for REST). */
  org?: Org;
  /**
   * The schema generation the operation runs on. A request keeps the one it started with, so a
   * generation switch mid-request cannot mix two schemas. Defaults to the runtime's current one.
   */
  schema?: SchemaGeneration;
  /** Run inside this transaction (a plugin action calling other operations); its own is used otherwise. */
  transaction?: Knex.Transaction;
  requestId?: string;
  ip?: string;
  /** Memoized readable-field sets per resource for this ability. */
  fieldCache?: Map<string, Set<string>>;
}

/** The nil UUID stands for the platform itself, where global resources' changes are audited. */
export const PLATFORM_ORG_ID = '00000000-0000-0000-0000-000000000000';
