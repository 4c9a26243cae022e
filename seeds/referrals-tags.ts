import type { Row } from '../app/operations/records.js';
import { seededFaker } from './generators.js';

// The demo practice's referral sources and partners, and the referral attributions and tags of
// its patients: a Faker of its own (seeded) so that the rest of the demo data does not shift.

export const REFERRAL_SOURCES: Row[] = [
  { name: 'Google search', channel: 'online', campaign_code: 'SEARCH', description: 'Found us through a web search.' },
  { name: 'Practice website', channel: 'online', description: 'Booked after visiting our website.' },
  { name: 'Instagram', channel: 'online', campaign_code: 'SOCIAL-IG' },
  { name: 'Spring mailer', channel: 'print', campaign_code: 'SPRING-2025', description: 'Postcard sent to the neighbourhood in April.' },
  { name: 'Community newspaper', channel: 'print' },
  { name: 'Local radio spot', channel: 'broadcast', campaign_code: 'RADIO-FALL' },
  { name: 'Health fair booth', channel: 'event', description: 'Met the team at the community health fair.' },
  { name: 'Word of mouth', channel: 'word_of_mouth' },
];

export const REFERRAL_PARTNERS: Row[] = [
  { name: 'Lakeside Family Medicine', partner_type: 'clinic', contact_name: 'Dr. Alan Reyes', email: 'referrals@lakeside.example', phone: '(416) 555-0190' },
  { name: 'Northside Dental Group', partner_type: 'dentist', contact_name: 'Dr. Mira Osei', email: 'office@northside-dental.example' },
  { name: 'Dr. Priya Nair, Cardiology', partner_type: 'specialist', phone: '(416) 555-0177' },
  { name: 'Harbour Physiotherapy', partner_type: 'clinic', contact_name: 'Tom Becker' },
  { name: 'Metro Corporate Wellness', partner_type: 'business', email: 'wellness@metro.example', notes: 'Employer programme; staff come for annual checks.' },
  { name: 'Dr. Lena Fischer', partner_type: 'physician' },
];

const NOTES = [
  'Mentioned at the first visit.', 'Noted on the intake form.', 'Brought the referral letter.', 'Asked for the new-patient offer.',
  'Came with a family member.', null, null, null,
];

export interface PatientReferralsAndTags {
  patientId: string;
  attributions: Row[];
  tags: Row[];
}

export interface ReferralIds {
  referralSourceIds: string[];
  referralPartnerIds: string[];
  providerIds: string[];
  tagDefinitionIds: string[];
}

/**
 * About six in ten patients have a primary attribution, some of them secondary or assist ones
 * as well (one source each, the referring patient never the patient); about half carry one to
 * three distinct tags.
 */
export function referralAndTagBodies(patientIds: string[], ids: ReferralIds, seed: number): PatientReferralsAndTags[] {
  const f = seededFaker(seed);
  const source = (self: string): Row => {
    const kind = f.helpers.weightedArrayElement([
      { weight: 4, value: 'referral_source_id' }, { weight: 2, value: 'referral_partner_id' },
      { weight: 1, value: 'provider_id' }, { weight: 2, value: 'referring_patient_id' },
    ]);
    if (kind === 'referral_source_id') return { referral_source_id: f.helpers.arrayElement(ids.referralSourceIds) };
    if (kind === 'referral_partner_id') return { referral_partner_id: f.helpers.arrayElement(ids.referralPartnerIds) };
    if (kind === 'provider_id') return { provider_id: f.helpers.arrayElement(ids.providerIds) };
    return { referring_patient_id: f.helpers.arrayElement(patientIds.filter((p) => p !== self)) };
  };
  return patientIds.map((patientId) => {
    const attributions: Row[] = [];
    if (f.datatype.boolean(0.6)) {
      attributions.push({ attribution_role: 'primary', ...source(patientId), source_note: f.helpers.arrayElement(NOTES) });
      const more = f.helpers.weightedArrayElement([{ weight: 6, value: 0 }, { weight: 3, value: 1 }, { weight: 1, value: 2 }]);
      for (let i = 0; i < more; i++) {
        attributions.push({ attribution_role: f.helpers.arrayElement(['secondary', 'assist']), ...source(patientId), source_note: f.helpers.arrayElement(NOTES) });
      }
    }
    const tags = f.datatype.boolean(0.5)
      ? f.helpers.arrayElements(ids.tagDefinitionIds, { min: 1, max: 3 }).map((tag_definition_id) => ({ tag_definition_id }))
      : [];
    return { patientId, attributions, tags };
  });
}
