import { Readable } from 'node:stream';
import { assertCan } from '../../../app/auth/ability.js';
import { AppError } from '../../../app/core/errors.js';
import type { PluginRoute } from '../../../app/core/plugin.js';
import { customFieldsOf } from '../../../app/custom-fields/types.js';
import { bulkImportRecords } from '../../../app/operations/bulk-import.js';
import { importExtensions } from './extensions.js';
import { DEFAULTS, OPTIONS, csvRows, jsonRows } from './request.js';
import { bodyLimit, maxRows, syncLimit } from './settings.js';
import { ImportStager, STAGE_BATCH } from './stage.js';

/**
 * POST /{org}/patients/bulk: up to the sync limit (1,000 rows) the import is applied (or checked)
 * now and answered 200 with every row's outcome; a larger one is staged and answered 202 with its
 * job, whose progress and report are at GET /{org}/jobs/{id}.
 */
export const bulkImportRoute: PluginRoute = {
  method: 'post',
  path: '/patients/bulk',
  tenant: true,
  body: { limit: bodyLimit, text: ['text/csv'], stream: true },
  openapi: {
    resource: 'patient',
    access: 'write',
    summary: 'Import patients in bulk (JSON or CSV)',
    description:
      'Each row is checked like a single create (schema, sensitive fields, `status` only active or prospective, references, chart numbers unique in the ' +
      'organization and in the import) and may carry `field_values` (custom field values by key, checked like PUT …/field-values). A taken chart number ' +
      'fails the row, skips it or updates that patient like a PATCH, as `on_conflict` says; `validate` writes nothing. Up to 1,000 rows are answered at once ' +
      '(200, every row\'s outcome, good rows committed together); a larger import (up to 1,000,000 rows) is staged and answered 202 with its job ' +
      '(`Location: …/jobs/{id}`), which applies it in chunks and survives a worker restart without losing or repeating a row. ' +
      'CSV: `Content-Type: text/csv`, a header row of patient field names and `field.<key>` custom field columns (a multi_select\'s options separated by `;`), ' +
      'the options as query parameters.',
    query: Object.fromEntries(Object.entries(OPTIONS).map(([name, values]) => [name, { type: 'string', enum: [...values], default: DEFAULTS[name as keyof typeof DEFAULTS], description: `CSV only (JSON gives it in meta). Default ${DEFAULTS[name as keyof typeof DEFAULTS]}.` }])),
    body: {
      type: 'object',
      required: ['rows'],
      additionalProperties: false,
      properties: {
        meta: {
          type: 'object',
          additionalProperties: false,
          properties: Object.fromEntries(Object.entries(OPTIONS).map(([name, values]) => [name, { type: 'string', enum: [...values], default: DEFAULTS[name as keyof typeof DEFAULTS] }])),
        },
        rows: { type: 'array', minItems: 1, items: { type: 'object', description: 'A patient as POST /patients takes it, plus optional `field_values` (by custom field key).' } },
      },
    },
    bodyTypes: { 'text/csv': { type: 'string', description: 'A header row of field names, then one patient per record.' } },
    response: {
      type: 'object',
      required: ['data'],
      properties: {
        data: {
          type: 'object',
          required: ['total', 'created', 'updated', 'skipped', 'failed', 'validated', 'results'],
          properties: {
            total: { type: 'integer' }, created: { type: 'integer' }, updated: { type: 'integer' }, skipped: { type: 'integer' }, failed: { type: 'integer' }, validated: { type: 'integer' },
            results: {
              type: 'array',
              items: {
                type: 'object',
                required: ['row', 'status'],
                properties: {
                  row: { type: 'integer', description: '0-based index in rows (CSV: the record after the header).' },
                  status: { type: 'string', enum: ['created', 'updated', 'skipped', 'failed', 'valid'] },
                  id: { type: 'string', format: 'uuid' },
                  errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' }, code: { type: 'string' } } } },
                },
              },
            },
          },
        },
      },
    },
    otherResponses: { 202: { description: 'A large import, staged: its job (follow Location).', schema: { type: 'object', required: ['data'], properties: { data: { type: 'object', description: 'The job: id, type, status, progress.' } } } } },
    errors: ['duplicate'],
  },
  async handler({ rt, ctx, stream, contentType, query }) {
    const context = ctx!;
    const def = (context.schema ?? rt.schema).registry.get('patient');
    if (!context.org) throw new AppError('not_found', 'Organization not found');
    // No body at all reads as an empty JSON one (rows is then missing).
    const body = stream ?? Readable.from([Buffer.from('{}')]);
    const source = contentType === 'text/csv' ? csvRows(def, body, query, customFieldsOf(def, context.org.id)) : jsonRows(body, query);
    // The caller's permission is checked before anything is staged; each row's, as it is applied.
    assertCan(context.ability, 'create', def, context.org.id);
    const sync = syncLimit();
    const max = maxRows();
    // At most the sync limit of rows is held: past it, rows are staged batch by batch as they arrive.
    let held: unknown[] = [];
    let count = 0;
    let stager: ImportStager | undefined;
    try {
      for await (const row of source.rows) {
        if (++count > max) throw new AppError('payload_too_large', `An import holds at most ${max} rows; this one has more`);
        held.push(row);
        if (!stager && held.length > sync) stager = await ImportStager.open(rt, context, DEFAULTS.match_on);
        if (stager && held.length >= STAGE_BATCH) {
          await stager.add(held);
          held = [];
        }
      }
      const options = source.options();
      if (options.on_conflict === 'update') assertCan(context.ability, 'update', def, context.org.id);
      if (!stager) {
        const result = await bulkImportRecords(rt, {
          resource: 'patient',
          ctx: context,
          items: held.map((data, row) => ({ row, data })),
          mode: options.mode,
          onConflict: options.on_conflict,
          matchOn: options.match_on,
          extensions: importExtensions,
        });
        return { status: 200, body: { data: result } };
      }
      await stager.add(held);
      const job = await stager.commit(options);
      const location = `/api/v1/${context.org.slug}/jobs/${job.id}`;
      return {
        status: 202,
        headers: { location },
        body: { data: { id: job.id, type: job.type, status: job.status, mode: options.mode, total: count } },
      };
    } catch (err) {
      // Nothing of a failed request stays staged (the job that would apply it was never made).
      if (stager) await stager.discard();
      throw err;
    }
  },
};
