import AdminJSKoa from '@adminjs/koa';
import type Router from '@koa/router';
import AdminJS, { type ActionContext, type ResourceWithOptions } from 'adminjs';
import type Koa from 'koa';
import type { Context, Middleware, Next } from 'koa';
import type { Action } from '../app/auth/ability.js';
import { AppError } from '../app/core/errors.js';
import type { ResolvedDefinition } from '../app/core/types.js';
import { pagePolicy } from '../app/http/security-headers.js';
import type { Runtime } from '../app/runtime.js';
import { DefinitionDatabase } from './adapter/database.js';
import { isFilterable, ORGANIZATION_PROPERTY } from './adapter/property.js';
import { DefinitionResource, DefinitionSource } from './adapter/resource.js';
import { passwordPage } from './password-page.js';
import { adminRequest, roleMay } from './scope.js';
import { adminSessionSecret, changeOwnPassword, sessionAdmin, verifyAdminLogin, type SessionAdmin } from './users.js';

// The back office at /admin: AdminJS over the definitions (SPEC §5). Mounted by app/http/server.ts
// only when ADMIN_ENABLED (the default), and loaded lazily, so a server without it loads none of
// AdminJS.

export const ADMIN_ROOT = '/admin';

let adapterRegistered = false;

/** The admin pages' own Content-Security-Policy: AdminJS renders with inline scripts and styles. */
const ADMIN_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'", "'unsafe-inline'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:', 'blob:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
  'base-uri': ["'self'"],
};

type MayCheck = (context: ActionContext) => boolean;

function resourceOptions(rt: Runtime, def: ResolvedDefinition): ResourceWithOptions['options'] {
  const may = (action: Action): MayCheck => ({ currentAdmin }) => roleMay(rt.registry, (currentAdmin as SessionAdmin | undefined)?.role, action, def);
  const org = def.tenant ? [ORGANIZATION_PROPERTY] : [];
  const filterable = def.columns.filter((c) => !c.system && isFilterable(c.field)).map((c) => c.name);
  const listed = def.admin?.listProperties?.length ? [...def.admin.listProperties] : def.writableFields.slice(0, 5);
  const [sortField, desc] = def.defaultSort.startsWith('-') ? [def.defaultSort.slice(1), true] : [def.defaultSort, false];
  return {
    id: def.name,
    navigation: { name: def.admin?.group ?? 'Other', icon: def.admin?.icon ?? 'Folder' },
    listProperties: [...listed, ...org],
    filterProperties: [...org, ...filterable, ...(def.parent && !filterable.includes(def.parent.field) ? [def.parent.field] : [])],
    // The organization is chosen when a record is created (a practice admin has just its own).
    editProperties: [...org, ...(def.parent ? [def.parent.field] : []), ...def.writableFields],
    showProperties: [...org, ...def.outputFields],
    sort: { sortBy: sortField, direction: desc ? 'desc' : 'asc' },
    actions: {
      list: { isAccessible: may('read') },
      show: { isAccessible: may('read') },
      search: { isAccessible: may('read') },
      new: { isAccessible: may('create') },
      edit: { isAccessible: may('update') },
      delete: { isAccessible: may('archive') },
      // Archive one by one: each archive carries its own checks (dependents, versions).
      bulkDelete: { isAccessible: false, isVisible: false },
    },
  };
}

function isAdminPath(path: string): boolean {
  return path === ADMIN_ROOT || path.startsWith(`${ADMIN_ROOT}/`);
}

/** Runs middleware in order, the way Koa composes an app's. */
function compose(stack: Middleware[]): Middleware {
  return (ctx, next) => {
    const dispatch = (i: number): Promise<void> => (i === stack.length ? next() : Promise.resolve(stack[i](ctx, () => dispatch(i + 1))));
    return dispatch(0);
  };
}

/** AdminJS's errors for a missing record or a refused action keep their status and say why. */
function adminErrors(): Middleware {
  return async (ctx: Context, next: Next) => {
    try {
      await next();
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (!(err instanceof AppError) && (status === 403 || status === 404)) {
        ctx.status = status;
        ctx.body = { error: status === 403 ? 'forbidden' : 'not_found', message: (err as Error).message, request_id: ctx.state.requestId };
        return;
      }
      throw err;
    }
  };
}

/**
 * Builds the panel and answers every request under /admin with it. The caller runs the returned
 * middleware for /admin paths only: the session, AdminJS's body parsing and its assets never
 * touch the API.
 */
export async function createAdminPanel(rt: Runtime, app: Koa): Promise<Middleware> {
  if (!adapterRegistered) {
    AdminJS.registerAdapter({ Database: DefinitionDatabase, Resource: DefinitionResource });
    adapterRegistered = true;
  }
  // Signed session cookies: koa-session signs with the app's keys.
  const secret = await adminSessionSecret(rt);
  app.keys = [secret];

  const resources = rt.registry.exposed().map((def) => ({ resource: new DefinitionSource(rt, def.name), options: resourceOptions(rt, def) }));
  const admin = new AdminJS({
    rootPath: ADMIN_ROOT,
    loginPath: `${ADMIN_ROOT}/login`,
    logoutPath: `${ADMIN_ROOT}/logout`,
    resources,
    branding: { companyName: 'EMR back office', withMadeWithLove: false },
    settings: { defaultPerPage: 20 },
  });

  // buildAuthenticatedRouter installs its session and asset middleware with app.use: they are
  // collected here and run for /admin paths only.
  const stack: Middleware[] = [];
  const collector = Object.create(app, {
    use: {
      value(mw: Middleware) {
        stack.push(mw);
        return collector;
      },
    },
  }) as Koa;
  const router: Router = AdminJSKoa.buildAuthenticatedRouter(admin, collector, {
    authenticate: async (email, password, ctx) => {
      const outcome = await verifyAdminLogin(rt, email, password);
      if (outcome.ok) return sessionAdmin(outcome.user);
      // Why a login failed is logged, never told to the client (which email exists is not its business).
      ctx?.state.log?.info({ reason: outcome.reason }, 'admin login refused');
      return null;
    },
    sessionOptions: { key: 'emr_admin', httpOnly: true, sameSite: 'lax', signed: true, maxAge: 8 * 3600 * 1000, renew: true },
  });

  // Password change: a form of its own under /admin (behind the login like every admin page).
  router.get('/account/password', (ctx) => {
    ctx.type = 'html';
    ctx.body = passwordPage({ email: (ctx.session?.adminUser as SessionAdmin).email });
  });
  router.post('/account/password', async (ctx) => {
    const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
    const user = ctx.session?.adminUser as SessionAdmin;
    ctx.type = 'html';
    if (body.new_password !== body.confirm_password) {
      ctx.status = 400;
      ctx.body = passwordPage({ email: user.email, error: 'The new password and its confirmation differ.' });
      return;
    }
    try {
      await changeOwnPassword(rt, user.id, String(body.current_password ?? ''), String(body.new_password ?? ''));
    } catch (err) {
      if (!(err instanceof AppError) || err.status >= 500) throw err;
      ctx.status = err.status;
      ctx.body = passwordPage({ email: user.email, error: err.details?.map((d) => `${d.path.replace(/^\//, '').replace(/_/g, ' ')} ${d.message}`).join('; ') || err.message });
      return;
    }
    ctx.body = passwordPage({ email: user.email, done: true });
  });

  const handler = compose([pagePolicy(ADMIN_POLICY), adminErrors(), ...stack, router.routes() as Middleware, router.allowedMethods() as Middleware]);
  return (ctx, next) => (isAdminPath(ctx.path) ? adminRequest.run({ requestId: ctx.state.requestId, ip: ctx.ip }, () => handler(ctx, next)) : next());
}
