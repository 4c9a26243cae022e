import { canReadField } from '../../app/auth/ability.js';
import { AppError } from '../../app/core/errors.js';
import type { ActionDefinition, Row } from '../../app/core/plugin.js';
import { IDENTIFICATION_FIELDS, identificationItem } from './identification.js';

// Seed 001 §1.1 Src#43, §2.4, §3.10: `POST /patients/check-duplicates`. Any one signal flags a
// potential duplicate: last name + date of birth, email, mobile phone, or SSN. Advisory only.
// Normalisation: names and emails are compared trimmed and case-insensitively; phone numbers and
// SSNs by their digits only ("416-555-0123" = "(416) 555 0123"). Archived patients are left out,
// as from every list: restoring one is a separate, deliberate step.

export const DUPLICATE_SIGNALS = ['last_name_date_of_birth', 'email', 'mobile_phone', 'social_security_number'] as const;
const MAX_ITEMS = 50;

/** SQL of a column with the usual phone and SSN separators removed (portable: nested replace). */
const digitsOf = (column: string) => ['-', ' ', '(', ')', '.', '+', '/'].reduce((sql, ch) => `replace(${sql}, '${ch}', '')`, `"${column}"`);
const digits = (v: unknown) => String(v ?? '').replace(/\D/g, '');
const folded = (v: unknown) => String(v ?? '').trim().toLowerCase();

export const checkDuplicates: ActionDefinition = {
  resource: 'patient',
  name: 'check-duplicates',
  on: 'collection',
  access: 'read',
  summary: 'Check for duplicate patients',
  description:
    'Finds existing patients matching any one duplicate signal: `last_name` + `date_of_birth` (both; names compared ' +
    'case-insensitively), `email` (case-insensitive), `mobile_phone` (digits only), or `social_security_number` (digits only). ' +
    'Each item names the signals it matched in `matched_on`. Use before creating a patient; nothing is blocked. ' +
    'Matching on an SSN needs `patients:sensitive` (without it the request is refused with `forbidden`, as a filter on a ' +
    'sensitive field is); the SSN is never returned. Archived patients are not checked. At most 50 items, by last name, first name, id; ' +
    '`total` counts every match. Reads are audited.',
  input: {
    type: 'object',
    properties: {
      last_name: { type: 'string', minLength: 1, maxLength: 100, description: 'Last name to check for duplicates.' },
      date_of_birth: { type: 'string', format: 'date', description: 'With last_name, a duplicate signal.' },
      email: { type: 'string', maxLength: 254, description: 'A duplicate signal (case-insensitive).' },
      mobile_phone: { type: 'string', maxLength: 30, description: 'A duplicate signal (compared by its digits).' },
      social_security_number: { type: 'string', maxLength: 50, description: 'A duplicate signal (by its digits); needs patients:sensitive.' },
    },
    required: ['last_name'],
  },
  output: {
    type: 'object',
    properties: {
      items: {
        type: 'array',
        description: 'Potential duplicate patients, with lightweight identification fields.',
        items: identificationItem(
          { matched_on: { type: 'array', items: { type: 'string', enum: [...DUPLICATE_SIGNALS] }, minItems: 1, description: 'The signals this patient matched.' } },
          ['matched_on'],
        ),
      },
      total: { type: 'integer', minimum: 0, description: 'Number of potential duplicates found.' },
    },
    required: ['items', 'total'],
    additionalProperties: false,
  },
  async run({ ctx, def, input, find }) {
    const ssnGiven = typeof input.social_security_number === 'string' && input.social_security_number.trim() !== '';
    if (ssnGiven && !canReadField(ctx.ability, def, 'social_security_number')) {
      throw new AppError('forbidden', `Matching on 'social_security_number' needs the '${def.scope}:sensitive' scope`, [
        { path: '/body/social_security_number', message: 'needs the sensitive scope' },
      ]);
    }
    const lastName = folded(input.last_name);
    const dob = input.date_of_birth as string | undefined;
    const email = input.email !== undefined ? folded(input.email) : '';
    const phone = digits(input.mobile_phone);
    const ssn = ssnGiven ? digits(input.social_security_number) : '';
    const signals: { sql: string; bindings: unknown[] }[] = [];
    if (dob) signals.push({ sql: 'lower(trim("last_name")) = ? and "date_of_birth" = ?', bindings: [lastName, dob] });
    if (email) signals.push({ sql: 'lower(trim("email")) = ?', bindings: [email] });
    if (phone) signals.push({ sql: `${digitsOf('mobile_phone')} = ?`, bindings: [phone] });
    if (ssn) signals.push({ sql: `${digitsOf('social_security_number')} = ?`, bindings: [ssn] });
    if (!signals.length) return { result: { items: [], total: 0 } };

    // The signal fields are read to say which matched, then dropped: the SSN is never answered.
    const fields = [...IDENTIFICATION_FIELDS, ...(ssn ? ['social_security_number'] : [])];
    const { rows, total } = await find('patient', {
      where: (qb) => qb.whereRaw(`(${signals.map((s) => `(${s.sql})`).join(' or ')})`, signals.flatMap((s) => s.bindings)),
      sort: [{ field: 'last_name' }, { field: 'first_name' }],
      limit: MAX_ITEMS,
      fields,
      count: true,
    });
    const items = rows.map((row: Row) => {
      const matched: string[] = [];
      if (dob && folded(row.last_name) === lastName && row.date_of_birth === dob) matched.push('last_name_date_of_birth');
      if (email && folded(row.email) === email) matched.push('email');
      if (phone && digits(row.mobile_phone) === phone) matched.push('mobile_phone');
      if (ssn && digits(row.social_security_number) === ssn) matched.push('social_security_number');
      const { social_security_number: _hidden, ...shown } = row;
      return { ...shown, matched_on: matched };
    });
    return { result: { items, total: total ?? items.length } };
  },
};
