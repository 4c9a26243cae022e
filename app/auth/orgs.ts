import { v7 as uuidv7 } from 'uuid';
import { AppError, validationError } from '../core/errors.js';
import type { Org } from '../core/context.js';
import { systemColumns } from '../core/define.js';
import { organizationsDefinition } from '../core/system-definitions.js';
import type { Runtime } from '../runtime.js';

const ORGANIZATIONS = organizationsDefinition.table;
const SLUG = /^[a-z0-9][a-z0-9-]{1,62}$/;
const cache = new WeakMap<Runtime, Map<string, { org: Org | null; until: number }>>();

/** The organization of a path slug; cached briefly since organizations rarely change. */
export async function resolveOrg(rt: Runtime, slug: string): Promise<Org | null> {
  let map = cache.get(rt);
  if (!map) cache.set(rt, (map = new Map()));
  const hit = map.get(slug);
  if (hit && hit.until > Date.now()) return hit.org;
  const row = SLUG.test(slug) ? await rt.db.knex(ORGANIZATIONS).where({ slug }).first('id', 'slug', 'name') : undefined;
  const org = row ? { id: row.id, slug: row.slug, name: row.name } : null;
  if (map.size > 10000) map.clear();
  map.set(slug, { org, until: Date.now() + (org ? 30_000 : 2_000) });
  return org;
}

export async function findOrgsBySlugs(rt: Runtime, slugs: string[]): Promise<Org[]> {
  if (!slugs.length) throw validationError([{ path: '/org', message: 'at least one organization is required' }]);
  const rows: Org[] = await rt.db.knex(ORGANIZATIONS).whereIn('slug', slugs).select('id', 'slug', 'name');
  const missing = slugs.filter((s) => !rows.some((r) => r.slug === s));
  if (missing.length) throw new AppError('not_found', `Organization not found: ${missing.join(', ')}`);
  return slugs.map((s) => rows.find((r) => r.slug === s)!);
}

/** Creates an organization; its slug becomes the first segment of its tenant URLs. */
export async function createOrg(rt: Runtime, input: { slug: string; name: string }): Promise<Org> {
  const problems = [];
  if (!SLUG.test(input.slug)) problems.push({ path: '/slug', message: 'must be 2-63 lowercase letters, digits or dashes, starting with a letter or digit' });
  if (rt.registry.reservedSlugs().includes(input.slug)) problems.push({ path: '/slug', message: `'${input.slug}' is taken by a global route` });
  if (!input.name?.trim()) problems.push({ path: '/name', message: 'is required' });
  if (problems.length) throw validationError(problems);
  const existing = await rt.db.knex(ORGANIZATIONS).where({ slug: input.slug }).first('id');
  if (existing) throw new AppError('duplicate', `An organization with slug '${input.slug}' already exists`, [{ path: '/slug', message: 'is already taken' }]);
  const org = { id: uuidv7(), slug: input.slug, name: input.name.trim() };
  await rt.db.knex(ORGANIZATIONS).insert({ ...org, ...systemColumns(organizationsDefinition) });
  cache.get(rt)?.delete(input.slug);
  return org;
}
