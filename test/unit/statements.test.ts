import { expect } from 'chai';
import { insertSql, powerOfTwoSlices } from '../../app/db/statements.js';

describe('engine statements', () => {
  it('slices any number of items into power-of-two runs no longer than the maximum, in order', () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const slices = [...powerOfTwoSlices(items, 256)];
    expect(slices.map((s) => s.length)).to.deep.equal([256, 256, 256, 128, 64, 32, 8]);
    expect(slices.flat()).to.deep.equal(items);
    expect([...powerOfTwoSlices([], 256)]).to.deep.equal([]);
    expect([...powerOfTwoSlices([1, 2, 3], 256)].map((s) => s.length)).to.deep.equal([2, 1]);
  });

  it('writes a multi-row insert from the first row\'s keys, values in column order', () => {
    const { sql, params } = insertSql('gadgets', [{ id: 'a', name: 'x', size: 1 }, { size: 2, id: 'b', name: null }]);
    expect(sql).to.equal('insert into "gadgets" ("id", "name", "size") values (?, ?, ?), (?, ?, ?)');
    expect(params).to.deep.equal(['a', 'x', 1, 'b', null, 2]);
  });
});
