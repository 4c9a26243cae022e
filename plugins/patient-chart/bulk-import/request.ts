import { parse } from 'csv-parse/sync';
import type { CustomField } from '../../../app/custom-fields/types.js';
import { AppError, validationError, type ErrorDetail } from '../../../app/core/errors.js';
import type { ResolvedDefinition } from '../../../app/core/types.js';
import type { ImportMode, OnConflict } from '../../../app/operations/bulk-import.js';
import { maxRows } from './settings.js';

// POST /patients/bulk reads either JSON `{meta, rows}` or CSV (a header row of patient field
// names, one patient per line, the options as query parameters). Row numbers are 0-based: the
// index in `rows`, or the CSV record after the header (CSV line row + 2 when no value spans lines).

export interface ImportOptions {
  mode: ImportMode;
  on_conflict: OnConflict;
  match_on: 'chart_number';
}

export const OPTIONS: Record<keyof ImportOptions, readonly string[]> = {
  mode: ['validate', 'apply'],
  on_conflict: ['skip', 'update', 'fail'],
  match_on: ['chart_number'],
};
export const DEFAULTS: ImportOptions = { mode: 'apply', on_conflict: 'fail', match_on: 'chart_number' };

function readOptions(given: Record<string, unknown>, root: string): ImportOptions {
  const problems: ErrorDetail[] = [];
  const out: Record<string, unknown> = { ...DEFAULTS };
  for (const [k, v] of Object.entries(given)) {
    const allowed = OPTIONS[k as keyof ImportOptions];
    if (!allowed) problems.push({ path: `${root}/${k}`, message: root === '/query' ? `unknown query parameter '${k}'` : `unknown field '${k}'` });
    else if (typeof v !== 'string' || !allowed.includes(v)) problems.push({ path: `${root}/${k}`, message: `must be one of: ${allowed.join(', ')}` });
    else out[k] = v;
  }
  if (problems.length) throw validationError(problems);
  return out as unknown as ImportOptions;
}

function checkCount(n: number): void {
  const max = maxRows();
  if (n > max) throw new AppError('payload_too_large', `An import holds at most ${max} rows; this one has ${n}`);
}

export function fromJson(body: Record<string, unknown>, query: Record<string, unknown>): { options: ImportOptions; rows: unknown[] } {
  const problems: ErrorDetail[] = [];
  for (const k of Object.keys(query)) problems.push({ path: `/query/${k}`, message: `unknown query parameter '${k}': with a JSON body the options go in meta` });
  for (const k of Object.keys(body)) if (k !== 'meta' && k !== 'rows') problems.push({ path: `/body/${k}`, message: `unknown field '${k}'` });
  if (!Array.isArray(body.rows)) problems.push({ path: '/body/rows', message: 'is required: an array of patients' });
  const meta = body.meta ?? {};
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) problems.push({ path: '/body/meta', message: 'must be an object' });
  if (problems.length) throw validationError(problems);
  const rows = body.rows as unknown[];
  checkCount(rows.length);
  return { options: readOptions(meta as Record<string, unknown>, '/body/meta'), rows };
}

/** A CSV cell as the field's type: empty means absent; numbers and booleans as written in text. */
function cell(def: ResolvedDefinition, name: string, text: string): unknown {
  const type = def.fields[name].type;
  if ((type === 'integer' || type === 'number') && /^-?\d+(\.\d+)?$/.test(text.trim())) return Number(text.trim());
  if (type === 'boolean') {
    const t = text.trim().toLowerCase();
    if (['true', '1', 'yes'].includes(t)) return true;
    if (['false', '0', 'no'].includes(t)) return false;
  }
  // Anything else stays text: the row's validation names what is wrong with it.
  return text;
}

/** A custom field's cell: numbers and booleans as written in text, a multi_select's options separated by `;`. */
function customCell(field: CustomField, text: string): unknown {
  const t = text.trim();
  if ((field.type === 'integer' || field.type === 'number') && /^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (field.type === 'boolean') {
    if (['true', '1', 'yes'].includes(t.toLowerCase())) return true;
    if (['false', '0', 'no'].includes(t.toLowerCase())) return false;
  }
  if (field.type === 'multi_select') return t.split(';').map((o) => o.trim()).filter(Boolean);
  return text;
}

/**
 * CSV rows: a header of patient field names, and `field.<key>` for the organization's custom
 * fields (gathered into the row's `field_values`).
 */
export function fromCsv(def: ResolvedDefinition, text: string, query: Record<string, unknown>, customFields: readonly CustomField[] = []): { options: ImportOptions; rows: unknown[] } {
  const options = readOptions(query, '/query');
  let records: string[][];
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: false }) as string[][];
  } catch (err) {
    // csv-parse's messages may quote the offending value: only its code and line are kept.
    const e = err as { code?: string; lines?: number };
    throw validationError([{ path: '/body', message: `is not valid CSV (${e.code ?? 'CSV_INVALID'} at line ${e.lines ?? '?'})` }], 'The CSV body is not valid');
  }
  const [header, ...data] = records;
  if (!header) throw validationError([{ path: '/body', message: 'needs a header row of patient field names' }]);
  const writable = new Set(def.writableFields);
  const problems: ErrorDetail[] = [];
  const custom = new Map(customFields.map((f) => [`field.${f.key}`, f]));
  header.forEach((name, i) => {
    if (!writable.has(name) && !custom.has(name)) problems.push({ path: `/body/header/${i}`, message: `'${name.slice(0, 100)}' is not a patient field or custom field (field.<key>) that can be imported` });
    else if (header.indexOf(name) !== i) problems.push({ path: `/body/header/${i}`, message: `'${name}' appears twice` });
  });
  if (problems.length) throw validationError(problems, 'The CSV header is not valid');
  checkCount(data.length);
  const rows = data.map((record) => {
    const row: Record<string, unknown> = {};
    header.forEach((name, i) => {
      if (record[i] === '') return;
      const field = custom.get(name);
      if (field) ((row.field_values ??= {}) as Record<string, unknown>)[field.key] = customCell(field, record[i]);
      else row[name] = cell(def, name, record[i]);
    });
    return row;
  });
  return { options, rows };
}
