import { can } from '../../app/auth/ability.js';
import { AppError } from '../../app/core/errors.js';
import type { ActionDefinition } from '../../app/core/plugin.js';
import { PATIENT_STATUSES } from './statuses.js';

// Seed 001 §1.1 Src#18, §2.4 LocationCountsOut, §3.18: `GET /patients/counts/by-location`,
// "location-level patient counts without exposing patient rows". One grouped query over the
// patients the caller may read (archived ones never count), then one lookup of the locations.
// No patient row is returned, so nothing is read-audited.

export const countsByLocation: ActionDefinition = {
  resource: 'patient',
  name: 'counts/by-location',
  on: 'collection',
  method: 'get',
  access: 'read',
  summary: 'Count patients by location',
  description:
    'Counts the patients whose first visit (`date_first_visit`) falls in [`date_from`, `date_to`) — from inclusive, to exclusive; ' +
    'either bound may be left out — and whose status is in `status_set` (repeat the parameter for several; default `active`), ' +
    'per home location. A patient without a location, or whose location is archived or not active, is counted in ' +
    '`excluded_count` instead; `total` is every matching patient (the items plus `excluded_count`). Archived patients never count. ' +
    "A location's `name` is given only to callers that may read locations (`locations:read`), otherwise null.",
  input: {
    type: 'object',
    properties: {
      date_from: { type: 'string', format: 'date', description: 'Inclusive first-visit start date, YYYY-MM-DD.' },
      date_to: { type: 'string', format: 'date', description: 'Exclusive first-visit end date, YYYY-MM-DD; after date_from.' },
      status_set: {
        type: 'array',
        items: { type: 'string', enum: [...PATIENT_STATUSES] },
        minItems: 1,
        uniqueItems: true,
        default: ['active'],
        description: 'Patient statuses to count; repeat the parameter for several values. Defaults to active.',
      },
    },
  },
  output: {
    type: 'object',
    properties: {
      date_from: { type: ['string', 'null'], format: 'date', description: 'The date_from filter, as given.' },
      date_to: { type: ['string', 'null'], format: 'date', description: 'The date_to filter, as given.' },
      status_set: { type: 'array', items: { type: 'string', enum: [...PATIENT_STATUSES] }, description: 'The statuses counted.' },
      group_by: { type: 'string', enum: ['location'], description: 'What the items are grouped by.' },
      items: {
        type: 'array',
        description: 'One item per active location with matching patients, by location name then id.',
        items: {
          type: 'object',
          properties: {
            location: {
              type: 'object',
              properties: { id: { type: 'string', format: 'uuid' }, name: { type: ['string', 'null'] } },
              required: ['id', 'name'],
              additionalProperties: false,
            },
            count: { type: 'integer', minimum: 1 },
          },
          required: ['location', 'count'],
          additionalProperties: false,
        },
      },
      total: { type: 'integer', minimum: 0, description: 'Every patient matching the filters.' },
      excluded_count: { type: 'integer', minimum: 0, description: 'Patients matching the filters but not grouped under an active location.' },
    },
    required: ['date_from', 'date_to', 'status_set', 'group_by', 'items', 'total', 'excluded_count'],
    additionalProperties: false,
  },
  async run({ ctx, input, read, query }) {
    const from = input.date_from as string | undefined;
    const to = input.date_to as string | undefined;
    const statuses = input.status_set as string[];
    if (from && to && to <= from) {
      throw new AppError('validation_error', 'date_to must be after date_from (it is exclusive)', [{ path: '/query/date_to', message: 'must be after date_from' }]);
    }
    const qb = read('patient').whereIn('status', statuses);
    if (from) qb.where('date_first_visit', '>=', from);
    if (to) qb.where('date_first_visit', '<', to);
    const groups = (await qb.select('location_id').count({ n: '*' }).groupBy('location_id')) as { location_id: string | null; n: number | string }[];

    const ids = groups.map((g) => g.location_id).filter((id): id is string => id !== null);
    // Which locations are active: existence in the organization needs no read scope (as for a
    // reference); their names are shown only to callers that may read locations.
    const locations = ids.length
      ? ((await query('location').whereIn('id', ids).select('id', 'name', 'active')) as unknown as { id: string; name: string; active: unknown }[])
      : [];
    // Compared here: each database stores the boolean its own way (true, 1).
    const active = locations.filter((l) => l.active !== false && l.active !== 0);
    const registry = ctx.schema!.registry;
    const showNames = can(ctx.ability, 'read', registry.get('location'), ctx.org?.id);
    const byId = new Map(active.map((l) => [l.id, l]));
    let total = 0;
    let excluded = 0;
    const items: { location: { id: string; name: string | null }; count: number }[] = [];
    for (const g of groups) {
      const n = Number(g.n);
      total += n;
      const location = g.location_id ? byId.get(g.location_id) : undefined;
      if (!location) excluded += n;
      else items.push({ location: { id: location.id, name: showNames ? location.name : null }, count: n });
    }
    items.sort((a, b) => String(byId.get(a.location.id)!.name).localeCompare(String(byId.get(b.location.id)!.name)) || a.location.id.localeCompare(b.location.id));
    return {
      result: { date_from: from ?? null, date_to: to ?? null, status_set: statuses, group_by: 'location', items, total, excluded_count: excluded },
    };
  },
};
