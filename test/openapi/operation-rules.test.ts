import { expect } from 'chai';
import { startTestServer, type TestServer } from '../support/server.js';

type Obj = Record<string, any>;

// The served document states what the patient-chart plugin changes about generated operations.

describe('OpenAPI: what plugins change about the generated operations', () => {
  let s: TestServer;
  let doc: Obj;
  before(async () => {
    s = await startTestServer();
    doc = (await s.api('GET', '/api/openapi.json')).body;
  });
  after(async () => {
    await s.close();
  });

  it('lists the error codes a hook may refuse a write with on the operations it guards', () => {
    for (const [path, method] of [['/api/v1/{org}/patients/{id}/archive', 'post'], ['/api/v1/{org}/patients/{id}', 'delete']]) {
      const op = doc.paths[path][method];
      expect(op.description, path).to.contain('`has_active_dependents`');
      expect(op.responses, path).to.have.property('422');
    }
    expect(doc.paths['/api/v1/{org}/patients/{id}/restore'].post.description).to.not.contain('has_active_dependents');
    expect(doc.paths['/api/v1/{org}/patient-field-definitions/{id}'].patch.description).to.contain('`field_type_locked`').and.contain('`option_in_use`');
    expect(doc.paths['/api/v1/{org}/patient-field-definitions'].post.description).to.contain('`too_many_fields`');
  });

  it('offers only the statuses a create may give, and no status in an update, since transition-status owns it', () => {
    const create = doc.components.schemas.PatientCreate.properties.status;
    expect(create.enum.filter((v: unknown) => v !== null)).to.deep.equal(['active', 'prospective']);
    expect(create.description).to.contain('transition-status');
    expect(doc.components.schemas.PatientUpdate.properties).to.not.have.property('status');
    expect(doc.components.schemas.Patient.properties.status.enum).to.include('deceased');
  });
});
