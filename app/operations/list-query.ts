import type { FilterOperator } from '../core/types.js';

export interface Filter {
  field: string;
  op: FilterOperator;
  value: unknown;
}

export interface SortKey {
  field: string;
  desc: boolean;
}

/** A list request, already parsed and validated; built by REST, the admin or a job alike. */
export interface ListQuery {
  filters: Filter[];
  search?: string;
  sort: SortKey[];
  fields?: string[];
  include: string[];
  includeArchived: boolean;
  limit: number;
  offset: number;
  /** Keyset mode: the decoded cursor of the previous page. */
  after?: Cursor;
  /** Whether to compute total_count (always in offset mode; on request in keyset mode). */
  count: boolean;
}

export interface Cursor {
  /** The sort signature the cursor was made for (`last_name,-created_at`). */
  sort: string;
  values: unknown[];
  id: string;
}

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;
