import { expect } from 'chai';
import { defineEntity, resolveDefinition } from '../../app/core/define.js';
import { copyRow, makeCodec } from '../../app/db/codec.js';
import { DIALECTS } from '../../app/db/dialect.js';

const def = resolveDefinition(
  defineEntity({
    name: 'gadget',
    path: 'gadgets',
    table: 'gadgets',
    scope: 'gadgets',
    tenant: false,
    fields: {
      name: { type: 'string' },
      active: { type: 'boolean' },
      settings: { type: 'json' },
      tags: { type: 'string[]' },
      seen_at: { type: 'datetime' },
      size: { type: 'integer' },
    },
  }),
);

const sqlite = makeCodec(def, DIALECTS.sqlite);
const postgres = makeCodec(def, DIALECTS.postgres);

describe('record codecs', () => {
  describe('on SQLite (booleans as 0/1, JSON as text)', () => {
    it('stores booleans as 1/0 and JSON and lists as text, leaving the input untouched', () => {
      const values = { name: 'x', active: true, settings: { a: [1, 'b'] }, tags: ['red', 'blue'], size: 3 };
      expect(sqlite.toDb(values)).to.deep.equal({ name: 'x', active: 1, settings: '{"a":[1,"b"]}', tags: '["red","blue"]', size: 3 });
      expect(sqlite.toDb({ active: false })).to.deep.equal({ active: 0 });
      expect(values.active, 'no mutation of the caller\'s object').to.equal(true);
      expect(values.settings).to.deep.equal({ a: [1, 'b'] });
    });

    it('keeps null and absent values as they are', () => {
      expect(sqlite.toDb({ active: null, settings: null, tags: undefined })).to.deep.equal({ active: null, settings: null, tags: undefined });
    });

    it('reads 0/1 back as booleans and text back as JSON', () => {
      const row = sqlite.fromDb({ id: 'i', active: 1, settings: '{"a":1}', tags: '["red"]', name: '1', size: 1 });
      expect(row).to.deep.equal({ id: 'i', active: true, settings: { a: 1 }, tags: ['red'], name: '1', size: 1 });
      expect(sqlite.fromDb({ active: 0, settings: null, tags: null })).to.deep.equal({ active: false, settings: null, tags: null });
    });

    it('round-trips a record', () => {
      const record = { name: 'n', active: false, settings: { nested: { deep: true } }, tags: [], size: 0 };
      expect(sqlite.fromDb(sqlite.toDb(record))).to.deep.equal(record);
    });

    it('turns WHERE booleans into 1/0', () => {
      expect(sqlite.scalarToDb('active', true)).to.equal(1);
      expect(sqlite.scalarToDb('active', false)).to.equal(0);
    });
  });

  describe('on PostgreSQL (native boolean, jsonb)', () => {
    it('keeps booleans and serializes JSON and lists for jsonb', () => {
      expect(postgres.toDb({ active: true, settings: { a: 1 }, tags: ['red'] })).to.deep.equal({ active: true, settings: '{"a":1}', tags: '["red"]' });
      expect(postgres.toDb({ active: false })).to.deep.equal({ active: false });
    });

    it('reads rows as the driver returns them (jsonb already parsed)', () => {
      const row = { active: false, settings: { a: 1 }, tags: ['red'], name: 'n' };
      expect(postgres.fromDb({ ...row })).to.deep.equal(row);
    });

    it('keeps WHERE booleans as booleans', () => {
      expect(postgres.scalarToDb('active', true)).to.equal(true);
      expect(postgres.scalarToDb('active', false)).to.equal(false);
    });
  });

  describe('scalarToDb on both dialects', () => {
    for (const [dialect, codec] of [['sqlite', sqlite], ['postgres', postgres]] as const) {
      it(`${dialect}: normalizes datetimes to UTC ISO strings, so text comparison orders them`, () => {
        expect(codec.scalarToDb('seen_at', '2024-01-02T03:04:05+02:00')).to.equal('2024-01-02T01:04:05.000Z');
        expect(codec.scalarToDb('seen_at', '2024-01-02T03:04:05Z')).to.equal('2024-01-02T03:04:05.000Z');
        expect(codec.scalarToDb('created_at', '2024-06-30T23:59:59.5-01:00'), 'system columns too').to.equal('2024-07-01T00:59:59.500Z');
      });

      it(`${dialect}: passes null, undefined and other types through`, () => {
        expect(codec.scalarToDb('seen_at', null)).to.equal(null);
        expect(codec.scalarToDb('active', undefined)).to.equal(undefined);
        expect(codec.scalarToDb('size', 7)).to.equal(7);
        expect(codec.scalarToDb('name', 'true')).to.equal('true');
      });
    }
  });

  describe('copyRow', () => {
    it('copies own keys, lays the extras over them in order, and leaves the source untouched', () => {
      const row = { a: 1, b: { nested: true }, c: null };
      const copy = copyRow(row, { b: 2 }, { d: 'x' });
      expect(copy).to.deep.equal({ a: 1, b: 2, c: null, d: 'x' });
      expect(row).to.deep.equal({ a: 1, b: { nested: true }, c: null });
      expect(Object.keys(copy)).to.deep.equal(['a', 'b', 'c', 'd']);
    });

    it('keeps an own __proto__ key a key instead of setting the prototype', () => {
      const parsed = JSON.parse('{"x":1,"__proto__":{"polluted":true}}');
      const copy = copyRow(parsed);
      expect(Object.getPrototypeOf(copy)).to.equal(Object.prototype);
      expect(Object.keys(copy)).to.deep.equal(['x', '__proto__']);
      expect((copy as { polluted?: unknown }).polluted).to.equal(undefined);
    });
  });
});
