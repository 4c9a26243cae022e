import { validationError, type ErrorDetail } from '../../../app/core/errors.js';
import type { OperationContext } from '../../../app/core/context.js';
import type { Row } from '../../../app/core/plugin.js';
import { customFieldsOf, type CustomField } from '../../../app/custom-fields/types.js';
import { storedValue, valueColumns, valueSchema } from '../../../app/custom-fields/values.js';
import { createRecord } from '../../../app/operations/create.js';
import { listRecords, type ListResult } from '../../../app/operations/list.js';
import { inTransaction } from '../../../app/operations/pipeline.js';
import { updateRecord } from '../../../app/operations/update.js';
import type { Runtime } from '../../../app/runtime.js';
import { compileBodyCheck } from '../../../app/schema/validators.js';

// A patient's custom field values: listed, shown as the whole form, and upserted together. Every
// read and write is an operation on patient-field-value (permissions, parent check, validation,
// versions, audit and events), presented as `{key, value}` rather than the storage columns.

const VALUES = 'patient-field-value';

/** The context pinned to one schema generation, and that generation's fields of the caller's organization. */
function pinned(rt: Runtime, ctx: OperationContext): { ctx: OperationContext; fields: readonly CustomField[] } {
  const schema = ctx.schema ?? rt.schema;
  const fixed = { ...ctx, schema };
  return { ctx: fixed, fields: customFieldsOf(schema.registry.get('patient'), ctx.org?.id) };
}

/** One stored value as the API shows it. */
function presentValue(field: CustomField, row: Row): Row {
  return {
    id: row.id, field_definition_id: field.id, key: field.key, name: field.name, field_type: field.type, value: storedValue(field, row),
    version: row.version, created_at: row.created_at, updated_at: row.updated_at,
  };
}

/**
 * The value rows of these fields on the patient (all of them, at most one per field). With no
 * field, the filter `field_definition_id[null]` matches nothing but the list still checks the patient.
 */
async function valueRows(rt: Runtime, ctx: OperationContext, patientId: string, fields: readonly CustomField[], extra: Row = {}): Promise<ListResult> {
  const query: Row = fields.length ? { 'field_definition_id[in]': fields.map((f) => f.id), ...extra } : { 'field_definition_id[null]': true, ...extra };
  return listRecords(rt, { resource: VALUES, ctx, parentId: patientId, query: { limit: 100, ...query } });
}

/** `GET …/field-values`: the values set on the patient, of live fields, in form order of the page read. */
export async function listFieldValues(rt: Runtime, callerCtx: OperationContext, patientId: string, query: Row): Promise<Row> {
  const { ctx, fields } = pinned(rt, callerCtx);
  const byId = new Map(fields.map((f) => [f.id, f]));
  const paging: Row = {};
  for (const k of ['page', 'page_size', 'limit', 'offset']) if (query[k] !== undefined) paging[k] = query[k];
  const unknown = Object.keys(query).filter((k) => !(k in paging));
  if (unknown.length) throw validationError(unknown.map((k) => ({ path: `/query/${k}`, message: `unknown query parameter '${k}'` })));
  if (paging.page_size === undefined && paging.limit === undefined) paging[paging.page !== undefined ? 'page_size' : 'limit'] = 100;
  const list = await valueRows(rt, ctx, patientId, fields, { is_set: true, ...paging });
  return { ...list, data: list.data.map((row) => presentValue(byId.get(row.field_definition_id as string)!, row)) };
}

/** `GET …/field-values/form`: every live field in form order, with the patient's value or null. */
export async function fieldValuesForm(rt: Runtime, callerCtx: OperationContext, patientId: string): Promise<Row[]> {
  const { ctx, fields } = pinned(rt, callerCtx);
  const rows = new Map((await valueRows(rt, ctx, patientId, fields)).data.map((r) => [r.field_definition_id, r]));
  return fields.map((field) => {
    const row = rows.get(field.id);
    return {
      field_definition_id: field.id, key: field.key, name: field.name, field_type: field.type, dropdown_options: field.options ?? null,
      is_required: field.required, item_order: field.order, description: field.description ?? null, help_text: field.help_text ?? null,
      value: row ? storedValue(field, row) : null, value_id: row?.id ?? null, version: row?.version ?? null,
    };
  });
}

/** The body of `PUT …/field-values`: the seed's list of `{field_definition_id | key, value}`, or a map by key. */
const upsertShape = compileBodyCheck({
  type: 'object',
  additionalProperties: false,
  properties: {
    fields: {
      type: 'array', maxItems: 100,
      items: {
        type: 'object', additionalProperties: false, required: ['value'],
        properties: { field_definition_id: { type: 'string', format: 'uuid' }, key: { type: 'string', maxLength: 40 }, value: {} },
      },
    },
    values: { type: 'object', maxProperties: 100 },
    form: { type: 'boolean' },
  },
});

export interface Entry {
  field: CustomField;
  value: unknown;
  path: string;
}

/**
 * Resolves the entries to live fields and checks each value against its field's type, with
 * problem paths under `root` (`/body` for a request, `` for an import row).
 */
export function checkEntries(body: Row, fields: readonly CustomField[], root: string): { entries: Entry[]; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  const raw: { ref: { key?: string; id?: string }; value: unknown; path: string }[] = body.fields
    ? (body.fields as Row[]).map((f, i) => ({ ref: { key: f.key as string | undefined, id: f.field_definition_id as string | undefined }, value: f.value, path: `${root}/fields/${i}` }))
    : Object.entries(body.values as Row).map(([key, value]) => ({ ref: { key }, value, path: `${root}/${root === '/body' ? 'values' : 'field_values'}/${key}` }));
  const entries: Entry[] = [];
  const seen = new Set<string>();
  for (const { ref, value, path } of raw) {
    if ((ref.key === undefined) === (ref.id === undefined) && body.fields) {
      problems.push({ path, message: 'name the field by key or by field_definition_id (one of them)' });
      continue;
    }
    const field = fields.find((f) => (ref.id !== undefined ? f.id === ref.id : f.key === ref.key));
    if (!field) {
      problems.push({ path: body.fields ? `${path}/${ref.id !== undefined ? 'field_definition_id' : 'key'}` : path, message: `no live custom field '${ref.id ?? ref.key}' (unknown or archived)` });
      continue;
    }
    if (seen.has(field.id)) {
      problems.push({ path, message: `'${field.key}' is given twice` });
      continue;
    }
    seen.add(field.id);
    entries.push({ field, value, path: body.fields ? `${path}/value` : path });
  }
  for (const e of entries) {
    try {
      valueCheck(e.field)({ value: e.value });
    } catch (err) {
      problems.push(...((err as { details?: ErrorDetail[] }).details ?? []).map((d) => ({ ...d, path: d.path.replace(/^\/body\/value/, e.path) })));
    }
    if (e.value === null && e.field.required) problems.push({ path: e.path, message: `'${e.field.key}' is required and cannot be cleared` });
  }
  return { entries: problems.length ? [] : entries, problems };
}

function entriesOf(body: Row, fields: readonly CustomField[]): Entry[] {
  upsertShape(body);
  if ((body.fields === undefined) === (body.values === undefined)) {
    throw validationError([{ path: '/body', message: 'give either fields (a list of {key or field_definition_id, value}) or values (an object by key)' }]);
  }
  const { entries, problems } = checkEntries(body, fields, '/body');
  if (problems.length) throw validationError(problems);
  return entries;
}

const checks = new WeakMap<CustomField, (body: Row) => Row>();
function valueCheck(field: CustomField): (body: Row) => Row {
  let check = checks.get(field);
  if (!check) {
    check = compileBodyCheck({ type: 'object', properties: { value: valueSchema(field) }, required: ['value'], additionalProperties: false });
    checks.set(field, check);
  }
  return check;
}

/**
 * `PUT …/field-values`: sets and clears (null) values in one transaction; a value equal to the
 * stored one changes nothing. With `form: true` (a submitted form) every required field must hold
 * a value afterwards. Answers the values written, as listed.
 */
export async function upsertFieldValues(rt: Runtime, callerCtx: OperationContext, patientId: string, body: Row): Promise<Row[]> {
  const { ctx, fields } = pinned(rt, callerCtx);
  const entries = entriesOf(body, fields);
  return inTransaction({ rt, ctx, gen: ctx.schema! }, async (trx) => {
    const inTrx = { ...ctx, transaction: trx };
    const existing = new Map((await valueRows(rt, inTrx, patientId, fields)).data.map((r) => [r.field_definition_id as string, r]));
    if (body.form === true) {
      const given = new Map(entries.map((e) => [e.field.id, e.value]));
      const missing = fields.filter((f) => f.required && !(given.has(f.id) ? given.get(f.id) !== null : existing.get(f.id)?.is_set === true));
      if (missing.length) throw validationError(missing.map((f) => ({ path: `/body/${body.fields ? 'fields' : 'values'}`, message: `'${f.key}' is required`, key: f.key })));
    }
    return writeFieldValues(rt, inTrx, patientId, entries, existing);
  });
}

/**
 * Writes checked entries for one patient inside the caller's transaction (`ctx.transaction`):
 * an update of the stored row, or a create when the field has none and the value is set.
 */
export async function writeFieldValues(rt: Runtime, ctx: OperationContext, patientId: string, entries: readonly Entry[], existing: ReadonlyMap<string, Row>): Promise<Row[]> {
  const written: Row[] = [];
  for (const { field, value } of entries) {
    const columns = valueColumns(field, value);
    const row = existing.get(field.id);
    if (row) {
      written.push(presentValue(field, await updateRecord(rt, { resource: VALUES, ctx, parentId: patientId, id: row.id as string, body: columns })));
    } else if (columns.is_set) {
      written.push(presentValue(field, await createRecord(rt, { resource: VALUES, ctx, parentId: patientId, body: { field_definition_id: field.id, ...columns } })));
    }
  }
  return written;
}
