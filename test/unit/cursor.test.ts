import { expect } from 'chai';
import { defineEntity, resolveDefinition } from '../../app/core/define.js';
import { AppError } from '../../app/core/errors.js';
import { decodeCursor, encodeCursor } from '../../app/operations/cursor.js';
import type { SortKey } from '../../app/operations/list-query.js';

const def = resolveDefinition(
  defineEntity({
    name: 'reading',
    path: 'readings',
    table: 'readings',
    scope: 'readings',
    tenant: true,
    fields: {
      label: { type: 'string', sort: true },
      taken_on: { type: 'date', sort: true },
      quantity: { type: 'integer', sort: true },
      value: { type: 'number', sort: true },
      flagged: { type: 'boolean', sort: true },
      device_id: { type: 'uuid', sort: true },
    },
  }),
);

const ID = '01938f4e-7c2a-7b3d-9e4f-0a1b2c3d4e5f';
const asc = (field: string): SortKey => ({ field, desc: false });
const byLabel: SortKey[] = [asc('label')];

/** A cursor with any payload, as a client could forge one. */
const forge = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString('base64url');

function rejected(raw: string, sort: SortKey[] = byLabel): AppError {
  try {
    decodeCursor(raw, sort, def);
  } catch (err) {
    expect(err).to.be.instanceOf(AppError);
    return err as AppError;
  }
  throw new Error(`cursor ${raw} was accepted`);
}

describe('cursors', () => {
  it('round-trip the sort keys and the id of the last row', () => {
    const sort: SortKey[] = [asc('label'), { field: 'taken_on', desc: true }, asc('quantity'), asc('value'), asc('flagged'), asc('device_id'), asc('created_at')];
    const row = { id: ID, label: 'Zoë', taken_on: '2024-02-29', quantity: -2147483648, value: 36.6, flagged: false, device_id: ID, created_at: '2024-01-02T03:04:05.000Z' };
    const raw = encodeCursor(sort, row);
    expect(raw).to.match(/^[A-Za-z0-9_-]+$/); // base64url: safe in a query string
    expect(decodeCursor(raw, sort, def)).to.deep.equal({
      sort: 'label,-taken_on,quantity,value,flagged,device_id,created_at',
      values: ['Zoë', '2024-02-29', -2147483648, 36.6, false, ID, '2024-01-02T03:04:05.000Z'],
      id: ID,
    });
  });

  it('carry a null sort value (rows whose sort field is empty)', () => {
    const raw = encodeCursor(byLabel, { id: ID, label: null });
    expect(decodeCursor(raw, byLabel, def).values).to.deep.equal([null]);
    expect(decodeCursor(encodeCursor(byLabel, { id: ID }), byLabel, def).values, 'absent is null').to.deep.equal([null]);
  });

  it('reject garbled input as invalid_cursor', () => {
    for (const raw of ['', 'not a cursor!', '%%%', Buffer.from('{"s":').toString('base64url'), forge(null), forge('text'), forge([1, 2])]) {
      const err = rejected(raw);
      expect(err.code, raw).to.equal('invalid_cursor');
      expect(err.status).to.equal(400);
      expect(err.details).to.deep.equal([{ path: '/query/after', message: 'is not a cursor this list returned' }]);
    }
  });

  it('reject forged payloads of the wrong shape', () => {
    for (const payload of [
      { v: ['a'], id: ID },
      { s: 'label', id: ID },
      { s: 'label', v: 'a', id: ID },
      { s: 'label', v: ['a'] },
      { s: 'label', v: ['a'], id: 42 },
      { s: 'label', v: ['a'], id: 'not-a-uuid' },
      { s: 1, v: ['a'], id: ID },
    ]) {
      expect(rejected(forge(payload)).code, JSON.stringify(payload)).to.equal('invalid_cursor');
    }
  });

  it('reject a cursor made for another sort order, saying which', () => {
    const raw = encodeCursor(byLabel, { id: ID, label: 'a' });
    for (const sort of [[{ field: 'label', desc: true }], [asc('quantity')], [asc('label'), asc('quantity')]]) {
      const err = rejected(raw, sort);
      expect(err.code).to.equal('invalid_cursor');
      expect(err.message).to.equal('The cursor was made for another sort order');
      expect(err.details).to.deep.equal([{ path: '/query/after', message: 'use the same sort as the page it came from (label)' }]);
    }
    expect(rejected(forge({ s: 'label', v: ['a', 'b'], id: ID })).message, 'more values than keys').to.equal('The cursor was made for another sort order');
  });

  it('reject values of the wrong type for their column', () => {
    const cases: [string, unknown][] = [
      ['label', 7],
      ['label', { $gt: '' }],
      ['quantity', '1'],
      ['quantity', 1.5],
      ['value', '3'],
      ['flagged', 'true'],
      ['flagged', 0],
      ['taken_on', 20240101],
      ['taken_on', '2024-1-1'],
      ['created_at', 'yesterday'],
      ['created_at', '2024-01-02'],
      ['device_id', 'device-1'],
    ];
    for (const [field, value] of cases) {
      const err = rejected(forge({ s: field, v: [value], id: ID }), [asc(field)]);
      expect(err.code, `${field} ${JSON.stringify(value)}`).to.equal('invalid_cursor');
    }
  });

  it('reject NUL characters and values out of the column range', () => {
    const cases: [string, unknown][] = [
      ['label', 'a\u0000b'],
      ['taken_on', '2024-02-30'],
      ['taken_on', '2023-13-01'],
      ['created_at', '2024-01-02T99:00:00Z'],
      ['quantity', 2147483648],
      ['quantity', -2147483649],
      ['quantity', Number.MAX_SAFE_INTEGER],
    ];
    for (const [field, value] of cases) {
      const err = rejected(forge({ s: field, v: [value], id: ID }), [asc(field)]);
      expect(err.code, `${field} ${JSON.stringify(value)}`).to.equal('invalid_cursor');
    }
    // The bounds themselves are values the column holds.
    expect(decodeCursor(forge({ s: 'quantity', v: [2147483647], id: ID }), [asc('quantity')], def).values).to.deep.equal([2147483647]);
  });
});
