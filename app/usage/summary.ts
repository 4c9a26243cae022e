import { apiKeysDefinition, organizationsDefinition, partnersDefinition } from '../core/system-definitions.js';
import type { Runtime } from '../runtime.js';
import { requestLogDefinition, requestUsageDayDefinition } from './definitions.js';

// What the admin dashboard shows of the API's usage. It reads the day roll-ups and the newest
// rows of the log through its indexes only: its cost does not grow with the log.

export interface UsageTotals {
  calls: number;
  /** Calls answered 4xx or 5xx. */
  errors: number;
  /** Share of calls answered below 400 (0–1); null without calls. */
  successRate: number | null;
  /** Mean duration in ms; null without calls. */
  averageMs: number | null;
}

export interface UsageDay {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  calls: number;
  errors: number;
}

export interface RecentCall {
  at: string;
  method: string;
  /** The route template, e.g. `/api/v1/:org/patients/:id`. */
  route: string;
  status: number;
  durationMs: number;
  orgId: string | null;
  orgSlug: string | null;
  partnerId: string | null;
  partnerName: string | null;
  keyId: string | null;
  keyName: string | null;
  ip: string | null;
}

export interface KeyUsage {
  id: string;
  name: string;
  prefix: string;
  partnerId: string;
  partnerName: string | null;
  status: 'active' | 'revoked' | 'expired';
  /** The latest call logged with this key (in the organization asked about, when one was). */
  lastUsedAt: string | null;
  /** Its calls in the summary's days. */
  calls: number;
}

export interface UsageSummary {
  /** The organization summarized; null for every organization. */
  orgId: string | null;
  /** The days covered by `totals`, `perDay` and the keys' `calls` (UTC, oldest first). */
  from: string;
  to: string;
  totals: UsageTotals;
  /** One entry per day of the window, days without calls included. */
  perDay: UsageDay[];
  /** The newest calls, newest first. */
  recent: RecentCall[];
  keys: KeyUsage[];
}

export interface UsageSummaryOptions {
  /** One organization's usage; omitted, every organization's (a super admin's view). */
  orgId?: string;
  /** Days covered, today (UTC) included; default 7. */
  days?: number;
  /** Newest calls listed; default 20. */
  recent?: number;
  /** The current time (tests). */
  now?: Date;
}

const LOG = requestLogDefinition.table;
const DAYS = requestUsageDayDefinition.table;
const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
const iso = (v: unknown) => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());

/**
 * Usage of the API for the admin dashboard: totals and calls per day over the last `days` days
 * (from the roll-ups), the newest calls (from the log's time index), and the API keys with their
 * last use. Calls still buffered in a process (up to REQUEST_LOG_FLUSH_MS) are not counted yet.
 */
export async function usageSummary(rt: Runtime, options: UsageSummaryOptions = {}): Promise<UsageSummary> {
  const knex = rt.db.knex;
  const days = options.days ?? 7;
  const limit = options.recent ?? 20;
  if (!Number.isInteger(days) || days < 1 || days > 366) throw new RangeError('days must be an integer from 1 to 366');
  if (!Number.isInteger(limit) || limit < 0 || limit > 1000) throw new RangeError('recent must be an integer from 0 to 1000');
  const now = options.now ?? new Date();
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const dayList = Array.from({ length: days }, (_, i) => new Date(today - (days - 1 - i) * 86_400_000).toISOString().slice(0, 10));
  const from = dayList[0];
  const orgId = options.orgId;
  const inOrg = <T extends { where(c: string, v: unknown): T }>(q: T, column = 'org_id') => (orgId ? q.where(column, orgId) : q);

  // Roll-ups of the window: days × keys × status classes rows at most.
  const perClass = await inOrg(knex(DAYS).where('day', '>=', from))
    .groupBy('day', 'status_class')
    .select('day', 'status_class', knex.raw('sum("calls") as calls'), knex.raw('sum("duration_ms_sum") as duration'));
  const perDay = new Map(dayList.map((d) => [d, { day: d, calls: 0, errors: 0 }]));
  let calls = 0;
  let errors = 0;
  let duration = 0;
  for (const r of perClass as { day: string; status_class: number; calls: unknown; duration: unknown }[]) {
    const entry = perDay.get(String(r.day).slice(0, 10));
    if (!entry) continue; // a day after today (clock skew between processes)
    const n = num(r.calls);
    const failed = Number(r.status_class) >= 4 ? n : 0;
    entry.calls += n;
    entry.errors += failed;
    calls += n;
    errors += failed;
    duration += num(r.duration);
  }

  // The newest calls: the (org_id, created_at, id) index, or (created_at, id) across organizations.
  const recentRows = limit === 0 ? [] : await inOrg(knex(LOG)).orderBy([{ column: 'created_at', order: 'desc' }, { column: 'id', order: 'desc' }]).limit(limit)
    .select('created_at', 'method', 'route', 'status', 'duration_ms', 'org_id', 'partner_id', 'key_id', 'ip') as Record<string, any>[];

  // Keys: those of the organization (or all); last use from the roll-ups (every day kept).
  const keyQuery = knex(apiKeysDefinition.table).leftJoin(partnersDefinition.table, `${partnersDefinition.table}.id`, `${apiKeysDefinition.table}.partner_id`)
    .select(`${apiKeysDefinition.table}.*`, `${partnersDefinition.table}.name as partner_name`).orderBy(`${apiKeysDefinition.table}.name`);
  if (orgId) keyQuery.whereRaw(rt.db.dialect.arrayContains('org_ids').replace(/"org_ids"/g, `"${apiKeysDefinition.table}"."org_ids"`), [rt.db.dialect.arrayMemberBinding(orgId)]);
  const keyRows = (await keyQuery) as Record<string, any>[];
  const lastUse = await inOrg(knex(DAYS)).groupBy('key_id').select('key_id', knex.raw('max("last_at") as last_at'));
  const windowCalls = await inOrg(knex(DAYS).where('day', '>=', from)).groupBy('key_id').select('key_id', knex.raw('sum("calls") as calls'));
  const lastByKey = new Map((lastUse as { key_id: string; last_at: unknown }[]).map((r) => [String(r.key_id).toLowerCase(), iso(r.last_at)]));
  const callsByKey = new Map((windowCalls as { key_id: string; calls: unknown }[]).map((r) => [String(r.key_id).toLowerCase(), num(r.calls)]));
  const nowMs = now.getTime();
  const keys: KeyUsage[] = keyRows.map((k) => ({
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    partnerId: k.partner_id,
    partnerName: k.partner_name ?? null,
    status: k.revoked_at ? 'revoked' : k.expires_at && Date.parse(iso(k.expires_at)!) <= nowMs ? 'expired' : 'active',
    lastUsedAt: lastByKey.get(String(k.id).toLowerCase()) ?? null,
    calls: callsByKey.get(String(k.id).toLowerCase()) ?? 0,
  }));

  // Names for the recent calls: a handful of ids, looked up by primary key.
  const names = async (table: string, column: string, ids: unknown[]) => {
    const wanted = [...new Set(ids.filter((v): v is string => typeof v === 'string'))];
    if (!wanted.length) return new Map<string, string>();
    const rows = await knex(table).whereIn('id', wanted).select('id', column);
    return new Map((rows as Record<string, string>[]).map((r) => [String(r.id).toLowerCase(), r[column]]));
  };
  const keyNames = new Map(keyRows.map((k) => [String(k.id).toLowerCase(), k.name as string]));
  const missingKeys = recentRows.map((r) => r.key_id).filter((id) => id && !keyNames.has(String(id).toLowerCase()));
  for (const [id, name] of await names(apiKeysDefinition.table, 'name', missingKeys)) keyNames.set(id, name);
  const partnerNames = await names(partnersDefinition.table, 'name', recentRows.map((r) => r.partner_id));
  const orgSlugs = await names(organizationsDefinition.table, 'slug', recentRows.map((r) => r.org_id));
  const lookup = (m: Map<string, string>, id: unknown) => (id ? m.get(String(id).toLowerCase()) ?? null : null);
  const recent: RecentCall[] = recentRows.map((r) => ({
    at: iso(r.created_at)!,
    method: r.method,
    route: r.route,
    status: Number(r.status),
    durationMs: Number(r.duration_ms),
    orgId: r.org_id ?? null,
    orgSlug: lookup(orgSlugs, r.org_id),
    partnerId: r.partner_id ?? null,
    partnerName: lookup(partnerNames, r.partner_id),
    keyId: r.key_id ?? null,
    keyName: lookup(keyNames, r.key_id),
    ip: r.ip ?? null,
  }));

  return {
    orgId: orgId ?? null,
    from,
    to: dayList[dayList.length - 1],
    totals: { calls, errors, successRate: calls ? (calls - errors) / calls : null, averageMs: calls ? duration / calls : null },
    perDay: [...perDay.values()],
    recent,
    keys,
  };
}
