import type { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import parserStream from 'stream-json';
import Assembler from 'stream-json/assembler.js';
import type { CustomField } from '../../../app/custom-fields/types.js';
import { AppError, validationError, type ErrorDetail } from '../../../app/core/errors.js';
import type { ResolvedDefinition } from '../../../app/core/types.js';
import type { ImportMode, OnConflict } from '../../../app/operations/bulk-import.js';
import { inputProblems } from '../../../app/schema/validators.js';

// POST /patients/bulk reads either JSON `{meta, rows}` or CSV (a header row of patient field
// names, one patient per line, the options as query parameters). Row numbers are 0-based: the
// index in `rows`, or the CSV record after the header (CSV line row + 2 when no value spans lines).
// Both are parsed as the body arrives (stream-json, csv-parse's stream), one row at a time, so
// that an import of any size is never held whole; the route decides what to keep.

/**
 * The rows of an import as they are read, and its options, known once the rows are all read
 * (JSON's `meta` may come after `rows`). A body that turns out invalid fails the iteration with
 * an error value, at whatever row that is discovered.
 */
export interface RowSource {
  rows: AsyncIterable<unknown>;
  options(): ImportOptions;
}

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

const protoKey = () => validationError([{ path: '/body', message: "must not contain a '__proto__' key" }], 'The request body is not valid');

/**
 * JSON `{meta, rows: [...]}`, in either order: stream-json's tokens, each row (and meta) built
 * by its Assembler. Keys are looked at before a value is assembled, so a `__proto__` key is
 * refused before it could become a prototype; each row gets the checks every JSON body gets
 * (depth, NUL, unpaired surrogates).
 */
export function jsonRows(stream: Readable, query: Record<string, unknown>): RowSource {
  const queryProblems = Object.keys(query).map((k) => ({ path: `/query/${k}`, message: `unknown query parameter '${k}': with a JSON body the options go in meta` }));
  if (queryProblems.length) throw validationError(queryProblems);
  const problems: ErrorDetail[] = [];
  let meta: unknown;
  let sawRows = false;
  let finished = false;

  async function* rows(): AsyncGenerator<unknown> {
    const tokens = parserStream({ streamValues: false });
    stream.on('error', (err) => tokens.destroy(err));
    stream.pipe(tokens);
    // Where the reader is in `{ key: value, … }`; a value other than rows' array is assembled
    // (meta) or skipped (an unknown key's, whose size the client chose) by depth.
    let state: 'start' | 'key' | 'value' | 'meta' | 'skip' | 'rows' | 'row' | 'end' = 'start';
    let key = '';
    let skipDepth = 0;
    let index = 0;
    const asm = new Assembler();
    const checked = (value: unknown, path: string) => {
      const found = inputProblems(value, '/body');
      if (found.length) throw validationError(found.map((d) => ({ ...d, path: d.path.replace(/^\/body/, path) })));
      return value;
    };
    try {
      for await (const t of tokens as AsyncIterable<{ name: string; value?: unknown }>) {
        if (t.name === 'keyValue' && t.value === '__proto__') throw protoKey();
        switch (state) {
          case 'start':
            if (t.name !== 'startObject') throw validationError([{ path: '/body', message: 'must be a JSON object' }]);
            state = 'key';
            break;
          case 'key':
            if (t.name === 'endObject') state = 'end';
            else {
              key = String(t.value);
              state = 'value';
            }
            break;
          case 'value':
            if (key === 'rows' && t.name === 'startArray') {
              sawRows = true;
              state = 'rows';
            } else if (key === 'meta') {
              asm.consume(t as never);
              state = asm.done ? 'key' : 'meta';
              if (asm.done) meta = checked(asm.current, '/body/meta');
            } else {
              if (key === 'rows') sawRows = true;
              problems.push(key === 'rows' ? { path: '/body/rows', message: 'is required: an array of patients' } : { path: `/body/${key}`, message: `unknown field '${key.slice(0, 100)}'` });
              skipDepth = t.name === 'startObject' || t.name === 'startArray' ? 1 : 0;
              state = skipDepth ? 'skip' : 'key';
            }
            break;
          case 'meta':
            asm.consume(t as never);
            if (asm.done) {
              meta = checked(asm.current, '/body/meta');
              state = 'key';
            }
            break;
          case 'skip':
            if (t.name === 'startObject' || t.name === 'startArray') skipDepth++;
            else if ((t.name === 'endObject' || t.name === 'endArray') && --skipDepth === 0) state = 'key';
            break;
          case 'rows':
          case 'row':
            if (state === 'rows' && t.name === 'endArray') {
              state = 'key';
              break;
            }
            asm.consume(t as never);
            state = 'row';
            if (asm.done) {
              state = 'rows';
              yield checked(asm.current, `/body/rows/${index}`);
              index++;
            }
            break;
          case 'end':
            break;
        }
      }
    } catch (err) {
      if (err instanceof AppError) throw err;
      // The parser's messages may quote the body: only the fact is kept.
      throw validationError([{ path: '/body', message: 'is not valid JSON' }], 'The request body is not valid JSON');
    }
    if (state !== 'end') throw validationError([{ path: '/body', message: state === 'start' ? 'must be a JSON object' : 'is not valid JSON' }], 'The request body is not valid JSON');
    if (!sawRows) problems.push({ path: '/body/rows', message: 'is required: an array of patients' });
    if (meta !== undefined && (meta === null || typeof meta !== 'object' || Array.isArray(meta))) problems.push({ path: '/body/meta', message: 'must be an object' });
    if (problems.length) throw validationError(problems);
    finished = true;
  }

  return {
    rows: rows(),
    options() {
      if (!finished) throw new TypeError('the options of a JSON import are known once its rows are read');
      return readOptions((meta ?? {}) as Record<string, unknown>, '/body/meta');
    },
  };
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
 * fields (gathered into the row's `field_values`), read with csv-parse's stream.
 */
export function csvRows(def: ResolvedDefinition, stream: Readable, query: Record<string, unknown>, customFields: readonly CustomField[] = []): RowSource {
  const options = readOptions(query, '/query');
  const custom = new Map(customFields.map((f) => [`field.${f.key}`, f]));
  const writable = new Set(def.writableFields);

  function checkHeader(header: string[]): void {
    const problems: ErrorDetail[] = [];
    header.forEach((name, i) => {
      if (!writable.has(name) && !custom.has(name)) problems.push({ path: `/body/header/${i}`, message: `'${name.slice(0, 100)}' is not a patient field or custom field (field.<key>) that can be imported` });
      else if (header.indexOf(name) !== i) problems.push({ path: `/body/header/${i}`, message: `'${name}' appears twice` });
    });
    if (problems.length) throw validationError(problems, 'The CSV header is not valid');
  }

  function toRow(header: string[], record: string[]): Record<string, unknown> {
    const row: Record<string, unknown> = {};
    header.forEach((name, i) => {
      if (record[i] === '') return;
      const field = custom.get(name);
      if (field) ((row.field_values ??= {}) as Record<string, unknown>)[field.key] = customCell(field, record[i]);
      else row[name] = cell(def, name, record[i]);
    });
    return row;
  }

  async function* rows(): AsyncGenerator<unknown> {
    const records = parse({ bom: true, skip_empty_lines: true, relax_column_count: false });
    stream.on('error', (err) => records.destroy(err));
    stream.pipe(records);
    let header: string[] | undefined;
    try {
      for await (const record of records as AsyncIterable<string[]>) {
        if (!header) {
          checkHeader(record);
          header = record;
        } else yield toRow(header, record);
      }
    } catch (err) {
      if (err instanceof AppError) throw err;
      // csv-parse's messages may quote the offending value: only its code and line are kept.
      const e = err as { code?: string; lines?: number };
      throw validationError([{ path: '/body', message: `is not valid CSV (${e.code ?? 'CSV_INVALID'} at line ${e.lines ?? '?'})` }], 'The CSV body is not valid');
    }
    if (!header) throw validationError([{ path: '/body', message: 'needs a header row of patient field names' }]);
  }

  return { rows: rows(), options: () => options };
}
