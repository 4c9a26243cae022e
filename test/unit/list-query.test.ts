import { expect } from 'chai';
import knexPkg from 'knex';
import { defineEntity, resolveDefinition } from '../../app/core/define.js';
import { AppError } from '../../app/core/errors.js';
import { makeCodec } from '../../app/db/codec.js';
import { DIALECTS } from '../../app/db/dialect.js';
import { encodeCursor } from '../../app/operations/cursor.js';
import { compileListQuery } from '../../app/operations/list-query.js';
import { applyFilters, applyKeyset, applyRelated, applySearch, applySort } from '../../app/operations/query-builder.js';
import { Registry } from '../../app/core/registry.js';
import { compileValidators } from '../../app/schema/validators.js';

const { knex } = knexPkg;

const def = resolveDefinition(defineEntity({
  name: 'gizmo', path: 'gizmos', table: 'gizmos', scope: 'gizmos', tenant: true, defaultSort: 'name',
  fields: {
    name: { type: 'string', required: true, sort: true, filter: true, search: 'prefix' },
    size: { type: 'integer', filter: true, sort: true },
    color: { type: 'enum', values: ['red', 'blue'], filter: ['eq', 'in'] },
    notes: { type: 'text', search: 'contains' },
    tags: { type: 'string[]', filter: true },
    owner_id: { type: 'uuid', ref: 'gizmo', relation: 'owner' },
  },
}));
const validators = compileValidators(def);
const compile = (query: Record<string, unknown>) => compileListQuery(def, validators, query);

function refusal(query: Record<string, unknown>): { code: string; paths: string[] } {
  try {
    compile(query);
  } catch (err) {
    if (err instanceof AppError) return { code: err.code, paths: (err.details ?? []).map((d) => d.path) };
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('list-query compiler', () => {
  it('compiles URL strings into typed filters, the default sort and offset paging', () => {
    const q = compile({ 'size[gte]': '3', 'color[in]': ['red', 'blue'], name: 'Cog' });
    expect(q.filters).to.deep.equal([
      { field: 'size', op: 'gte', value: 3 },
      { field: 'color', op: 'in', value: ['red', 'blue'] },
      { field: 'name', op: 'eq', value: 'Cog' },
    ]);
    expect(q.sort).to.deep.equal([{ field: 'name', desc: false }]);
    expect(q).to.include({ limit: 50, offset: 0, count: true, includeArchived: false });
  });

  it('reads sort keys, page and page_size, and drops an explicit id (always the last tie-breaker)', () => {
    const q = compile({ sort: '-size,name,id', page: '3', page_size: '20' });
    expect(q.sort).to.deep.equal([{ field: 'size', desc: true }, { field: 'name', desc: false }]);
    expect(q).to.include({ limit: 20, offset: 40 });
  });

  it('refuses every input the definition does not allow, naming it', () => {
    expect(refusal({ weight: '3' })).to.deep.equal({ code: 'validation_error', paths: ['/query/weight'] });
    expect(refusal({ 'color[like]': 'r' })).to.deep.equal({ code: 'validation_error', paths: ['/query/color[like]'] });
    expect(refusal({ notes: 'x' })).to.deep.equal({ code: 'validation_error', paths: ['/query/notes'] });
    expect(refusal({ 'size[gt]': 'big' }).paths).to.deep.equal(['/query/size[gt]']);
    expect(refusal({ sort: 'notes' }).paths).to.deep.equal(['/query/sort']);
    expect(refusal({ sort: 'nope' }).paths).to.deep.equal(['/query/sort']);
    expect(refusal({ limit: '101' }).paths).to.deep.equal(['/query/limit']);
    expect(refusal({ limit: '0' }).paths).to.deep.equal(['/query/limit']);
    expect(refusal({ limit: '10', page_size: '10' }).paths).to.deep.equal(['/query/page_size']);
    expect(refusal({ offset: '10', page: '2' }).paths).to.deep.equal(['/query/page']);
    expect(refusal({ count: 'true' }).paths).to.deep.equal(['/query/count']);
    expect(refusal({ include: 'maker' }).paths).to.deep.equal(['/query/include']);
    expect(refusal({ include: 'constructor' }).paths).to.deep.equal(['/query/include']);
    expect(refusal({ fields: 'name,secret' }).paths).to.deep.equal(['/query/fields']);
    expect(refusal({ after: 'garbage' })).to.deep.equal({ code: 'invalid_cursor', paths: ['/query/after'] });
  });

  it('decodes a cursor made for the same sort, and refuses it with offset or with another sort', () => {
    const after = encodeCursor([{ field: 'name', desc: false }], { name: 'Cog', id: '01900000-0000-7000-8000-000000000001' });
    const q = compile({ after, count: 'true' });
    expect(q.after).to.deep.equal({ sort: 'name', values: ['Cog'], id: '01900000-0000-7000-8000-000000000001' });
    expect(q).to.include({ count: true });
    expect(refusal({ after, offset: '5' }).paths).to.deep.equal(['/query/after']);
    expect(refusal({ after, sort: '-size' }).code).to.equal('invalid_cursor');
  });
});

describe('list-query SQL', () => {
  const builders = {
    sqlite: knex({ client: 'better-sqlite3', useNullAsDefault: true, connection: { filename: ':memory:' } }),
    postgres: knex({ client: 'pg' }),
  };
  after(async () => {
    await builders.sqlite.destroy();
    await builders.postgres.destroy();
  });

  for (const name of ['sqlite', 'postgres'] as const) {
    const dialect = DIALECTS[name];
    const codec = makeCodec(def, dialect);
    const sql = (build: (qb: any) => void) => {
      const qb = builders[name]('gizmos');
      build(qb);
      return qb.toSQL().toNative();
    };

    it(`${name}: "not equal" keeps empty values, like wraps the term, a list filter tests membership`, () => {
      const q = compile({ 'size[ne]': '3', 'name[like]': 'og', tags: 'urgent' });
      const { sql: text, bindings } = sql((qb) => applyFilters(qb, def, q.filters, codec, dialect));
      expect(text).to.match(/\("size" <> \$?\??\d* or "size" is null\)/);
      expect(text).to.contain(name === 'postgres' ? '"name"::text ilike' : '"name" like');
      expect(text).to.contain(name === 'postgres' ? '"tags" @>' : 'json_each("tags")');
      expect(bindings).to.deep.equal([3, '%og%', name === 'postgres' ? '["urgent"]' : 'urgent']);
    });

    it(`${name}: search matches each word on every searchable field, escaping _ and dropping %`, () => {
      const { sql: text, bindings } = sql((qb) => applySearch(qb, def, 'Co_g 50%', dialect));
      expect(bindings).to.deep.equal(
        name === 'postgres' ? ['co\\_g%', '%Co\\_g%', '50%', '%50%'] : ['Co\\_g%', '%Co\\_g%', '50%', '%50%'],
      );
      expect(text.match(/ or /g)).to.have.length(2);
    });

    it(`${name}: sorts with the id last and pages by keyset after the cursor`, () => {
      const sort = [{ field: 'size', desc: true }];
      const { sql: text, bindings } = sql((qb) => {
        applyKeyset(qb, sort, { sort: '-size', values: [7], id: '01900000-0000-7000-8000-000000000001' }, codec);
        applySort(qb, sort, dialect);
      });
      expect(text).to.match(/order by "size" desc( nulls last)?, "id" asc$/);
      expect(bindings).to.deep.equal([7, 7, '01900000-0000-7000-8000-000000000001']);
    });
  }
});

describe('list-query compiler: related filters', () => {
  const label = resolveDefinition(defineEntity({
    name: 'gizmo-label', path: 'labels', table: 'gizmo_labels', scope: 'gizmos', tenant: true,
    parent: { resource: 'gizmo', field: 'gizmo_id' },
    fields: { gizmo_id: { type: 'uuid', ref: 'gizmo', required: true }, kind_id: { type: 'uuid', ref: 'gizmo', required: true } },
  }));
  const labelled = resolveDefinition(defineEntity({
    ...def, relatedFilters: { kind_id: { resource: 'gizmo-label', foreignKey: 'gizmo_id', field: 'kind_id', description: 'Gizmos with this label.' } },
  }));
  const registry = new Registry([labelled, label]);
  const v = compileValidators(registry.get('gizmo'), registry);
  const kind = '01900000-0000-7000-8000-0000000000aa';

  it('keeps a related filter apart from the field filters, typed and checked by the related field', () => {
    const q = compileListQuery(registry.get('gizmo'), v, { kind_id: kind, size: '3' });
    expect(q.related).to.deep.equal([{ name: 'kind_id', value: kind }]);
    expect(q.filters).to.deep.equal([{ field: 'size', op: 'eq', value: 3 }]);
    expect(() => compileListQuery(registry.get('gizmo'), v, { kind_id: 'nope' })).to.throw(AppError).with.property('code', 'validation_error');
    expect(() => compileListQuery(registry.get('gizmo'), v, { 'kind_id[in]': kind })).to.throw(AppError).with.property('code', 'validation_error');
    // A definition without the filter knows no such parameter.
    expect(() => compile({ kind_id: kind })).to.throw(AppError).with.property('code', 'validation_error');
  });

  const builders = {
    sqlite: knex({ client: 'better-sqlite3', useNullAsDefault: true, connection: { filename: ':memory:' } }),
    postgres: knex({ client: 'pg' }),
  };
  after(async () => {
    await builders.sqlite.destroy();
    await builders.postgres.destroy();
  });

  for (const name of ['sqlite', 'postgres'] as const) {
    it(`${name}: compiles to an exists subquery on live related rows of the same organization and record`, () => {
      const dialect = DIALECTS[name];
      const builder = builders[name];
      const q = compileListQuery(registry.get('gizmo'), v, { kind_id: kind });
      const qb: any = builder('gizmos');
      applyRelated(qb, registry.get('gizmo'), q.related, (r) => ({ def: registry.get(r), codec: makeCodec(registry.get(r), dialect) }));
      const { sql: text, bindings } = qb.toSQL().toNative();
      expect(text).to.match(/exists \(select 1 from "gizmo_labels" as "rel_0" where "rel_0"."org_id" = "gizmos"."org_id" and "rel_0"."gizmo_id" = "gizmos"."id" and "rel_0"."kind_id" = (\?|\$1) and "rel_0"."deleted_at" is null\)/);
      expect(bindings).to.deep.equal([kind]);
    });
  }
});
