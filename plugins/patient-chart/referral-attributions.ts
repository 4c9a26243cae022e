import { AppError } from '../../app/core/errors.js';
import type { WriteState } from '../../app/core/plugin.js';

// Seed 001 §3.20: "Each record links to exactly one source". The source fields are create-only
// (definitions/patient-referral-attributions.ts), so the rule is checked on create alone. The
// one-primary rule is the definition's partial unique index, whose conflict code is declared here.

export const ATTRIBUTION_SOURCES = ['referral_source_id', 'referral_partner_id', 'provider_id', 'referring_patient_id'] as const;

export const referralAttributionErrors = {
  attribution_source_required: { status: 422, description: 'A referral attribution names none of its sources; give exactly one.' },
  attribution_source_ambiguous: { status: 422, description: 'A referral attribution names several sources; give exactly one.' },
  primary_attribution_exists: { status: 409, description: 'The patient already has a live primary referral attribution.' },
};

export function requireOneSource(state: WriteState): void {
  const given = ATTRIBUTION_SOURCES.filter((f) => typeof state.data[f] === 'string');
  if (given.length === 1) return;
  const list = ATTRIBUTION_SOURCES.join(', ');
  if (given.length === 0) {
    throw new AppError('attribution_source_required', `A referral attribution needs exactly one source: one of ${list}`,
      ATTRIBUTION_SOURCES.map((f) => ({ path: `/body/${f}`, message: 'give exactly one source' })));
  }
  throw new AppError('attribution_source_ambiguous', `A referral attribution names exactly one source, not ${given.length} (${given.join(', ')})`,
    given.map((f) => ({ path: `/body/${f}`, message: 'only one source may be given' })));
}
