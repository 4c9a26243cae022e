import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { DefinitionError, resolveDefinition } from '../../app/core/define.js';
import { Registry, loadDefinitionDirs } from '../../app/core/registry.js';
import type { EntityDefinition, FieldDefinition } from '../../app/core/types.js';

/** A valid definition to break one property at a time. */
function widget(overrides: Partial<EntityDefinition> = {}, fields: Record<string, FieldDefinition> = {}): EntityDefinition {
  return {
    name: 'widget',
    path: 'widgets',
    table: 'widgets',
    scope: 'widgets',
    tenant: true,
    fields: { label: { type: 'string', required: true, sort: true }, ...fields },
    ...overrides,
  };
}

function rejects(make: () => unknown, message: string): void {
  expect(make).to.throw(DefinitionError).with.property('message', message);
}

describe('definition checks (resolveDefinition)', () => {
  it('accepts the valid base definition and fills its defaults', () => {
    const def = resolveDefinition(widget());
    expect(def).to.include({ subject: 'Widget', versioned: true, archivable: true, appendOnly: false, defaultSort: '-created_at' });
    expect(def.columns.map((c) => c.name)).to.deep.equal(['id', 'org_id', 'label', 'version', 'created_at', 'updated_at', 'deleted_at']);
  });

  it('checks the names: name, path, scope kebab-case; table snake_case', () => {
    rejects(() => resolveDefinition(widget({ name: 'Widget' })), "definition 'Widget': name must be kebab-case, got 'Widget'");
    rejects(() => resolveDefinition(widget({ name: '' })), "definition '': name must be kebab-case, got ''");
    rejects(() => resolveDefinition(widget({ path: 'wid/gets' })), "definition 'widget': path must be a kebab-case URL segment, got 'wid/gets'");
    rejects(() => resolveDefinition(widget({ table: 'Widgets' })), "definition 'widget': table must be snake_case, got 'Widgets'");
    rejects(() => resolveDefinition(widget({ scope: 'widgets:read' })), "definition 'widget': scope must be kebab-case, got 'widgets:read'");
  });

  it('checks the resource behaviours', () => {
    rejects(() => resolveDefinition(widget({ appendOnly: true, versioned: true })), "definition 'widget': an append-only resource cannot be versioned or archivable");
    rejects(() => resolveDefinition(widget({ appendOnly: true, archivable: true })), "definition 'widget': an append-only resource cannot be versioned or archivable");
    rejects(() => resolveDefinition(widget({ versioned: false, requireBaseVersion: true })), "definition 'widget': requireBaseVersion needs a versioned resource");
    expect(resolveDefinition(widget({ appendOnly: true })).versioned).to.equal(false);
  });

  it('checks field names against snake_case, engine columns and query parameters', () => {
    rejects(() => resolveDefinition(widget({}, { 'Colour': { type: 'string' } })), "definition 'widget': field 'Colour' must be snake_case");
    rejects(() => resolveDefinition(widget({}, { version: { type: 'integer' } })), "definition 'widget': field 'version' is managed by the engine");
    rejects(() => resolveDefinition(widget({}, { org_id: { type: 'uuid' } })), "definition 'widget': field 'org_id' is managed by the engine");
    rejects(() => resolveDefinition(widget({}, { sort: { type: 'string' } })), "definition 'widget': field 'sort' would shadow a query parameter");
  });

  it('checks each field against its type', () => {
    const cases: [string, FieldDefinition, string][] = [
      ['kind', { type: 'enum' }, "enum field 'kind' needs values"],
      ['kind', { type: 'enum', values: [] }, "enum field 'kind' needs values"],
      ['made_by', { type: 'string', fill: 'actor' }, "field 'made_by' is filled by the engine, so it must be readOnly"],
      ['owner_id', { type: 'string', ref: 'widget' }, "ref field 'owner_id' must be of type uuid"],
      ['weight', { type: 'string', acceptsNumber: true }, "field 'weight' accepts numbers, so it must be a string with a decimal pattern"],
      ['weight', { type: 'number', acceptsNumber: true, pattern: '^\\d+$' }, "field 'weight' accepts numbers, so it must be a string with a decimal pattern"],
      ['owner_id', { type: 'uuid', relation: 'owner' }, "field 'owner_id' declares a relation without a ref"],
      ['size', { type: 'integer', search: 'prefix' }, "search field 'size' must be textual"],
      ['meta', { type: 'json', sort: true }, "field 'meta' cannot be sortable"],
      ['tags', { type: 'string[]', sort: true }, "field 'tags' cannot be sortable"],
      ['meta', { type: 'json', filter: true }, "field 'meta' of type json cannot be filtered"],
      ['flag', { type: 'boolean', filter: ['gt'] }, "field 'flag' of type boolean cannot be filtered"],
      ['kind', { type: 'enum', values: ['a', 'b'], default: 'c' }, "default of 'kind' is not one of its values"],
      ['kind', { type: 'enum', values: ['a', 'b'], createValues: ['a'] }, "field 'kind' lists createValues without a changedBy action"],
      ['kind', { type: 'enum', values: ['a', 'b'], changedBy: 'move-kind', createValues: ['c'] }, "field 'kind' lists createValues outside its values"],
    ];
    for (const [name, field, message] of cases) {
      rejects(() => resolveDefinition(widget({}, { [name]: field })), `definition 'widget': ${message}`);
    }
  });

  it('checks parent, computed values, default sort and relation names', () => {
    rejects(() => resolveDefinition(widget({ parent: { resource: 'box', field: 'box_id' } })), "definition 'widget': parent field 'box_id' is not declared");
    rejects(
      () => resolveDefinition(widget({ computed: { label: { type: 'string', compute: () => '' } } })),
      "definition 'widget': computed 'label' clashes with a field",
    );
    rejects(
      () => resolveDefinition(widget({ computed: { created_at: { type: 'string', compute: () => '' } } })),
      "definition 'widget': computed 'created_at' clashes with a field",
    );
    rejects(
      () => resolveDefinition(widget({ computed: { flags: { type: 'array', compute: () => [] } } })),
      "definition 'widget': computed 'flags' needs items exactly when it is an array",
    );
    rejects(
      () => resolveDefinition(widget({ computed: { flag: { type: 'boolean', items: { type: 'string' }, compute: () => true } } })),
      "definition 'widget': computed 'flag' needs items exactly when it is an array",
    );
    rejects(() => resolveDefinition(widget({ defaultSort: 'colour' })), "definition 'widget': defaultSort 'colour' is not a sortable field");
    rejects(() => resolveDefinition(widget({ defaultSort: '-id' })), "definition 'widget': defaultSort '-id' is not a sortable field");
    rejects(
      () => resolveDefinition(widget({ hasMany: { owner: { resource: 'part', foreignKey: 'widget_id' } } }, { owner_id: { type: 'uuid', ref: 'widget', relation: 'owner' } })),
      "definition 'widget': relation 'owner' is declared twice",
    );
    rejects(
      () => resolveDefinition(widget({ hasMany: { label: { resource: 'part', foreignKey: 'widget_id' } } })),
      "definition 'widget': relation 'label' is declared twice",
    );
  });

  it('checks count keys: countable, filterable, known fields, short and distinct keys, tenant resources', () => {
    const countable: Record<string, FieldDefinition> = {
      kind: { type: 'enum', values: ['a', 'b'], filter: true },
      flag: { type: 'boolean', filter: true },
      size: { type: 'integer', filter: true },
      owner_id: { type: 'uuid', filter: ['eq', 'in'] },
    };
    const counted = (counts: readonly (readonly string[])[], overrides: Partial<EntityDefinition> = {}, fields: Record<string, FieldDefinition> = {}) =>
      resolveDefinition(widget({ counts, ...overrides }, { ...countable, ...fields }));
    expect(counted([[], ['kind'], ['kind', 'flag', 'size'], ['owner_id']]).counts).to.deep.equal([[], ['kind'], ['kind', 'flag', 'size'], ['owner_id']]);
    const cases: [readonly (readonly string[])[], string][] = [
      [[['colour']], "count key [colour] names unknown field 'colour'"],
      [[['created_at']], "count key [created_at] names unknown field 'created_at'"],
      [[['label']], "count key [label]: field 'label' must be filterable by equality (filter: true)"],
      [[['kind', 'flag', 'size', 'owner_id']], 'count key [kind, flag, size, owner_id] has more than 3 fields'],
      [[['kind', 'kind']], "count key [kind, kind] names 'kind' twice"],
      [[['kind', 'flag'], ['flag', 'kind']], 'count key [flag, kind] is declared twice'],
      [[[], []], 'count key [] is declared twice'],
      ['status' as never, 'counts must be a list of field-name lists'],
    ];
    for (const [counts, message] of cases) rejects(() => counted(counts), `definition 'widget': ${message}`);
    for (const type of ['string', 'text', 'number', 'date', 'datetime', 'string[]'] as const) {
      rejects(
        () => counted([['code']], {}, { code: { type, filter: true } }),
        `definition 'widget': count key [code]: field 'code' is of type ${type}; only enum, boolean, uuid, integer fields can be counted exactly`,
      );
    }
    rejects(() => counted([['kind']], { tenant: false }), "definition 'widget': counts are kept per organization: only tenant resources may declare them");
    rejects(() => counted([['kind']], { internal: true }), "definition 'widget': counts are kept by the write pipeline, which internal and read-only resources are written around");
    rejects(() => counted([['kind']], { readOnlyResource: true }), "definition 'widget': counts are kept by the write pipeline, which internal and read-only resources are written around");
  });

  it('checks declared indexes: known columns; live, where and conflict on unique ones only, with fitting values', () => {
    const kind: FieldDefinition = { type: 'enum', values: ['main', 'extra'] };
    const ok = widget({ indexes: [{ columns: ['label'], unique: true, live: true, where: { kind: 'main' }, conflict: { code: 'main_widget_exists', message: 'One main widget' } }] }, { kind });
    expect(() => resolveDefinition(ok)).to.not.throw();
    rejects(() => resolveDefinition(widget({ indexes: [{ columns: ['colour'] }] })), "definition 'widget': index [colour] names unknown field 'colour'");
    rejects(() => resolveDefinition(widget({ indexes: [{ columns: ['label'], live: true }] })), "definition 'widget': index [label]: live, where and conflict apply to unique indexes only");
    rejects(() => resolveDefinition(widget({ appendOnly: true, indexes: [{ columns: ['label'], unique: true, live: true }] })), "definition 'widget': index [label] is unique among live records, but the resource is not archivable");
    rejects(() => resolveDefinition(widget({ indexes: [{ columns: ['label'], unique: true, where: { shade: 'x' } }] })), "definition 'widget': index [label]: where names unknown field 'shade'");
    rejects(() => resolveDefinition(widget({ indexes: [{ columns: ['label'], unique: true, where: { kind: 'other' } }] }, { kind })), "definition 'widget': index [label]: where value of 'kind' does not fit the field");
    rejects(() => resolveDefinition(widget({ indexes: [{ columns: ['label'], unique: true, where: { note: 'x' } }] }, { note: { type: 'string' } })), "definition 'widget': index [label]: where field 'note' must be enum, boolean, integer");
    rejects(() => resolveDefinition(widget({ indexes: [{ columns: ['label'], unique: true, conflict: { code: 'Bad Code', message: 'x' } }] })), "definition 'widget': index [label]: conflict needs a snake_case code and a message");
  });

  it('checks engine-filled times and archive versions', () => {
    rejects(() => resolveDefinition(widget({}, { stamped: { type: 'date', readOnly: true, fill: 'now' } })), "definition 'widget': field 'stamped' is filled with the time, so it must be a datetime");
    expect(() => resolveDefinition(widget({}, { stamped: { type: 'datetime', readOnly: true, fill: 'now' } }))).to.not.throw();
    rejects(() => resolveDefinition(widget({ versioned: false, requireBaseVersionToArchive: true })), "definition 'widget': requireBaseVersionToArchive needs a versioned, archivable resource");
  });
});

describe('registry cross-checks', () => {
  const part = (overrides: Partial<EntityDefinition> = {}, fields: Record<string, FieldDefinition> = {}): EntityDefinition => ({
    name: 'part',
    path: 'parts',
    table: 'parts',
    scope: 'widgets',
    tenant: true,
    fields: { widget_id: { type: 'uuid', ref: 'widget' }, ...fields },
    ...overrides,
  });

  it('accepts consistent definitions', () => {
    const registry = new Registry([widget({ hasMany: { parts: { resource: 'part', foreignKey: 'widget_id' } } }), part({ parent: { resource: 'widget', field: 'widget_id' } })]);
    expect(registry.all().map((d) => d.name)).to.deep.equal(['widget', 'part']);
  });

  it('rejects a definition declared twice', () => {
    rejects(() => new Registry([widget(), widget()]), "definition 'widget' is declared twice");
  });

  it('rejects references to unknown resources and from global to tenant ones', () => {
    rejects(() => new Registry([widget(), part({}, { gadget_id: { type: 'uuid', ref: 'gadget' } })]), "definition 'part': field 'gadget_id' refers to unknown resource 'gadget'");
    rejects(() => new Registry([widget(), part({ tenant: false })]), "definition 'part': a global resource cannot refer to tenant resource 'widget'");
  });

  it('rejects has-many relations to unknown resources or foreign keys', () => {
    rejects(
      () => new Registry([widget({ hasMany: { gadgets: { resource: 'gadget', foreignKey: 'widget_id' } } })]),
      "definition 'widget': relation 'gadgets' names unknown resource 'gadget'",
    );
    rejects(
      () => new Registry([widget({ hasMany: { parts: { resource: 'part', foreignKey: 'owner_id' } } }), part()]),
      "definition 'widget': relation 'parts' foreign key 'owner_id' is not a field of 'part'",
    );
  });

  it('rejects unknown parents and parents of another tenancy', () => {
    // The parent field holds no ref here, so that the parent check is the one that speaks.
    const child = part({ parent: { resource: 'widget', field: 'widget_id' }, fields: { widget_id: { type: 'uuid' } } });
    rejects(() => new Registry([child]), "definition 'part': unknown parent 'widget'");
    rejects(() => new Registry([widget({ tenant: false }), child]), "definition 'part': parent and child must share tenancy");
  });

  it('rejects two resources served at the same path, but not an internal one', () => {
    rejects(() => new Registry([widget(), part({ path: 'widgets' })]), "definition 'part': path 'widgets' is already served");
    expect(() => new Registry([widget(), part({ path: 'widgets', internal: true })])).to.not.throw();
    expect(() => new Registry([widget(), part({ path: 'widgets', parent: { resource: 'widget', field: 'widget_id' } })]), 'nested under another parent').to.not.throw();
  });

  it('checks related filters: a child resource pointing back, a comparable field, a free parameter name', () => {
    const rf = (o: Record<string, unknown> = {}) => ({ resource: 'part', foreignKey: 'widget_id', field: 'kind', ...o });
    const kind: FieldDefinition = { type: 'enum', values: ['a', 'b'] };
    expect(() => new Registry([widget({ relatedFilters: { part_kind: rf() } }), part({}, { kind })])).to.not.throw();
    rejects(() => new Registry([widget({ relatedFilters: { 'Part-Kind': rf() } }), part({}, { kind })]), "definition 'widget': related filter 'Part-Kind' must be snake_case");
    rejects(() => new Registry([widget({ relatedFilters: { label: rf() } }), part({}, { kind })]), "definition 'widget': related filter 'label' would shadow a field or query parameter");
    rejects(() => new Registry([widget({ relatedFilters: { sort: rf() } }), part({}, { kind })]), "definition 'widget': related filter 'sort' would shadow a field or query parameter");
    rejects(() => new Registry([widget({ relatedFilters: { part_kind: rf({ resource: 'gadget' }) } }), part({}, { kind })]), "definition 'widget': related filter 'part_kind' names unknown resource 'gadget'");
    rejects(() => new Registry([widget({ relatedFilters: { part_kind: rf({ foreignKey: 'kind' }) } }), part({}, { kind })]), "definition 'widget': related filter 'part_kind': 'kind' of 'part' must be a ref to 'widget'");
    rejects(() => new Registry([widget({ relatedFilters: { part_kind: rf({ field: 'data' }) } }), part({}, { kind, data: { type: 'json' } })]), "definition 'widget': related filter 'part_kind': 'data' must be a uuid, enum, integer, boolean or string field of 'part'");
    rejects(() => new Registry([widget({ relatedFilters: { part_kind: rf() } }), part({ tenant: false }, { kind })]), "definition 'widget': related filter 'part_kind': 'part' must share the tenancy of 'widget'");
  });

  it('rejects a definition module without a defineEntity() default export', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'emr-defs-'));
    try {
      writeFileSync(path.join(dir, 'stray.js'), 'export const widget = { name: "widget" };\n');
      const error = await loadDefinitionDirs([dir]).then(() => null, (err: Error) => err);
      expect(error).to.be.instanceOf(DefinitionError);
      expect(error!.message).to.equal(`${path.join(dir, 'stray.js')} has no default export made with defineEntity()`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
