import { expect } from 'chai';
import { defineEntity, resolveDefinition } from '../../app/core/define.js';
import { AppError, registerErrorCodes } from '../../app/core/errors.js';
import { DIALECTS } from '../../app/db/dialect.js';
import { indexesFor, uniqueIndexName } from '../../app/db/schema-sync.js';
import { duplicateError } from '../../app/operations/write-helpers.js';

// Declared unique indexes: composite, among live records only, partial on field values, with an
// error of their own; and how a violation from either database is traced back to its index.

registerErrorCodes({ main_part_exists: { status: 409, description: 'test' } }, 'unique-indexes test');

const def = resolveDefinition(defineEntity({
  name: 'part', path: 'parts', table: 'parts', scope: 'parts', tenant: true,
  parent: { resource: 'widget', field: 'widget_id' },
  fields: {
    widget_id: { type: 'uuid', required: true },
    kind_id: { type: 'uuid', required: true },
    role: { type: 'enum', values: ['main', 'spare'] },
  },
  indexes: [
    { columns: ['widget_id', 'kind_id'], unique: true, live: true },
    { columns: ['widget_id'], unique: true, live: true, where: { role: 'main' }, conflict: { code: 'main_part_exists', message: 'The widget already has a main part' } },
  ],
}));

describe('declared unique indexes', () => {
  for (const name of ['sqlite', 'postgres'] as const) {
    it(`${name}: are created partial on live records and on the values named`, () => {
      const specs = indexesFor(def, DIALECTS[name]).filter((s) => s.unique);
      expect(specs.map((s) => ({ name: s.name, parts: s.parts, where: s.where }))).to.deep.equal([
        { name: 'ux_parts_org_id_widget_id_kind_id_live', parts: ['"org_id"', '"widget_id"', '"kind_id"'], where: '"deleted_at" is null' },
        { name: 'ux_parts_org_id_widget_id_role_main_live', parts: ['"org_id"', '"widget_id"'], where: `"role" = 'main' and "deleted_at" is null` },
      ]);
    });
  }

  it('keeps the names of plain unique indexes as they were (existing databases keep theirs)', () => {
    const plain = resolveDefinition(defineEntity({ ...def, parent: undefined, indexes: [{ columns: ['widget_id', 'kind_id'], unique: true }] }));
    expect(uniqueIndexName(plain, plain.indexes![0])).to.equal('ux_parts_org_id_widget_id_kind_id');
  });

  it('traces a PostgreSQL violation by its constraint name, a SQLite one by its columns', () => {
    const pgDup = duplicateError(def, { code: '23505', constraint: 'ux_parts_org_id_widget_id_kind_id_live', message: 'duplicate key value violates unique constraint' });
    const sqliteDup = duplicateError(def, { code: 'SQLITE_CONSTRAINT_UNIQUE', message: 'UNIQUE constraint failed: parts.org_id, parts.widget_id, parts.kind_id' });
    for (const err of [pgDup, sqliteDup]) {
      expect(err).to.be.instanceOf(AppError);
      expect(err).to.include({ code: 'duplicate', status: 409 });
      // The parent comes from the URL: the detail names the field the caller sent.
      expect(err!.details).to.deep.equal([{ path: '/body/kind_id', message: 'is already taken' }]);
    }
    const pgMain = duplicateError(def, { code: '23505', constraint: 'ux_parts_org_id_widget_id_role_main_live', message: 'x' });
    const sqliteMain = duplicateError(def, { code: 'SQLITE_CONSTRAINT_UNIQUE', message: 'UNIQUE constraint failed: parts.org_id, parts.widget_id' });
    for (const err of [pgMain, sqliteMain]) {
      expect(err).to.include({ code: 'main_part_exists', status: 409, message: 'The widget already has a main part' });
      expect(err!.details).to.deep.equal([{ path: '/body/role', message: 'is already taken' }]);
    }
    expect(duplicateError(def, new Error('something else'))).to.equal(null);
  });
});
