import type { Knex } from 'knex';
import type { FieldType } from '../core/types.js';

// Every difference between SQLite and PostgreSQL that the engine relies on, in one place. The
// rest of the code asks the dialect and never tests which database it is talking to.

export type DialectName = 'sqlite' | 'postgres';

const q = (name: string) => `"${name}"`;

export interface Dialect {
  readonly name: DialectName;
  /** Column type of a field type (enums are text so that adding a value needs no migration). */
  columnType(type: FieldType): string;
  /** A literal for a column default. */
  defaultLiteral(value: unknown, type: FieldType): string;
  /** The expression a case-insensitive prefix search compares, and the index part that serves it. */
  searchExpression(column: string): string;
  searchIndexPart(column: string): string;
  /** The bound pattern of a prefix search for one (already escaped) word. */
  prefixPattern(word: string): string;
  /** Case-insensitive `contains` match of a column (or a string[] column as text). */
  containsMatch(column: string, isArray: boolean): string;
  /** The `?field[like]=` comparison. */
  likeMatch(column: string): string;
  /** A string[] column holds a value (`?tags=x`); bound with `arrayMemberBinding(value)`. */
  arrayContains(column: string): string;
  arrayMemberBinding(value: unknown): unknown;
  /** ORDER BY term; nulls sort as the smallest value on both databases. */
  orderTerm(column: string, desc: boolean): string;
  /**
   * Prefix written before the tenant terms of an indexed prefix search: on SQLite `+col` keeps the
   * planner off the org index so it probes each search field's NOCASE index (a MULTI-INDEX OR).
   */
  readonly tenantTermPrefixForSearch: string;
  /** Whether a row read for update must be locked (SQLite's single writer already serializes). */
  readonly locksRowsForUpdate: boolean;
  readonly booleansAsIntegers: boolean;
  readonly jsonAsText: boolean;
  listTables(knex: Knex): Promise<string[]>;
  listColumns(knex: Knex, table: string): Promise<string[]>;
  listIndexes(knex: Knex): Promise<string[]>;
  /** Serializes schema changes of several processes starting together. */
  lockSchemaChanges(trx: Knex.Transaction): Promise<void>;
  /**
   * Whether uuid columns compare case-insensitively (PostgreSQL's uuid type stores one canonical
   * form; SQLite keeps the text as written and compares it exactly).
   */
  readonly uuidsIgnoreCase: boolean;
  /**
   * Rows each stored count is spread over, so that writers on several connections do not queue on
   * one row (SQLite has one writer at a time: one row).
   */
  readonly countSlots: number;
  /**
   * Holds off other connections' writes to a table until the transaction ends, so that it can
   * read the table and write what follows from it without a write slipping in between. SQLite
   * needs nothing: its one writer is whichever transaction wrote first.
   */
  lockTableAgainstWrites(trx: Knex.Transaction, table: string): Promise<void>;
  /**
   * Brings the planner's statistics up to date after a bulk load. PostgreSQL plans a prefix
   * search as a scan of the whole organization until it knows the table (and autovacuum may be
   * off or not have run yet); SQLite's planner needs none for the engine's indexes.
   */
  refreshStatistics(knex: Knex, table: string): Promise<void>;
}

const rows = (result: any): { name: string }[] => (Array.isArray(result) ? result : result.rows);

const sqlite: Dialect = {
  name: 'sqlite',
  columnType(type) {
    switch (type) {
      case 'integer': return 'integer';
      case 'number': return 'real';
      case 'boolean': return 'boolean';
      default: return 'text';
    }
  },
  defaultLiteral(value) {
    if (typeof value === 'boolean') return value ? '1' : '0';
    if (typeof value === 'number') return String(value);
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    return `'${text.replace(/'/g, "''")}'`;
  },
  searchExpression: (column) => q(column),
  searchIndexPart: (column) => `${q(column)} collate nocase`,
  // SQLite's LIKE is case-insensitive for ASCII and can use a NOCASE index.
  prefixPattern: (word) => `${word}%`,
  containsMatch: (column) => `${q(column)} like ? escape '\\'`,
  likeMatch: (column) => `${q(column)} like ?`,
  arrayContains: (column) => `exists (select 1 from json_each(${q(column)}) where json_each.value = ?)`,
  arrayMemberBinding: (value) => value,
  orderTerm: (column, desc) => `${q(column)} ${desc ? 'desc' : 'asc'}`,
  tenantTermPrefixForSearch: '+',
  locksRowsForUpdate: false,
  booleansAsIntegers: true,
  jsonAsText: true,
  listTables: async (knex) => rows(await knex.raw(`select name from sqlite_master where type = 'table'`)).map((r) => r.name),
  listColumns: async (knex, table) => rows(await knex.raw(`select name from pragma_table_info(?)`, [table])).map((r) => r.name),
  listIndexes: async (knex) => rows(await knex.raw(`select name from sqlite_master where type = 'index'`)).map((r) => r.name),
  lockSchemaChanges: async () => {},
  uuidsIgnoreCase: false,
  countSlots: 1,
  lockTableAgainstWrites: async () => {},
  refreshStatistics: async () => {},
};

const postgres: Dialect = {
  name: 'postgres',
  columnType(type) {
    switch (type) {
      case 'uuid': return 'uuid';
      case 'integer': return 'integer';
      case 'number': return 'double precision';
      case 'boolean': return 'boolean';
      case 'date': return 'date';
      case 'datetime': return 'timestamptz';
      case 'json': case 'string[]': return 'jsonb';
      default: return 'text';
    }
  },
  defaultLiteral(value, type) {
    if (typeof value === 'boolean' || typeof value === 'number') return String(value);
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    const literal = `'${text.replace(/'/g, "''")}'`;
    return type === 'json' || type === 'string[]' ? `${literal}::jsonb` : literal;
  },
  // lower(col) with text_pattern_ops makes `lower(col) LIKE 'abc%'` an index range scan.
  searchExpression: (column) => `lower(${q(column)})`,
  searchIndexPart: (column) => `lower(${q(column)}) text_pattern_ops`,
  prefixPattern: (word) => `${word.toLowerCase()}%`,
  containsMatch: (column, isArray) => `${q(column)}${isArray ? '::text' : ''} ilike ? escape '\\'`,
  likeMatch: (column) => `${q(column)}::text ilike ?`,
  arrayContains: (column) => `${q(column)} @> ?::jsonb`,
  arrayMemberBinding: (value) => JSON.stringify([value]),
  orderTerm: (column, desc) => `${q(column)} ${desc ? 'desc nulls last' : 'asc nulls first'}`,
  tenantTermPrefixForSearch: '',
  locksRowsForUpdate: true,
  booleansAsIntegers: false,
  jsonAsText: false,
  listTables: async (knex) => rows(await knex.raw(`select table_name as name from information_schema.tables where table_schema = current_schema()`)).map((r) => r.name),
  listColumns: async (knex, table) => rows(await knex.raw(`select column_name as name from information_schema.columns where table_schema = current_schema() and table_name = ?`, [table])).map((r) => r.name),
  listIndexes: async (knex) => rows(await knex.raw(`select indexname as name from pg_indexes where schemaname = current_schema()`)).map((r) => r.name),
  lockSchemaChanges: async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(727274)');
  },
  uuidsIgnoreCase: true,
  countSlots: 16,
  // SHARE conflicts with the ROW EXCLUSIVE lock every insert, update and delete takes, and waits
  // for the transactions already holding one to end.
  lockTableAgainstWrites: async (trx, table) => {
    await trx.raw(`lock table ${q(table)} in share mode`);
  },
  refreshStatistics: async (knex, table) => {
    await knex.raw(`analyze ${q(table)}`);
  },
};

export const DIALECTS: Record<DialectName, Dialect> = { sqlite, postgres };
