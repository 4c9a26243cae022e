import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Registry, loadDefinitionDirs } from '../../app/core/registry.js';
import { systemDefinitions } from '../../app/core/system-definitions.js';
import { OpenApiDocumentCache } from '../../app/openapi/document-cache.js';
import { buildOpenApiDocument } from '../../app/openapi/document.js';

const DEFINITIONS_DIR = fileURLToPath(new URL('../../definitions', import.meta.url));

describe('OpenApiDocumentCache', () => {
  let registry: Registry;
  let builds: string[];
  const counting: typeof buildOpenApiDocument = (reg, opts = {}) => {
    builds.push(opts.scopes ? opts.scopes.join(' ') : 'full');
    return buildOpenApiDocument(reg, opts);
  };

  before(async () => {
    registry = new Registry([...systemDefinitions, ...(await loadDefinitionDirs([DEFINITIONS_DIR]))]);
  });
  beforeEach(() => {
    builds = [];
  });

  it('builds the full document once', () => {
    const cache = new OpenApiDocumentCache(registry, { serverUrl: 'https://x.example' }, 10, counting);
    const first = cache.fullDocument();
    expect(cache.fullDocument()).to.equal(first);
    expect(JSON.parse(first).servers).to.deep.equal([{ url: 'https://x.example' }]);
    expect(builds).to.deep.equal(['full']);
  });

  it('builds one document per scope set, whatever the order or repeats', () => {
    const cache = new OpenApiDocumentCache(registry, {}, 10, counting);
    const a = cache.scopedDocument(['tasks:read', 'patients:read']);
    expect(cache.scopedDocument(['patients:read', 'tasks:read', 'patients:read'])).to.equal(a);
    expect(builds).to.deep.equal(['patients:read tasks:read']);
    expect(JSON.parse(a).paths).to.have.keys(
      '/api/v1/{org}/patients', '/api/v1/{org}/patients/{id}', '/api/v1/{org}/tasks', '/api/v1/{org}/tasks/{id}',
      // The chart under a patient shares the patients scope.
      '/api/v1/{org}/patients/{patient_id}/allergies', '/api/v1/{org}/patients/{patient_id}/allergies/{id}',
      '/api/v1/{org}/patients/{patient_id}/diseases', '/api/v1/{org}/patients/{patient_id}/diseases/{id}',
      '/api/v1/{org}/patients/{patient_id}/medications', '/api/v1/{org}/patients/{patient_id}/medications/{id}',
      '/api/v1/{org}/patients/{patient_id}/communication-logs', '/api/v1/{org}/patients/{patient_id}/communication-logs/{id}',
      '/api/v1/{org}/patients/{patient_id}/relationships', '/api/v1/{org}/patients/{patient_id}/relationships/{id}',
      '/api/v1/{org}/patients/{patient_id}/alerts', '/api/v1/{org}/patients/{patient_id}/alerts/{id}',
      '/api/v1/{org}/patients/{patient_id}/vital-signs', '/api/v1/{org}/patients/{patient_id}/vital-signs/{id}',
      '/api/v1/{org}/patients/{patient_id}/tags', '/api/v1/{org}/patients/{patient_id}/tags/{id}',
      '/api/v1/{org}/patients/{patient_id}/referral-attributions', '/api/v1/{org}/patients/{patient_id}/referral-attributions/{id}',
      '/api/v1/auth/token', '/api/openapi.json', '/health', '/metrics',
    );
    cache.scopedDocument(['*']);
    expect(builds).to.deep.equal(['patients:read tasks:read', '*']);
  });

  it('holds a bounded number of scope sets, dropping the least recently served', () => {
    const cache = new OpenApiDocumentCache(registry, {}, 2, counting);
    cache.scopedDocument(['kb:read']);
    cache.scopedDocument(['tasks:read']);
    cache.scopedDocument(['kb:read']); // now the most recent
    cache.scopedDocument(['audit:read']); // drops tasks:read
    cache.scopedDocument(['kb:read']);
    cache.scopedDocument(['tasks:read']);
    expect(builds).to.deep.equal(['kb:read', 'tasks:read', 'audit:read', 'tasks:read']);
  });
});
