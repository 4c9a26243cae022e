import { defineEntity } from '../app/core/define.js';
import { definePlugin } from '../app/core/plugin.js';

// What the write pipeline's seams cost: two resources of one shape, one of which has a
// beforeChange hook and an after-commit event subscriber. The benchmark writes both.

const shape = (name: string, path: string, table: string) =>
  defineEntity({
    name, path, table, scope: 'bench-notes', tenant: true, defaultSort: '-created_at',
    fields: {
      title: { type: 'string', required: true, maxLength: 200 },
      body: { type: 'text' },
      status: { type: 'enum', values: ['open', 'done'], default: 'open', filter: true },
    },
  });

let delivered = 0;

export default definePlugin({
  name: 'bench-pipeline',
  definitions: [shape('bench-note', 'bench-notes', 'bench_notes'), shape('bench-plain-note', 'bench-plain-notes', 'bench_plain_notes')],
  hooks: {
    beforeChange: [{ resource: 'bench-note', hook: (state) => { if (typeof state.data.title === 'string') state.data.title = state.data.title.trim(); } }],
  },
  events: {
    'bench-note.created': () => { delivered++; },
    'bench-note.updated': () => { delivered++; },
  },
});

export const deliveredCount = () => delivered;
