import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { v7 as uuidv7 } from 'uuid';
import { buildAbility, type Grant } from '../app/auth/ability.js';
import type { AppAbility, Actor } from '../app/core/context.js';
import { systemColumns } from '../app/core/define.js';
import { AppError, validationError } from '../app/core/errors.js';
import type { Registry } from '../app/core/registry.js';
import { adminUsersDefinition, organizationsDefinition, settingsDefinition } from '../app/core/system-definitions.js';
import type { Runtime } from '../app/runtime.js';

// Admin users: the people who log in to the back office. Their table is a system table (like API
// keys) that the auth layer alone reads and writes; what they may do is a CASL ability built by
// the same function as an API key's, from a grant their role implies.

export const ADMIN_ROLES = ['super_admin', 'practice_admin', 'support_agent'] as const;
export type AdminRole = (typeof ADMIN_ROLES)[number];

const TABLE = adminUsersDefinition.table;
/** bcrypt's cost: about 0.1 s per hash with bcryptjs on this class of machine. */
const BCRYPT_ROUNDS = 11;
/** bcrypt reads at most 72 bytes; a longer password would silently lose its tail. */
const MAX_PASSWORD_BYTES = 72;
const MIN_PASSWORD_LENGTH = 10;
/** Compared against when the email is unknown, so a miss takes as long as a wrong password. */
const DUMMY_HASH = bcrypt.hashSync('not-a-password', BCRYPT_ROUNDS);

export interface AdminUser {
  id: string;
  email: string;
  name: string;
  role: AdminRole;
  organization_id: string | null;
  active: boolean;
  last_login_at: string | null;
  failed_logins: number;
  locked_until: string | null;
}

/** What AdminJS keeps in the signed session cookie: enough to find the user again, nothing secret. */
export interface SessionAdmin {
  id: string;
  email: string;
  title: string;
  role: AdminRole;
}

/** The admin-panel group whose resources support agents work on (tickets, comments, the KB). */
export const SUPPORT_GROUP = 'Support';

/**
 * The grant a role implies, derived from the definitions so a new definition needs no role code:
 * super_admin holds `*` everywhere; practice_admin writes (with sensitive fields) every tenant
 * resource of its practice and reads global ones; support_agent writes the resources of the
 * Support group in every organization and nothing else (no patient data at all).
 */
export function roleGrant(registry: Registry, role: AdminRole, orgIds: readonly string[]): Grant {
  if (role === 'super_admin') return { scopes: ['*'], orgIds };
  const scopes = new Set<string>();
  for (const def of registry.exposed()) {
    if (role === 'practice_admin') {
      if (def.tenant) scopes.add(`${def.scope}:write`).add(`${def.scope}:sensitive`);
      else scopes.add(`${def.scope}:read`);
    } else if (def.admin?.group === SUPPORT_GROUP) {
      scopes.add(`${def.scope}:write`);
    }
  }
  return { scopes: [...scopes], orgIds };
}

/** The organizations a user works in: its practice, or every organization for the vendor's roles. */
export async function adminOrgIds(rt: Runtime, user: AdminUser): Promise<string[]> {
  if (user.role === 'practice_admin') return user.organization_id ? [user.organization_id] : [];
  const rows: { id: string }[] = await rt.db.knex(organizationsDefinition.table).orderBy('slug').select('id');
  return rows.map((r) => r.id);
}

export function adminAbility(registry: Registry, user: AdminUser, orgIds: readonly string[]): AppAbility {
  return buildAbility(registry, roleGrant(registry, user.role, orgIds));
}

export function adminActor(user: AdminUser): Actor {
  return { type: 'admin_user', id: user.id, label: user.email };
}

function fromRow(rt: Runtime, row: Record<string, unknown>): AdminUser & { password_hash: string } {
  return rt.schema.codec(adminUsersDefinition.name).fromDb(row) as unknown as AdminUser & { password_hash: string };
}

function withoutHash(user: AdminUser & { password_hash?: string }): AdminUser {
  const { password_hash: _hash, ...rest } = user;
  return rest;
}

function normalizeEmail(email: string): string {
  return String(email ?? '').trim().toLowerCase();
}

function checkPassword(password: string, path = '/password'): void {
  if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH) throw validationError([{ path, message: `must be at least ${MIN_PASSWORD_LENGTH} characters` }]);
  if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES) throw validationError([{ path, message: `must be at most ${MAX_PASSWORD_BYTES} bytes` }]);
}

export async function findAdminUser(rt: Runtime, id: string): Promise<AdminUser | null> {
  const row = await rt.db.knex(TABLE).where({ id }).first();
  return row ? withoutHash(fromRow(rt, row)) : null;
}

export interface NewAdminUser {
  email: string;
  name: string;
  role: AdminRole;
  organizationId?: string | null;
  password: string;
}

export async function createAdminUser(rt: Runtime, input: NewAdminUser): Promise<AdminUser> {
  const email = normalizeEmail(input.email);
  const problems = [];
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) problems.push({ path: '/email', message: 'must be an email address' });
  if (!ADMIN_ROLES.includes(input.role)) problems.push({ path: '/role', message: `must be one of ${ADMIN_ROLES.join(', ')}` });
  if (input.role === 'practice_admin' && !input.organizationId) problems.push({ path: '/organization_id', message: 'is required for a practice_admin' });
  if (!input.name?.trim()) problems.push({ path: '/name', message: 'is required' });
  if (problems.length) throw validationError(problems);
  checkPassword(input.password);
  if (await rt.db.knex(TABLE).where({ email }).first('id')) throw new AppError('duplicate', `An admin user with email '${email}' already exists`, [{ path: '/email', message: 'is already taken' }]);
  const user = {
    id: uuidv7(), email, name: input.name.trim(), role: input.role, organization_id: input.organizationId ?? null, active: true,
    last_login_at: null, failed_logins: 0, locked_until: null,
  };
  const hash = await bcrypt.hash(input.password, BCRYPT_ROUNDS);
  await rt.db.knex(TABLE).insert(rt.schema.codec(adminUsersDefinition.name).toDb({ ...user, password_hash: hash, ...systemColumns(adminUsersDefinition) }));
  return user;
}

/** Sets a new password (and clears any lock-out): the seed's and the password-change page's door. */
export async function setAdminPassword(rt: Runtime, id: string, password: string, path = '/password'): Promise<void> {
  checkPassword(password, path);
  const hash = await bcrypt.hash(password, BCRYPT_ROUNDS);
  const now = new Date().toISOString();
  await rt.db.knex(TABLE).where({ id }).update({ password_hash: hash, failed_logins: 0, locked_until: null, updated_at: now, version: rt.db.knex.raw('version + 1') });
}

/** A password change by the user: the current password must be right (and counts as a login attempt). */
export async function changeOwnPassword(rt: Runtime, id: string, current: string, next: string): Promise<void> {
  const row = await rt.db.knex(TABLE).where({ id }).first();
  if (!row) throw new AppError('not_found', 'Admin user not found');
  const user = fromRow(rt, row);
  if (!(await bcrypt.compare(String(current ?? ''), user.password_hash))) {
    throw validationError([{ path: '/current_password', message: 'is not your current password' }]);
  }
  await setAdminPassword(rt, id, next, '/new_password');
}

export type LoginOutcome = { ok: true; user: AdminUser } | { ok: false; reason: 'invalid' | 'locked' | 'inactive'; lockedUntil?: string };

/**
 * Checks a login. Failures in a row are counted; the one that reaches the limit locks the user
 * out until `lockoutSeconds` have passed, during which even the right password is refused. A
 * success, or the end of a lock, starts the count again.
 */
export async function verifyAdminLogin(rt: Runtime, emailInput: string, password: string, now = new Date()): Promise<LoginOutcome> {
  const { maxFailedLogins, lockoutSeconds } = rt.config.admin;
  const email = normalizeEmail(emailInput);
  const row = email ? await rt.db.knex(TABLE).where({ email }).first() : undefined;
  const user = row ? fromRow(rt, row) : undefined;
  const matches = await bcrypt.compare(String(password ?? ''), user?.password_hash ?? DUMMY_HASH);
  if (!user) return { ok: false, reason: 'invalid' };
  const lockedUntil = user.locked_until ? new Date(user.locked_until) : null;
  if (lockedUntil && lockedUntil > now) return { ok: false, reason: 'locked', lockedUntil: user.locked_until! };
  const stamp = now.toISOString();
  if (lockedUntil) {
    // The lock has run out: the failures that caused it no longer count.
    await rt.db.knex(TABLE).where({ id: user.id }).update({ failed_logins: 0, locked_until: null, updated_at: stamp });
  }
  if (!matches) {
    // Counted in the database (not read-modify-write), so concurrent failures all count.
    await rt.db.knex(TABLE).where({ id: user.id }).increment('failed_logins', 1);
    const { failed_logins } = await rt.db.knex(TABLE).where({ id: user.id }).first('failed_logins');
    if (Number(failed_logins) >= maxFailedLogins) {
      const until = new Date(now.getTime() + lockoutSeconds * 1000).toISOString();
      await rt.db.knex(TABLE).where({ id: user.id }).whereNull('locked_until').update({ locked_until: until, updated_at: stamp });
      rt.logger.warn({ admin_user: user.id, failed_logins: Number(failed_logins) }, 'admin user locked out after failed logins');
    }
    return { ok: false, reason: 'invalid' };
  }
  if (!user.active) return { ok: false, reason: 'inactive' };
  await rt.db.knex(TABLE).where({ id: user.id }).update({ failed_logins: 0, locked_until: null, last_login_at: stamp, updated_at: stamp });
  return { ok: true, user: { ...withoutHash(user), failed_logins: 0, locked_until: null, last_login_at: stamp } };
}

export function sessionAdmin(user: AdminUser): SessionAdmin {
  return { id: user.id, email: user.email, title: user.name, role: user.role };
}

/** ADMIN_SESSION_SECRET, or one generated once and kept in the database so every process shares it. */
export async function adminSessionSecret(rt: Runtime): Promise<string> {
  if (rt.config.admin.sessionSecret) return rt.config.admin.sessionSecret;
  const key = 'admin_session_secret';
  await rt.db.knex(settingsDefinition.table).insert({ id: uuidv7(), key, value: randomBytes(48).toString('base64url'), ...systemColumns(settingsDefinition) }).onConflict('key').ignore();
  return (await rt.db.knex(settingsDefinition.table).where({ key }).first('value')).value as string;
}

/** A fresh random password (the demo users get one at each start, like the demo API key). */
export function randomPassword(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * One admin user per role for an organization, each with a new password (printed by `npm start`).
 * Users that exist keep their id, name and role; only the password is replaced.
 */
export async function issueDemoAdmins(rt: Runtime, org: { id: string; slug: string }): Promise<{ email: string; role: AdminRole; password: string }[]> {
  const out = [];
  for (const role of ADMIN_ROLES) {
    const email = `${role.replace(/_/g, '-')}@${org.slug}.example`;
    const password = randomPassword();
    const existing = await rt.db.knex(TABLE).where({ email }).first('id');
    if (existing) await setAdminPassword(rt, existing.id, password);
    else await createAdminUser(rt, { email, name: `Demo ${role.replace(/_/g, ' ')}`, role, organizationId: role === 'practice_admin' ? org.id : null, password });
    out.push({ email, role, password });
  }
  return out;
}
