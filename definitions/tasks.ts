import { defineEntity } from '../app/core/define.js';

// Seed 000 "Tasks": a work item for the practice, optionally linked to a patient or appointment.

export default defineEntity({
  name: 'task',
  path: 'tasks',
  table: 'tasks',
  scope: 'tasks',
  tenant: true,
  description: 'A to-do item for practice staff, optionally linked to a patient and an appointment.',
  defaultSort: '-created_at',
  fields: {
    title: {
      type: 'string', required: true, minLength: 1, maxLength: 500, search: 'contains', sort: true,
      description: 'Task title.', example: 'Follow up on blood work',
    },
    description: { type: 'text', description: 'Task description.' },
    type: {
      type: 'enum', values: ['general', 'booking', 'file_review'], default: 'general', filter: true,
      description: 'Kind of task: general (default), booking, file_review.',
    },
    status: {
      type: 'enum', values: ['open', 'closed'], default: 'open', filter: true, sort: true,
      description: 'Task status: open (default) or closed.',
    },
    priority: {
      type: 'integer', min: 1, max: 4, default: 3, filter: true, sort: true,
      description: '1 (urgent), 2 (high), 3 (normal), 4 (low)', example: 2,
    },
    due_date: {
      type: 'date', filter: true, sort: true,
      description: 'Due date in YYYY-MM-DD format.', example: '2026-02-25',
    },
    patient_id: {
      type: 'uuid', ref: 'patient', relation: 'patient', filter: true,
      description: 'UUID of the linked patient.',
    },
    appointment_id: { type: 'uuid', filter: true, description: 'UUID of the linked appointment.' },
    created_by: {
      type: 'string', maxLength: 200, readOnly: true, fill: 'actor', filter: true,
      description: 'Who created the task; set by the system from the caller.', example: 'user_abc123',
    },
  },
  indexes: [{ columns: ['status', 'priority'] }, { columns: ['due_date'] }],
  admin: { group: 'Work', icon: 'CheckSquare', listProperties: ['title', 'status', 'priority', 'due_date', 'type'] },
});
