import { defineEntity } from '../app/core/define.js';

// Seed 002 "Knowledge Base": global help articles (KBID, Title, Article, Category, Type, Tags, Active).

export default defineEntity({
  name: 'kb-article',
  path: 'kb',
  table: 'kb_articles',
  scope: 'kb',
  tenant: false,
  description: 'A knowledge-base article shared by every organization.',
  defaultSort: 'title',
  fields: {
    title: {
      type: 'string', required: true, minLength: 1, maxLength: 300, filter: true, sort: true, search: 'contains',
      description: 'Article title.', example: 'Insurance Verification Workflow',
    },
    body: { type: 'text', required: true, search: 'contains', description: 'The article text.', example: 'Step-by-step process...' },
    category: {
      type: 'string', maxLength: 100, filter: true, sort: true,
      description: 'Category the article belongs to.', example: 'Billing',
    },
    type: {
      type: 'string', maxLength: 50, filter: true,
      description: "Kind of article, e.g. 'HowTo', 'FAQ', 'Troubleshooting'.", example: 'HowTo',
    },
    tags: {
      type: 'string[]', default: [], filter: true, search: 'contains',
      description: 'Keywords for finding the article.', example: ['insurance', 'verification'],
    },
    active: { type: 'boolean', default: true, filter: true, description: 'Whether the article is published.' },
  },
  admin: { group: 'Support', icon: 'BookOpen', listProperties: ['title', 'category', 'type', 'active'] },
});
