import { defineEntity } from '../app/core/define.js';
import { ON_PATIENT_CHART, PATIENT_ID_FIELD } from '../plugins/patient-chart/chart-resource.js';

// Seed 001 §1.10 / §2.13 ReferralAttributionOut / §3.20: how a patient came to the practice.
// Each attribution names exactly one source (a referral source, a referral partner, a provider
// or a referring patient; the plugin refuses none or several with 422), sources are fixed at
// create (createOnly: a PATCH naming one is a 400), and a patient has at most one live primary
// attribution (a partial unique index, so two concurrent creates cannot both win; 409
// primary_attribution_exists, also for a PATCH to primary). `*_uuid` are `*_id` here (embedded
// with ?include=). The seed states no default role (§4.16): secondary, so that only a deliberate
// primary claims the one primary slot. Archive needs base_version, as a query parameter as in
// the seed, or If-Match.

export default defineEntity({
  name: 'patient-referral-attribution',
  path: 'referral-attributions',
  table: 'patient_referral_attributions',
  ...ON_PATIENT_CHART,
  description: 'How a patient was acquired: one referral source, referral partner, provider or referring patient.',
  requireBaseVersion: true,
  requireBaseVersionToArchive: true,
  defaultSort: '-attributed_at',
  fields: {
    patient_id: PATIENT_ID_FIELD,
    attribution_role: {
      type: 'enum', values: ['primary', 'secondary', 'assist'], default: 'secondary', filter: true,
      description: 'primary (first-touch attribution set at intake; at most one live per patient), secondary (additional touchpoint, the default) or assist (contributing factor).',
      example: 'primary',
    },
    referral_source_id: {
      type: 'uuid', ref: 'referral-source', relation: 'referral_source', createOnly: true, filter: true,
      description: 'The marketing referral source (referral-sources). Exactly one source is given; fixed once created.',
    },
    referral_partner_id: {
      type: 'uuid', ref: 'referral-partner', relation: 'referral_partner', createOnly: true, filter: true,
      description: 'The referral partner (referral-partners). Exactly one source is given; fixed once created.',
    },
    provider_id: {
      type: 'uuid', ref: 'provider', relation: 'provider', createOnly: true, filter: true,
      description: 'The in-house provider. Exactly one source is given; fixed once created.',
    },
    referring_patient_id: {
      type: 'uuid', ref: 'patient', relation: 'referring_patient', createOnly: true, filter: true,
      description: 'The patient who referred this one. Exactly one source is given; fixed once created.',
    },
    source_note: { type: 'text', maxLength: 2000, description: 'Free-text detail about the referral.', example: 'Saw the spring mailer.' },
    attributed_at: {
      type: 'datetime', readOnly: true, fill: 'now', sort: true, filter: ['gte', 'lte', 'gt', 'lt'],
      description: 'When the attribution was recorded (set at create; unlike updated_at it never moves).',
    },
  },
  indexes: [{
    columns: ['patient_id'], unique: true, live: true, where: { attribution_role: 'primary' },
    conflict: { code: 'primary_attribution_exists', message: 'The patient already has a primary attribution' },
  }],
  admin: { group: 'Chart', icon: 'Share2', listProperties: ['attribution_role', 'attributed_at', 'source_note'] },
});
