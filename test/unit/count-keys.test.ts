import { expect } from 'chai';
import { resolveDefinition } from '../../app/core/define.js';
import type { EntityDefinition } from '../../app/core/types.js';
import { countDeltas, countPlan, countSignature, type CountDelta } from '../../app/counts/keys.js';
import { countLookup, MAX_KEY_COMBINATIONS } from '../../app/counts/read.js';
import type { Filter } from '../../app/operations/list-query.js';

const OWNER = '0190a000-0000-7000-8000-00000000000a';

const visit = resolveDefinition({
  name: 'visit',
  path: 'visits',
  table: 'visits',
  scope: 'visits',
  tenant: true,
  fields: {
    kind: { type: 'enum', values: ['new', 'follow_up'], filter: true },
    urgent: { type: 'boolean', filter: true },
    room: { type: 'integer', filter: true },
    owner_id: { type: 'uuid', filter: true },
  },
  counts: [[], ['kind'], ['kind', 'urgent'], ['room'], ['owner_id']],
});
const keys = countPlan(visit);

const row = (values: Record<string, unknown>, deletedAt: string | null = null) => ({
  kind: 'new', urgent: false, room: 1, owner_id: OWNER, deleted_at: deletedAt, ...values,
});

/** Deltas as `{'key|values': n}`, for readable expectations. */
const flat = (deltas: CountDelta[]) => Object.fromEntries(deltas.map((d) => [`${d.countKey}|${d.keyValues}`, d.n]));

describe('count keys: the deltas of a change', () => {
  it('counts a created record once under every key, in API form', () => {
    expect(flat(countDeltas(keys, [{ before: null, after: row({}) }], false))).to.deep.equal({
      '|[]': 1,
      'kind|["new"]': 1,
      'kind,urgent|["new",false]': 1,
      'room|[1]': 1,
      [`owner_id|["${OWNER}"]`]: 1,
    });
  });

  it('moves only the keys whose values changed', () => {
    const before = row({});
    const after = row({ kind: 'follow_up' });
    expect(flat(countDeltas(keys, [{ before, after }], false))).to.deep.equal({
      'kind,urgent|["follow_up",false]': 1,
      'kind,urgent|["new",false]': -1,
      'kind|["follow_up"]': 1,
      'kind|["new"]': -1,
    });
  });

  it('changes nothing when no counted value changed', () => {
    expect(countDeltas(keys, [{ before: row({}), after: row({ note: 'x' }) }], false)).to.deep.equal([]);
    expect(countDeltas(keys, [{ before: null, after: null }], false)).to.deep.equal([]);
  });

  it('takes an archived record out and a restored one back in', () => {
    const live = row({});
    const archived = row({}, '2026-01-01T00:00:00.000Z');
    expect(flat(countDeltas(keys, [{ before: live, after: archived }], false))['|[]']).to.equal(-1);
    expect(flat(countDeltas(keys, [{ before: archived, after: live }], false))['kind|["new"]']).to.equal(1);
    // Changing an archived record moves nothing: it is not counted.
    expect(countDeltas(keys, [{ before: archived, after: { ...archived, kind: 'follow_up' } }], false)).to.deep.equal([]);
  });

  it('counts records without archiving (no deleted_at) as live', () => {
    const { deleted_at: _, ...plain } = row({});
    expect(flat(countDeltas(keys, [{ before: null, after: plain }], false))['|[]']).to.equal(1);
  });

  it('keeps empty values as null, and writes booleans stored as 0/1 as true/false', () => {
    const deltas = flat(countDeltas(keys, [{ before: null, after: row({ kind: null, urgent: 1, room: undefined }) }], false));
    expect(deltas['kind,urgent|[null,true]']).to.equal(1);
    expect(deltas['room|[null]']).to.equal(1);
    expect(flat(countDeltas(keys, [{ before: null, after: row({ urgent: 0 }) }], false))['kind,urgent|["new",false]']).to.equal(1);
  });

  it('folds the case of uuids only where the database compares them without case', () => {
    const upper = OWNER.toUpperCase();
    expect(flat(countDeltas(keys, [{ before: null, after: row({ owner_id: upper }) }], true))).to.have.property(`owner_id|["${OWNER}"]`, 1);
    expect(flat(countDeltas(keys, [{ before: null, after: row({ owner_id: upper }) }], false))).to.have.property(`owner_id|["${upper}"]`, 1);
    // One uuid written in two spellings is no change where case is folded.
    expect(countDeltas(keys, [{ before: row({}), after: row({ owner_id: upper }) }], true)).to.deep.equal([]);
  });

  it('sums a batch per key and values, drops what nets to zero, and sorts by key then values', () => {
    const changes = [
      { before: null, after: row({ room: 3 }) },
      { before: null, after: row({ room: 2 }) },
      { before: null, after: row({ room: 3 }) },
      { before: row({ room: 2 }), after: row({ room: 2 }, '2026-01-01T00:00:00.000Z') },
    ];
    const deltas = countDeltas(keys, changes, false);
    expect(flat(deltas)).to.deep.equal({
      '|[]': 2,
      'kind|["new"]': 2,
      'kind,urgent|["new",false]': 2,
      'room|[3]': 2,
      [`owner_id|["${OWNER}"]`]: 2,
    });
    expect(deltas.map((d) => d.countKey)).to.deep.equal(['', 'kind', 'kind,urgent', 'owner_id', 'room']);
    const rooms = countDeltas(keys, [3, 1, 2].map((room) => ({ before: null, after: row({ room }) })), false).filter((d) => d.countKey === 'room');
    expect(rooms.map((d) => d.keyValues)).to.deep.equal(['[1]', '[2]', '[3]']);
  });
});

describe('count keys: which counts answer a list', () => {
  const f = (field: string, op: Filter['op'], value: unknown): Filter => ({ field, op, value });

  it('answers equality on exactly one key\'s fields, in the key\'s order whatever the filters\' order', () => {
    expect(countLookup(visit, [], false)).to.deep.equal({ countKey: '', keyValues: ['[]'] });
    expect(countLookup(visit, [f('kind', 'eq', 'new')], false)).to.deep.equal({ countKey: 'kind', keyValues: ['["new"]'] });
    expect(countLookup(visit, [f('urgent', 'eq', true), f('kind', 'eq', 'new')], false)).to.deep.equal({ countKey: 'kind,urgent', keyValues: ['["new",true]'] });
    expect(countLookup(visit, [f('room', 'eq', 4)], false)).to.deep.equal({ countKey: 'room', keyValues: ['[4]'] });
  });

  it('sums an in list over its distinct values, and crosses lists of several fields', () => {
    expect(countLookup(visit, [f('kind', 'in', ['new', 'follow_up', 'new'])], false)).to.deep.equal({ countKey: 'kind', keyValues: ['["new"]', '["follow_up"]'] });
    expect(countLookup(visit, [f('kind', 'in', ['new', 'follow_up']), f('urgent', 'eq', false)], false)!.keyValues).to.deep.equal(['["new",false]', '["follow_up",false]']);
  });

  it('answers [null]=true from the count of records without a value', () => {
    expect(countLookup(visit, [f('kind', 'null', true)], false)).to.deep.equal({ countKey: 'kind', keyValues: ['[null]'] });
    expect(countLookup(visit, [f('kind', 'null', false)], false)).to.equal(null);
  });

  it('leaves to the database what the counts do not hold', () => {
    // No key has these fields, or has more of them.
    expect(countLookup(visit, [f('urgent', 'eq', true)], false)).to.equal(null);
    expect(countLookup(visit, [f('kind', 'eq', 'new'), f('room', 'eq', 1)], false)).to.equal(null);
    // Operators other than equality, and two filters on one field.
    expect(countLookup(visit, [f('room', 'gte', 1)], false)).to.equal(null);
    expect(countLookup(visit, [f('kind', 'ne', 'new')], false)).to.equal(null);
    expect(countLookup(visit, [f('kind', 'eq', 'new'), f('kind', 'in', ['new'])], false)).to.equal(null);
    // `= null` matches nothing in SQL, unlike the count of [null].
    expect(countLookup(visit, [f('kind', 'eq', null)], false)).to.equal(null);
    // A uuid not in canonical form is compared by the database.
    expect(countLookup(visit, [f('owner_id', 'eq', `urn:uuid:${OWNER}`)], false)).to.equal(null);
  });

  it('writes filter values as the counts store them', () => {
    const upper = OWNER.toUpperCase();
    expect(countLookup(visit, [f('owner_id', 'eq', upper)], true)!.keyValues).to.deep.equal([`["${OWNER}"]`]);
    expect(countLookup(visit, [f('owner_id', 'eq', upper)], false)!.keyValues).to.deep.equal([`["${upper}"]`]);
  });

  it('counts rows instead when in lists cross into too many combinations', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => i);
    const wide: EntityDefinition = { ...visit, name: 'wide', counts: [['room', 'kind']] };
    expect(countLookup(wide, [f('room', 'in', many(MAX_KEY_COMBINATIONS / 2)), f('kind', 'in', ['new', 'follow_up'])], false)!.keyValues).to.have.length(MAX_KEY_COMBINATIONS);
    expect(countLookup(wide, [f('room', 'in', many(MAX_KEY_COMBINATIONS / 2 + 1)), f('kind', 'in', ['new', 'follow_up'])], false)).to.equal(null);
  });

  it('has no counts to read for a definition without keys', () => {
    expect(countLookup({ ...visit, name: 'bare', counts: undefined }, [], false)).to.equal(null);
  });
});

describe('count keys: the signature stored with the counts', () => {
  it('names the keys in order, and differs when they do', () => {
    expect(countSignature(visit)).to.equal('["v1","","kind","kind,urgent","room","owner_id"]');
    expect(countSignature({ counts: [['kind']] })).to.not.equal(countSignature({ counts: [['kind'], []] }));
    expect(countSignature({})).to.equal(countSignature({ counts: [] }));
  });
});
