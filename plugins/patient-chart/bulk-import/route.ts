import { assertCan } from '../../../app/auth/ability.js';
import { AppError } from '../../../app/core/errors.js';
import type { PluginRoute } from '../../../app/core/plugin.js';
import { bulkImportRecords } from '../../../app/operations/bulk-import.js';
import { importExtensions } from './extensions.js';
import { fromCsv, fromJson } from './request.js';
import { bodyLimit, syncLimit } from './settings.js';
import { stageImport } from './stage.js';

/**
 * POST /{org}/patients/bulk: up to the sync limit (1,000 rows) the import is applied (or checked)
 * now and answered 200 with every row's outcome; a larger one is staged and answered 202 with its
 * job, whose progress and report are at GET /{org}/jobs/{id}.
 */
export const bulkImportRoute: PluginRoute = {
  method: 'post',
  path: '/patients/bulk',
  tenant: true,
  body: { limit: bodyLimit, text: ['text/csv'] },
  async handler({ rt, ctx, body, text, query }) {
    const context = ctx!;
    const def = (context.schema ?? rt.schema).registry.get('patient');
    const { options, rows } = text !== undefined ? fromCsv(def, text, query) : fromJson(body, query);
    // The caller's permission is checked before anything is staged; each row's, as it is applied.
    assertCan(context.ability, 'create', def, context.org?.id);
    if (options.on_conflict === 'update') assertCan(context.ability, 'update', def, context.org?.id);
    if (rows.length <= syncLimit()) {
      const result = await bulkImportRecords(rt, {
        resource: 'patient',
        ctx: context,
        items: rows.map((data, row) => ({ row, data })),
        mode: options.mode,
        onConflict: options.on_conflict,
        matchOn: options.match_on,
        extensions: importExtensions,
      });
      return { status: 200, body: { data: result } };
    }
    if (!context.org) throw new AppError('not_found', 'Organization not found');
    const job = await stageImport(rt, context, options, rows);
    const location = `/api/v1/${context.org.slug}/jobs/${job.id}`;
    return {
      status: 202,
      headers: { location },
      body: { data: { id: job.id, type: job.type, status: job.status, mode: options.mode, total: rows.length } },
    };
  },
};
