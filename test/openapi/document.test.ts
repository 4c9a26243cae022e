import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import { defineEntity } from '../../app/core/define.js';
import { Registry, loadDefinitionDirs } from '../../app/core/registry.js';
import { systemDefinitions } from '../../app/core/system-definitions.js';
import type { EntityDefinition, ResolvedDefinition } from '../../app/core/types.js';
import { docsHtml, swaggerUiDistPath } from '../../app/openapi/docs-page.js';
import { buildOpenApiDocument } from '../../app/openapi/document.js';

type Obj = Record<string, any>;

const DEFINITIONS_DIR = fileURLToPath(new URL('../../definitions', import.meta.url));
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function operations(doc: Obj): { path: string; method: string; op: Obj; item: Obj }[] {
  const out: { path: string; method: string; op: Obj; item: Obj }[] = [];
  for (const [p, item] of Object.entries(doc.paths as Obj)) {
    for (const method of Object.keys(item)) if (METHODS.includes(method)) out.push({ path: p, method, op: item[method], item });
  }
  return out;
}

function resolve(doc: Obj, value: Obj): Obj {
  if (!value?.$ref) return value;
  const ref: string = value.$ref;
  expect(ref.startsWith('#/'), `only local refs: ${ref}`).to.equal(true);
  let node: any = doc;
  for (const part of ref.slice(2).split('/')) node = node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  expect(node, `unresolved $ref ${ref}`).to.not.equal(undefined);
  return node;
}

/** The collection path of a definition, per the routing rules (written independently of the generator). */
function basePath(registry: Registry, def: ResolvedDefinition): string {
  if (def.parent) {
    const parent = registry.get(def.parent.resource);
    return `${basePath(registry, parent)}/{${def.parent.resource.replace(/-/g, '_')}_id}/${def.path}`;
  }
  return def.tenant ? `/api/v1/{org}/${def.path}` : `/api/v1/${def.path}`;
}

function methodsOf(doc: Obj, p: string): string[] {
  const item = doc.paths[p];
  return item ? Object.keys(item).filter((k) => METHODS.includes(k)).sort() : [];
}

describe('OpenAPI document', () => {
  let registry: Registry;
  let doc: Obj;

  before(async () => {
    registry = new Registry([...systemDefinitions, ...(await loadDefinitionDirs([DEFINITIONS_DIR]))]);
    doc = buildOpenApiDocument(registry) as Obj;
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors, JSON.stringify(result.errors, null, 2)?.slice(0, 4000)).to.equal(undefined);
    expect(result.valid).to.equal(true);
    expect(validator.version).to.equal('3.1');
    expect(doc.openapi).to.equal('3.1.0');
  });

  it('has info, servers and the bearer security scheme', () => {
    expect(doc.info.title).to.equal('EMR Platform API');
    expect(doc.info.version).to.match(/^\d+\.\d+\.\d+/);
    expect(doc.servers).to.deep.equal([{ url: '/' }]);
    expect(buildOpenApiDocument(registry, { serverUrl: 'https://api.example.com' }).servers).to.deep.equal([
      { url: 'https://api.example.com' },
    ]);
    expect(doc.components.securitySchemes.bearerAuth).to.include({ type: 'http', scheme: 'bearer' });
    // Key scopes are listed on the scheme, with what each grants (no OAuth2 flow carries them).
    const catalog = doc.components.securitySchemes.bearerAuth['x-scopes'];
    expect(catalog).to.include.keys('patients:read', 'patients:write', 'patients:sensitive', 'audit:read', '*:read', '*');
    expect(catalog, 'audit events are read-only: audit:write grants nothing more').to.not.have.property('audit:write');
    expect(catalog, 'tasks have no sensitive field').to.not.have.property('tasks:sensitive');
    expect(catalog['patients:sensitive']).to.include('sensitive fields of patients');
  });

  it('states the rate limit from the configuration, never a figure of its own', () => {
    expect(doc.info.description).to.include('RATE_LIMIT_PER_MINUTE').and.not.match(/\d+ requests/);
    const configured = buildOpenApiDocument(registry, { rateLimitPerMinute: 250 }).info as Obj;
    expect(configured.description).to.include('250 requests per minute').and.include('RATE_LIMIT_PER_MINUTE');
  });

  it('documents how to get a scoped document', () => {
    expect(doc.info.description).to.include('/api/openapi.json?scoped=true');
    expect(doc.info.description).to.not.include('This document is scoped');
    const op = doc.paths['/api/openapi.json'].get;
    expect(op.parameters.map((x: Obj) => x.name)).to.deep.equal(['scoped']);
    expect(op.responses).to.include.keys('200', '401');
  });

  it('serves exactly the expected routes of the real definitions', () => {
    // Written out by hand, so a dropped (or extra) route fails here even if the generator's own
    // rules changed.
    const crud = (base: string) => ({
      [base]: ['get', 'post'],
      [`${base}/{id}`]: ['delete', 'get', 'patch', 'put'],
      [`${base}/{id}/archive`]: ['post'],
      [`${base}/{id}/restore`]: ['post'],
    });
    const expected: Record<string, string[]> = {
      ...crud('/api/v1/{org}/patients'),
      ...crud('/api/v1/{org}/providers'),
      ...crud('/api/v1/{org}/locations'),
      ...crud('/api/v1/{org}/tasks'),
      ...crud('/api/v1/{org}/tickets'),
      ...crud('/api/v1/kb'),
      ...crud('/api/v1/{org}/allergy-definitions'),
      ...crud('/api/v1/{org}/disease-definitions'),
      ...crud('/api/v1/{org}/medication-definitions'),
      ...crud('/api/v1/{org}/patient-alert-definitions'),
      ...crud('/api/v1/{org}/patient-tag-definitions'),
      ...crud('/api/v1/{org}/patient-field-definitions'),
      ...crud('/api/v1/{org}/patients/{patient_id}/allergies'),
      ...crud('/api/v1/{org}/patients/{patient_id}/diseases'),
      ...crud('/api/v1/{org}/patients/{patient_id}/medications'),
      ...crud('/api/v1/{org}/patients/{patient_id}/relationships'),
      // Alerts are archived by status (plugin actions), not soft-deleted: no DELETE, archive or restore route here.
      '/api/v1/{org}/patients/{patient_id}/alerts': ['get', 'post'],
      '/api/v1/{org}/patients/{patient_id}/alerts/{id}': ['get', 'patch', 'put'],
      ...crud('/api/v1/{org}/patients/{patient_id}/vital-signs'),
      ...crud('/api/v1/{org}/patients/{patient_id}/tags'),
      ...crud('/api/v1/{org}/patients/{patient_id}/referral-attributions'),
      ...crud('/api/v1/{org}/referral-sources'),
      ...crud('/api/v1/{org}/referral-partners'),
      '/api/v1/{org}/patients/{patient_id}/communication-logs': ['get', 'post'],
      '/api/v1/{org}/patients/{patient_id}/communication-logs/{id}': ['get'],
      '/api/v1/{org}/tickets/{ticket_id}/comments': ['get', 'post'],
      '/api/v1/{org}/tickets/{ticket_id}/comments/{id}': ['get'],
      '/api/v1/{org}/audit-events': ['get'],
      '/api/v1/{org}/audit-events/{id}': ['get'],
      '/api/v1/{org}/jobs': ['get'],
      '/api/v1/{org}/jobs/{id}': ['get'],
      '/api/v1/auth/token': ['post'],
      '/api/openapi.json': ['get'],
      '/health': ['get'],
      '/metrics': ['get'],
    };
    for (const [p, methods] of Object.entries(expected)) {
      expect(methodsOf(doc, p), p).to.deep.equal([...methods].sort());
    }
    expect(Object.keys(doc.paths).sort()).to.deep.equal(Object.keys(expected).sort());
  });

  it('has the list, get and write routes of every exposed definition, and none of internal ones', () => {
    const exposed = registry.exposed();
    expect(exposed.length).to.be.greaterThan(5);
    for (const def of exposed.filter((d) => d.generatedRoutes !== false)) {
      const base = basePath(registry, def);
      expect(doc.paths[base]?.get, `GET ${base}`).to.be.an('object');
      expect(doc.paths[`${base}/{id}`]?.get, `GET ${base}/{id}`).to.be.an('object');
      expect(Boolean(doc.paths[base].post), `POST ${base}`).to.equal(!def.readOnlyResource);
      const mutable = !def.readOnlyResource && !def.appendOnly;
      expect(Boolean(doc.paths[`${base}/{id}`].patch), `PATCH ${base}/{id}`).to.equal(mutable);
      expect(Boolean(doc.paths[`${base}/{id}`].put), `PUT ${base}/{id}`).to.equal(mutable);
      const archivable = def.archivable && !def.readOnlyResource;
      expect(Boolean(doc.paths[`${base}/{id}`].delete), `DELETE ${base}/{id}`).to.equal(archivable);
      expect(Boolean(doc.paths[`${base}/{id}/archive`]?.post), `archive ${base}`).to.equal(archivable);
      expect(Boolean(doc.paths[`${base}/{id}/restore`]?.post), `restore ${base}`).to.equal(archivable);
      // A body schema exists exactly where its operation does.
      const schemas = doc.components.schemas;
      expect(schemas, def.subject).to.have.property(def.subject);
      expect(schemas, `${def.subject}List`).to.have.property(`${def.subject}List`);
      expect(Boolean(schemas[`${def.subject}Create`]), `${def.subject}Create`).to.equal(!def.readOnlyResource);
      expect(Boolean(schemas[`${def.subject}Update`]), `${def.subject}Update`).to.equal(mutable);
    }
    for (const def of registry.all().filter((d) => d.internal)) {
      expect(doc.components.schemas).to.not.have.property(def.subject);
      expect(Object.keys(doc.paths).some((p) => p.split('/').includes(def.path)), def.path).to.equal(false);
    }
  });

  it('gives every operation a unique operationId, a tag, a summary and error responses', () => {
    const ids = operations(doc).map((o) => o.op.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).to.equal(true);
    expect(new Set(ids).size).to.equal(ids.length);
    expect(ids).to.include.members([
      'listPatients', 'getPatient', 'createPatient', 'updatePatient', 'replacePatient',
      'deletePatient', 'archivePatient', 'restorePatient', 'listTicketComments', 'createTicketComment',
      'listAuditEvents', 'getAuditEvent', 'listKbArticles', 'createAccessToken',
    ]);
    for (const { path: p, method, op } of operations(doc)) {
      expect(op.tags, `${method} ${p}`).to.be.an('array').with.length.greaterThan(0);
      expect(op.summary, `${method} ${p}`).to.be.a('string');
      if (p.startsWith('/api/v1/') && p !== '/api/v1/auth/token') {
        for (const status of ['401', '403', '404', '429', '500']) {
          expect(resolve(doc, op.responses[status]), `${method} ${p} ${status}`).to.have.property('content');
        }
      }
    }
    expect(doc.paths['/api/v1/{org}/patients'].get.tags).to.deep.equal(['Patients']);
    expect(doc.paths['/api/v1/kb'].get.tags).to.deep.equal(['Support']);
  });

  it('requires a scope on every resource operation and none on the fixed public routes', () => {
    for (const { path: p, method, op } of operations(doc)) {
      if (['/health', '/metrics', '/api/v1/auth/token'].includes(p)) {
        expect(op.security, `${method} ${p}`).to.deep.equal([]);
        continue;
      }
      if (p === '/api/openapi.json') {
        expect(op.security, 'the document is public, or the caller\'s with credentials').to.deep.equal([{}, { bearerAuth: [] }]);
        continue;
      }
      const def = registry.exposed().find((d) => {
        const base = basePath(registry, d);
        return [base, `${base}/{id}`, `${base}/{id}/archive`, `${base}/{id}/restore`].includes(p);
      });
      expect(def, p).to.not.equal(undefined);
      const access = method === 'get' ? 'read' : 'write';
      expect(op.security, `${method} ${p}`).to.deep.equal([{ bearerAuth: [] }]);
      expect(op['x-required-scopes'], `${method} ${p}`).to.deep.equal([`${def!.scope}:${access}`]);
      expect(op.description, `${method} ${p}`).to.include(`\`${def!.scope}:${access}\``);
    }
    expect(doc.paths['/api/v1/{org}/audit-events'].get['x-required-scopes']).to.deep.equal(['audit:read']);
    expect(doc.paths['/api/v1/{org}/tickets/{ticket_id}/comments'].post['x-required-scopes']).to.deep.equal(['tickets:write']);
    expect(doc.paths['/api/v1/{org}/patients/{id}'].get.description).to.include('patients:sensitive').and.include('social_security_number');
  });

  it('declares every path template parameter', () => {
    for (const { path: p, method, op, item } of operations(doc)) {
      const declared = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((x: Obj) => resolve(doc, x));
      const inPath = declared.filter((x) => x.in === 'path').map((x) => x.name).sort();
      const template = [...p.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      expect(inPath, `${method} ${p}`).to.deep.equal(template);
      for (const x of declared.filter((d) => d.in === 'path')) expect(x.required).to.equal(true);
    }
  });

  it('resolves every $ref', () => {
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        if (typeof (node as Obj).$ref === 'string') resolve(doc, node as Obj);
        Object.values(node).forEach(walk);
      }
    };
    walk(doc);
  });

  it('describes the patient schema from the definition, with embeddable relations', () => {
    const patient = doc.components.schemas.Patient;
    expect(patient.properties).to.have.property('social_security_number');
    expect(patient.properties).to.include.keys('id', 'version', 'created_at', 'updated_at', 'deleted_at', 'last_name', 'scheduling_restricted');
    expect(patient.properties).to.not.have.property('org_id');
    expect(patient.properties.social_security_number['x-sensitive']).to.equal(true);
    expect(patient.properties.first_name.examples).to.deep.equal(['Jane']);
    expect(patient.properties.primary_provider.oneOf).to.deep.include({ $ref: '#/components/schemas/Provider' });
    expect(patient.properties.primary_provider.oneOf).to.deep.include({ type: 'null' });
    expect(patient.properties.responsible_party.oneOf).to.deep.include({ $ref: '#/components/schemas/Patient' });
    const ticket = doc.components.schemas.Ticket;
    expect(ticket.properties.comments).to.deep.include({ type: 'array', items: { $ref: '#/components/schemas/TicketComment' } });
    expect(doc.components.schemas.PatientCreate.required).to.include.members(['first_name', 'last_name']);
    expect(doc.components.schemas.PatientCreate.properties).to.not.have.property('id');
    expect(doc.components.schemas.PatientUpdate.properties).to.have.property('base_version');
  });

  it('documents the list query of patients', () => {
    const op = doc.paths['/api/v1/{org}/patients'].get;
    const params = op.parameters.map((x: Obj) => resolve(doc, x));
    const byName = new Map<string, Obj>(params.map((x: Obj) => [x.name, x]));
    expect(params.every((x: Obj) => x.in === 'query')).to.equal(true);
    const statusIn = byName.get('status[in]');
    expect(statusIn, 'status[in]').to.include({ style: 'form', explode: false });
    expect(statusIn!.schema.type).to.equal('array');
    expect(statusIn!.schema.items.enum).to.include('active');
    expect(byName.get('search')?.schema.type).to.equal('string');
    for (const name of ['limit', 'offset', 'page', 'page_size', 'sort', 'fields', 'include', 'include_archived', 'after', 'count', 'status', 'date_of_birth[gte]', 'last_name[like]', 'primary_provider_id']) {
      expect(byName.has(name), name).to.equal(true);
    }
    expect(byName.get('include')!.description).to.include('primary_provider');
    expect(byName.get('limit')!.schema.maximum).to.equal(100);
    const list = resolve(doc, op.responses['200'].content['application/json'].schema);
    expect(list.properties.data.items).to.deep.equal({ $ref: '#/components/schemas/Patient' });
    expect(list.required).to.include.members(['data', 'limit', 'page_info']);
    const pageInfo = resolve(doc, list.properties.page_info);
    expect(pageInfo.properties).to.have.keys('end_cursor', 'has_next_page');
  });

  it('documents single-record envelopes, ETag, Idempotency-Key and If-Match', () => {
    const get = doc.paths['/api/v1/{org}/patients/{id}'].get;
    expect(get.responses['200'].content['application/json'].schema.properties.data).to.deep.equal({ $ref: '#/components/schemas/Patient' });
    expect(get.responses['200'].headers).to.have.property('ETag');
    expect(doc.paths['/api/v1/{org}/tickets/{ticket_id}/comments/{id}'].get.responses['200'].headers).to.equal(undefined);
    const create = doc.paths['/api/v1/{org}/patients'].post;
    expect(create.responses).to.have.property('201');
    expect(create.requestBody.content['application/json'].schema).to.deep.equal({ $ref: '#/components/schemas/PatientCreate' });
    expect(create.parameters.map((x: Obj) => resolve(doc, x).name)).to.include('Idempotency-Key');
    const patch = doc.paths['/api/v1/{org}/patients/{id}'].patch;
    expect(patch.requestBody.content['application/json'].schema).to.deep.equal({ $ref: '#/components/schemas/PatientUpdate' });
    expect(patch.parameters.map((x: Obj) => resolve(doc, x).name)).to.include('If-Match');
    expect(resolve(doc, patch.responses['409']).description).to.include('version_conflict');
    expect(doc.paths['/api/v1/{org}/patients/{id}/restore'].post.responses).to.have.property('422');
  });

  it('has the Error schema and reusable error responses', () => {
    const error = doc.components.schemas.Error;
    expect(error.properties.error.enum).to.include.members(['validation_error', 'invalid_id', 'invalid_cursor', 'not_found', 'version_conflict', 'rate_limit_exceeded', 'internal_error']);
    expect(error.required).to.include.members(['error', 'message', 'request_id']);
    const responses = doc.components.responses;
    const statuses = Object.values(responses).map((r: any) => r.description as string);
    expect(Object.keys(responses)).to.include.members(['BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'Conflict', 'PayloadTooLarge', 'Unprocessable', 'TooManyRequests', 'InternalError']);
    expect(statuses.join(' ')).to.include('invalid_cursor');
    expect(responses.TooManyRequests.headers).to.have.keys('Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset');
  });

  it('documents the fixed routes', () => {
    const token = doc.paths['/api/v1/auth/token'].post;
    expect(token.requestBody.content['application/json'].schema.required).to.deep.equal(['apiKey']);
    expect(token.responses['200'].content['application/json'].schema.properties).to.have.keys('accessToken', 'tokenType', 'expiresIn');
    expect(doc.paths['/metrics'].get.responses['200'].content).to.have.property('text/plain');
  });

  it('follows the registry: a new definition gets its routes', async () => {
    const widget = defineEntity({
      name: 'widget-part',
      path: 'widget-parts',
      table: 'widget_parts',
      scope: 'widgets',
      tenant: false,
      fields: { label: { type: 'string', required: true, filter: true, sort: true } },
      defaultSort: 'label',
    }) as EntityDefinition;
    const reg = new Registry([...systemDefinitions, ...(await loadDefinitionDirs([DEFINITIONS_DIR])), widget]);
    const next: Obj = buildOpenApiDocument(reg);
    expect(methodsOf(next, '/api/v1/widget-parts')).to.deep.equal(['get', 'post']);
    expect(next.paths['/api/v1/widget-parts'].get.operationId).to.equal('listWidgetParts');
    expect(next.paths['/api/v1/widget-parts'].post['x-required-scopes']).to.deep.equal(['widgets:write']);
    expect(next.components.securitySchemes.bearerAuth['x-scopes']).to.have.keys(
      Object.keys(doc.components.securitySchemes.bearerAuth['x-scopes']).concat('widgets:read', 'widgets:write'),
    );
    expect(next.components.schemas.WidgetPart.properties).to.have.property('label');
    expect((await new Validator().validate(next)).valid).to.equal(true);
  });
});

describe('API docs page', () => {
  it('loads swagger-ui from local assets and points it at the spec', () => {
    const html = docsHtml('/api/openapi.json');
    for (const asset of ['/api/docs/swagger-ui.css', '/api/docs/swagger-ui-bundle.js', '/api/docs/swagger-ui-standalone-preset.js']) {
      expect(html).to.include(asset);
    }
    expect(html).to.include('url: "/api/openapi.json"');
    expect(html).to.include('SwaggerUIBundle(');
    expect(html).to.not.match(/https?:\/\//);
  });

  it('escapes the spec URL inside the inline script', () => {
    expect(docsHtml('/x</script><script>alert(1)</script>')).to.not.include('</script><script>alert');
  });

  it('finds the swagger-ui-dist folder', () => {
    const dir = swaggerUiDistPath();
    for (const file of ['swagger-ui.css', 'swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js']) {
      expect(existsSync(path.join(dir, file)), file).to.equal(true);
    }
  });
});
