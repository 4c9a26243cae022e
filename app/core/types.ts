import type { CustomField } from '../custom-fields/types.js';

// The shape of a resource declaration. Everything the platform serves for a resource (table,
// model, validation, routes, OpenAPI, permissions) is derived from one of these.

export type FieldType =
  | 'string' // short text, indexed-friendly (names, codes, phones)
  | 'text' // long free text
  | 'integer'
  | 'number'
  | 'boolean'
  | 'date' // YYYY-MM-DD
  | 'datetime' // ISO 8601 UTC
  | 'enum'
  | 'uuid' // a plain identifier; with `ref` it points at another resource
  | 'json' // an arbitrary JSON object
  | 'string[]'; // a list of short strings (tags)

export type FilterOperator = 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'like' | 'null';

export interface FieldDefinition {
  type: FieldType;
  description?: string;
  /** Required on create (and may not be cleared on update). */
  required?: boolean;
  default?: unknown;
  /** enum values */
  values?: readonly string[];
  min?: number;
  max?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  /**
   * For a `string` with a decimal `pattern`: a JSON number is accepted too, and stored and
   * returned as its decimal text (exact: `98.6` → `"98.6"`), as partners often send decimals.
   */
  acceptsNumber?: boolean;
  format?: 'email';
  /** For `uuid` fields: the resource (definition name) this id points at. Checked on write. */
  ref?: string;
  /** For ref fields: the name under which `?include=` embeds the referenced record. */
  relation?: string;
  /** `true` allows every operator that fits the type; a list narrows it. */
  filter?: boolean | readonly FilterOperator[];
  sort?: boolean;
  /** Matched by `?search=`: `prefix` uses an index (typeahead), `contains` scans (small tables). */
  search?: 'prefix' | 'contains';
  /** Returned only to callers holding `<scope>:sensitive`. */
  sensitive?: boolean;
  /** Stored and returned, but never accepted in a request body (set by the system). */
  readOnly?: boolean;
  /** Accepted on create only. */
  createOnly?: boolean;
  /**
   * Filled by the engine on create: `actor` stores who created the record, `now` the time of the
   * create (a datetime of its own, apart from created_at). Implies readOnly.
   */
  fill?: 'actor' | 'now';
  /** When a create leaves it out, the field takes the caller's name (whoever opens a ticket is its requester). */
  defaultFrom?: 'actor';
  /**
   * The record action that owns changes to this field (`transition-status`). Once a plugin
   * provides that action, create and update refuse the field; until then they still accept it.
   */
  changedBy?: string;
  /**
   * With changedBy: the values a create may still give the field (a patient starts `active` or
   * `prospective`; other statuses are reached through the action). Absent: create refuses it too.
   */
  createValues?: readonly unknown[];
  /** Unique within the organization (tenant resources) or globally. */
  unique?: boolean;
  example?: unknown;
}

/** A value derived from the stored fields of a row, computed per page (never per-row queries). */
export interface ComputedFieldDefinition {
  type: 'string' | 'integer' | 'number' | 'boolean' | 'array';
  /** For `array`: the JSON Schema of one item (documented in OpenAPI). */
  items?: Record<string, unknown>;
  description?: string;
  compute: (record: Record<string, unknown>) => unknown;
}

/** A has-many relation embeddable with `?include=`: children whose `foreignKey` holds our id. */
export interface HasManyRelation {
  resource: string;
  foreignKey: string;
}

/**
 * A list filter on related rows: `?<name>=<value>` keeps the records that have at least one live
 * `resource` row whose `foreignKey` holds their id and whose `field` equals the value (patients
 * with a tag assigned). When `field` is a ref, a value naming no live record of the organization
 * is a 404 naming the parameter rather than an empty list.
 */
export interface RelatedFilter {
  resource: string;
  foreignKey: string;
  field: string;
  description?: string;
}

export interface IndexDefinition {
  columns: readonly string[];
  unique?: boolean;
  /** With unique: among live records only, so an archived record frees its values. */
  live?: boolean;
  /**
   * With unique: only among records whose fields hold these values (a partial index), e.g. one
   * `attribution_role: 'primary'` per patient. Enum, boolean or integer fields.
   */
  where?: Readonly<Record<string, string | number | boolean>>;
  /**
   * With unique: the error a taken value answers with (a code the core or a plugin declares, with
   * a message), instead of the core's `duplicate`.
   */
  conflict?: { code: string; message: string };
  /**
   * Not led by org_id: for queries across every organization (the job runners' polls). Tenant
   * indexes otherwise start with org_id, as every API query is within one organization.
   */
  acrossOrganizations?: boolean;
}

export interface AdminHints {
  group?: string;
  icon?: string;
  listProperties?: readonly string[];
}

export interface EntityDefinition {
  /** Singular, kebab-case; the registry key (`patient`, `kb-article`). */
  name: string;
  /** URL segment (`patients`, `kb`, or `comments` under a parent). */
  path: string;
  table: string;
  /** The scope name used in API-key scopes: `<scope>:read`, `<scope>:write`, `<scope>:sensitive`. */
  scope: string;
  /** Org-scoped (`/api/v1/{org}/…`) or global (`/api/v1/…`). */
  tenant: boolean;
  description?: string;
  /** Nested under another resource: `/…/{parent path}/{parentId}/{path}`. */
  parent?: { resource: string; field: string };
  fields: Record<string, FieldDefinition>;
  computed?: Record<string, ComputedFieldDefinition>;
  hasMany?: Record<string, HasManyRelation>;
  /** List filters on related rows, by query parameter name. */
  relatedFilters?: Record<string, RelatedFilter>;
  /** Optimistic concurrency with `version` (default on, off for append-only). */
  versioned?: boolean;
  /** Soft delete with `deleted_at`, archive and restore (default on, off for append-only). */
  archivable?: boolean;
  /** Create and read only. */
  appendOnly?: boolean;
  /** Readable through the API but never written by it (audit events). */
  readOnlyResource?: boolean;
  /** Not served over HTTP at all (system tables: organizations, API keys, …). */
  internal?: boolean;
  /**
   * `false`: no generated CRUD routes; a plugin serves the resource in its own shape through the
   * same operations (keys still need its scope). Default true.
   */
  generatedRoutes?: boolean;
  /** Every write is audited unless this is false. */
  audited?: boolean;
  /** Reads (get and list) are audited as well: who viewed which record. */
  auditReads?: boolean;
  /** Updates must carry `base_version` (or `If-Match`). */
  requireBaseVersion?: boolean;
  /** Archives must carry `?base_version=` (or `If-Match`) too; otherwise either is optional there. */
  requireBaseVersionToArchive?: boolean;
  /** `?sort` when none is given, e.g. `last_name` or `-created_at`. */
  defaultSort?: string;
  /** Extra indexes; the engine adds the ones for uniqueness, refs, search and tenancy itself. */
  indexes?: readonly IndexDefinition[];
  /**
   * Count keys: each lists fields (at most three; enum, boolean, uuid or integer, filterable by
   * equality) whose exact totals of live records per value combination are kept, per
   * organization, in the transaction of every write. A list whose filters are equalities (or
   * `in`) on exactly one key's fields reads its `total_count` from them instead of counting rows.
   * `[]` keeps the unfiltered total. Tenant resources only.
   */
  counts?: readonly (readonly string[])[];
  /**
   * Custom fields a practice defines as data, per organization (app/custom-fields/): their values
   * are rows of `values`, a resource nested under this one with `field_definition_id`, typed
   * value columns and `is_set`. A schema source fills `byOrg` at each generation.
   */
  customFields?: CustomFieldsDeclaration;
  admin?: AdminHints;
}

export interface CustomFieldsDeclaration {
  /** The definition name of the resource holding the values. */
  values: string;
  /** Each organization's live custom fields, by organization id. */
  byOrg?: Readonly<Record<string, readonly CustomField[]>>;
}

/** A definition after defaults are applied and checked; what the generators consume. */
export interface ResolvedDefinition extends EntityDefinition {
  subject: string; // CASL subject, PascalCase
  versioned: boolean;
  archivable: boolean;
  appendOnly: boolean;
  readOnlyResource: boolean;
  internal: boolean;
  audited: boolean;
  auditReads: boolean;
  requireBaseVersion: boolean;
  defaultSort: string;
  /** Every stored column, in order: id, org_id?, parent field, fields…, version?, timestamps. */
  columns: ColumnInfo[];
  /** Columns returned in responses (stored, including system ones) plus computed names. */
  outputFields: string[];
  writableFields: string[];
  sensitiveFields: string[];
  searchFields: { name: string; mode: 'prefix' | 'contains' }[];
  belongsTo: Record<string, { field: string; resource: string }>;
}

export interface ColumnInfo {
  name: string;
  field: FieldDefinition;
  system: boolean;
}
