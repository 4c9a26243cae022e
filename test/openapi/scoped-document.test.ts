import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import { expect } from 'chai';
import { defineEntity } from '../../app/core/define.js';
import { Registry, loadDefinitionDirs } from '../../app/core/registry.js';
import { systemDefinitions } from '../../app/core/system-definitions.js';
import type { EntityDefinition } from '../../app/core/types.js';
import { buildOpenApiDocument, type OpenApiAction } from '../../app/openapi/document.js';

type Obj = Record<string, any>;

const DEFINITIONS_DIR = fileURLToPath(new URL('../../definitions', import.meta.url));
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** `METHOD path` of every operation, sorted. */
function routes(doc: Obj): string[] {
  const out: string[] = [];
  for (const [p, item] of Object.entries(doc.paths as Obj)) {
    for (const method of Object.keys(item)) if (METHODS.includes(method)) out.push(`${method.toUpperCase()} ${p}`);
  }
  return out.sort();
}

const resourceRoutes = (doc: Obj) => routes(doc).filter((r) => r.includes('/api/v1/') && !r.includes('/auth/token'));
const paramNames = (doc: Obj, p: string, method = 'get') =>
  (doc.paths[p][method].parameters as Obj[]).map((x) => (x.$ref ? doc.components.parameters[x.$ref.split('/').pop()] : x).name);

/** A definition with a sensitive field that can be filtered, sorted and searched. */
const badge = defineEntity({
  name: 'badge',
  path: 'badges',
  table: 'badges',
  scope: 'badges',
  tenant: true,
  fields: {
    label: { type: 'string', required: true, filter: true, sort: true, search: 'prefix' },
    secret_code: { type: 'string', sensitive: true, filter: true, sort: true, search: 'prefix' },
    owner_id: { type: 'uuid', ref: 'patient', relation: 'owner', filter: true },
  },
  defaultSort: 'label',
}) as EntityDefinition;

/** One whose create needs a sensitive field: a caller without `:sensitive` cannot create one. */
const vault = defineEntity({
  name: 'vault-entry',
  path: 'vault-entries',
  table: 'vault_entries',
  scope: 'vault',
  tenant: true,
  fields: {
    name: { type: 'string', required: true },
    secret: { type: 'string', required: true, sensitive: true },
  },
}) as EntityDefinition;

const transition: OpenApiAction = {
  resource: 'patient',
  name: 'transition-status',
  on: 'record',
  summary: 'Move a patient to another status',
  description: 'Only the allowed moves are accepted.',
  scope: 'patients:write',
  input: { type: 'object', properties: { status: { type: 'string', enum: ['active', 'inactive'] } }, required: ['status'], additionalProperties: false },
  errors: ['invalid_transition'],
};

const checkDuplicates: OpenApiAction = {
  resource: 'patient',
  name: 'check-duplicates',
  on: 'collection',
  summary: 'Find likely duplicates of a patient',
  scope: 'patients:read',
  input: { type: 'object', properties: { last_name: { type: 'string' } }, required: ['last_name'] },
  output: { type: 'array', items: { type: 'object', properties: { id: { type: 'string', format: 'uuid' } } } },
  errors: [],
};

describe('scoped OpenAPI documents', () => {
  let registry: Registry;
  let full: Obj;
  const scoped = (scopes: string[], actions?: OpenApiAction[]) => buildOpenApiDocument(registry, { scopes, actions }) as Obj;

  before(async () => {
    registry = new Registry([...systemDefinitions, ...(await loadDefinitionDirs([DEFINITIONS_DIR])), badge, vault]);
    full = buildOpenApiDocument(registry) as Obj;
  });

  it('keeps only GET routes of the resource for <scope>:read', async () => {
    const doc = scoped(['patients:read']);
    // The chart under a patient (allergies, diseases, medications, communication logs) shares the patients scope.
    const chart = ['allergies', 'diseases', 'medications', 'communication-logs', 'relationships', 'alerts'].flatMap((c) => [`GET /api/v1/{org}/patients/{patient_id}/${c}`, `GET /api/v1/{org}/patients/{patient_id}/${c}/{id}`]);
    chart.push('GET /api/v1/{org}/patients/{patient_id}/vital-signs', 'GET /api/v1/{org}/patients/{patient_id}/vital-signs/{id}');
    chart.push(...['tags', 'referral-attributions'].flatMap((c) => [`GET /api/v1/{org}/patients/{patient_id}/${c}`, `GET /api/v1/{org}/patients/{patient_id}/${c}/{id}`]));
    expect(resourceRoutes(doc)).to.deep.equal(['GET /api/v1/{org}/patients', 'GET /api/v1/{org}/patients/{id}', ...chart].sort());
    expect(routes(doc)).to.include.members(['POST /api/v1/auth/token', 'GET /health', 'GET /api/openapi.json']);
    expect(doc.info.description).to.include('scoped').and.include('`patients:read`');
    expect((await new Validator().validate(doc)).valid).to.equal(true);
  });

  it('adds every write for <scope>:write, which implies read', () => {
    const crud = (base: string) => [
      `DELETE ${base}/{id}`, `GET ${base}`, `GET ${base}/{id}`, `PATCH ${base}/{id}`, `POST ${base}`,
      `POST ${base}/{id}/archive`, `POST ${base}/{id}/restore`, `PUT ${base}/{id}`,
    ];
    expect(resourceRoutes(scoped(['patients:write']))).to.deep.equal([
      ...crud('/api/v1/{org}/patients'),
      ...['allergies', 'diseases', 'medications'].flatMap((c) => crud(`/api/v1/{org}/patients/{patient_id}/${c}`)),
      ...crud('/api/v1/{org}/patients/{patient_id}/vital-signs'),
      ...['tags', 'referral-attributions'].flatMap((c) => crud(`/api/v1/{org}/patients/{patient_id}/${c}`)),
      // Communication logs are append-only: list, read and create.
      'GET /api/v1/{org}/patients/{patient_id}/communication-logs', 'GET /api/v1/{org}/patients/{patient_id}/communication-logs/{id}', 'POST /api/v1/{org}/patients/{patient_id}/communication-logs',
      ...crud('/api/v1/{org}/patients/{patient_id}/relationships'),
      // Alerts are archived by status (plugin actions), not soft-deleted.
      'GET /api/v1/{org}/patients/{patient_id}/alerts', 'GET /api/v1/{org}/patients/{patient_id}/alerts/{id}', 'POST /api/v1/{org}/patients/{patient_id}/alerts',
      'PATCH /api/v1/{org}/patients/{patient_id}/alerts/{id}', 'PUT /api/v1/{org}/patients/{patient_id}/alerts/{id}',
    ].sort());
  });

  it('gives *:read every GET and no write, and * everything the full document has', () => {
    const reads = resourceRoutes(scoped(['*:read']));
    expect(reads).to.deep.equal(resourceRoutes(full).filter((r) => r.startsWith('GET ')));
    expect(resourceRoutes(scoped(['*']))).to.deep.equal(resourceRoutes(full));
    expect(scoped(['*']).components).to.deep.equal(full.components);
  });

  it('follows the resource behaviours: append-only and read-only resources have no update, audit events no write', () => {
    const doc = scoped(['tickets:write', 'audit:write']);
    expect(resourceRoutes(doc).filter((r) => r.includes('comments'))).to.deep.equal([
      'GET /api/v1/{org}/tickets/{ticket_id}/comments',
      'GET /api/v1/{org}/tickets/{ticket_id}/comments/{id}',
      'POST /api/v1/{org}/tickets/{ticket_id}/comments',
    ]);
    expect(resourceRoutes(doc).filter((r) => r.includes('audit-events'))).to.deep.equal([
      'GET /api/v1/{org}/audit-events',
      'GET /api/v1/{org}/audit-events/{id}',
    ]);
    expect(doc.components.schemas).to.include.keys('TicketCommentCreate', 'TicketCreate', 'TicketUpdate', 'AuditEvent');
    expect(doc.components.schemas).to.not.have.any.keys('TicketCommentUpdate', 'AuditEventCreate', 'AuditEventUpdate');
  });

  it('drops sensitive fields from schemas, filters, sort and search without <scope>:sensitive', () => {
    const doc = scoped(['badges:write']);
    const { Badge, BadgeCreate, BadgeUpdate } = doc.components.schemas;
    for (const schema of [Badge, BadgeCreate, BadgeUpdate]) {
      expect(schema.properties).to.have.property('label');
      expect(schema.properties).to.not.have.property('secret_code');
    }
    const list = '/api/v1/{org}/badges';
    const params = paramNames(doc, list);
    expect(params).to.include.members(['label', 'label[in]', 'search', 'sort']);
    expect(params.filter((n) => n.startsWith('secret_code'))).to.deep.equal([]);
    const described = (name: string) => (doc.paths[list].get.parameters as Obj[]).find((x) => x.name === name)!.description as string;
    expect(described('sort')).to.include('`label`').and.not.include('secret_code');
    expect(described('search')).to.include('`label`').and.not.include('secret_code');
    expect(described('fields')).to.not.include('secret_code');
    expect(doc.paths[list].get.description).to.include('badges:sensitive').and.not.include('secret_code');
    expect(JSON.stringify(doc)).to.not.include('secret_code');

    const withSensitive = scoped(['badges:write', 'badges:sensitive']);
    expect(withSensitive.components.schemas.Badge.properties.secret_code['x-sensitive']).to.equal(true);
    expect(withSensitive.components.schemas.BadgeCreate.properties).to.have.property('secret_code');
    expect(paramNames(withSensitive, list)).to.include.members(['secret_code', 'secret_code[like]']);
    expect(full.components.schemas.Badge.properties).to.have.property('secret_code');
  });

  it('leaves out a create that needs a sensitive field the caller may not write', () => {
    expect(resourceRoutes(scoped(['vault:write']))).to.not.include('POST /api/v1/{org}/vault-entries');
    expect(resourceRoutes(scoped(['vault:write']))).to.include('PATCH /api/v1/{org}/vault-entries/{id}');
    expect(scoped(['vault:write']).components.schemas).to.not.have.property('VaultEntryCreate');
    expect(resourceRoutes(scoped(['vault:write', 'vault:sensitive']))).to.include('POST /api/v1/{org}/vault-entries');
  });

  it('documents relations only to resources the caller may read, and removes unreachable schemas', () => {
    const doc = scoped(['badges:read']);
    expect(doc.components.schemas.Badge.properties).to.not.have.property('owner');
    expect(paramNames(doc, '/api/v1/{org}/badges')).to.include('owner_id');
    expect(Object.keys(doc.components.schemas).sort()).to.deep.equal(['Badge', 'BadgeList', 'Error', 'ErrorDetail', 'PageInfo']);
    expect(doc.components.responses, 'no write: no conflict').to.not.have.any.keys('Conflict', 'Unprocessable');

    const both = scoped(['badges:read', 'patients:read']);
    expect(both.components.schemas.Badge.properties.owner.oneOf).to.deep.include({ $ref: '#/components/schemas/Patient' });
    expect(both.components.schemas).to.include.keys('Patient');
    expect(both.components.schemas, 'providers are not readable').to.not.have.property('Provider');
    expect(both.components.schemas.Patient.properties).to.not.have.property('primary_provider');
  });

  it('emits plugin actions as POST routes with their body, data envelope and error responses', () => {
    const doc = buildOpenApiDocument(registry, { actions: [transition, checkDuplicates] }) as Obj;
    const record = doc.paths['/api/v1/{org}/patients/{id}/transition-status'];
    expect(Object.keys(record).sort()).to.deep.equal(['parameters', 'post']);
    expect(record.parameters).to.deep.equal([{ $ref: '#/components/parameters/Org' }, { $ref: '#/components/parameters/Id' }]);
    const op = record.post;
    expect(op.operationId).to.equal('transitionStatusPatient');
    expect(op.tags).to.deep.equal(full.paths['/api/v1/{org}/patients'].get.tags);
    expect(op['x-required-scopes']).to.deep.equal(['patients:write']);
    expect(op.description).to.include('Only the allowed moves').and.include('`patients:write`').and.include('`invalid_transition`');
    expect(op.requestBody).to.deep.equal({ required: true, content: { 'application/json': { schema: transition.input } } });
    expect(op.responses['200'].content['application/json'].schema).to.deep.equal({
      type: 'object',
      properties: { data: { $ref: '#/components/schemas/Patient' } },
      required: ['data'],
      additionalProperties: false,
    });
    expect(op.responses['422']).to.deep.equal({ $ref: '#/components/responses/Unprocessable' });
    expect(Object.keys(op.responses).sort()).to.deep.equal(['200', '400', '401', '403', '404', '413', '422', '429', '500']);

    const collection = doc.paths['/api/v1/{org}/patients/check-duplicates'].post;
    expect(collection.operationId).to.equal('checkDuplicatesPatients');
    expect(collection.responses['200'].content['application/json'].schema.properties.data).to.deep.equal(checkDuplicates.output);
    expect(collection.responses).to.not.have.property('422');
  });

  it('nests actions like CRUD paths and filters them by scope', async () => {
    const nested: OpenApiAction = { ...checkDuplicates, resource: 'ticket-comment', name: 'bulk-import', scope: 'tickets:write', output: undefined, errors: ['duplicate'] };
    const doc = buildOpenApiDocument(registry, { actions: [nested] }) as Obj;
    const item = doc.paths['/api/v1/{org}/tickets/{ticket_id}/comments/bulk-import'];
    expect(item.parameters.map((x: Obj) => x.$ref ?? x.name)).to.deep.equal(['#/components/parameters/Org', 'ticket_id']);
    expect(item.post.responses['409']).to.deep.equal({ $ref: '#/components/responses/Conflict' });
    expect((await new Validator().validate(doc)).valid).to.equal(true);

    const reader = scoped(['patients:read'], [transition, checkDuplicates]);
    expect(routes(reader)).to.include('POST /api/v1/{org}/patients/check-duplicates');
    expect(routes(reader)).to.not.include('POST /api/v1/{org}/patients/{id}/transition-status');
    const writer = scoped(['patients:write'], [transition, checkDuplicates]);
    expect(routes(writer)).to.include.members(['POST /api/v1/{org}/patients/check-duplicates', 'POST /api/v1/{org}/patients/{id}/transition-status']);
    expect(routes(scoped(['tasks:write'], [transition, checkDuplicates])).filter((r) => r.includes('patients'))).to.deep.equal([]);
  });

  it('rejects actions that could not be served as described', () => {
    const build = (action: Partial<OpenApiAction>) => () => buildOpenApiDocument(registry, { actions: [{ ...transition, ...action }] });
    expect(build({ resource: 'nothing' })).to.throw(/names no exposed resource/);
    expect(build({ resource: 'api-key' })).to.throw(/names no exposed resource/);
    expect(build({ name: 'Transition_Status' })).to.throw(/kebab-case/);
    expect(build({ scope: 'patient:write' })).to.throw(/which no API key can hold/);
    expect(build({ scope: 'patients:admin' })).to.throw(/which no API key can hold/);
    expect(build({ errors: ['teapot'] })).to.throw(/unknown error codes: teapot/);
    expect(build({ name: 'archive' }), 'collides with the archive route').to.throw(/generated twice/);
  });
});
