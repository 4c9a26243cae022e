import { Faker, en } from '@faker-js/faker';

// Deterministic generators of realistic create-bodies, shared by the demo seed and the
// benchmarks. Same (count, seed, opts) → the same bodies on every run: the random source is a
// seeded Faker instance and every date is relative to a fixed reference date, never "now".

/** The reference "today" of generated data, so that dates do not drift between runs. */
export const REF_DATE = '2026-01-15T12:00:00.000Z';

/** A Faker instance of its own (the shared `faker` would be disturbed by other users). */
export function seededFaker(seed: number): Faker {
  const f = new Faker({ locale: [en] });
  f.seed(seed);
  f.setDefaultRefDate(REF_DATE);
  return f;
}

/** Provinces with a few cities each and the first letter of their postal codes. */
const PROVINCES: { code: string; name: string; postal: string; cities: string[]; weight: number }[] = [
  { code: 'ON', name: 'Ontario', postal: 'KLMNP', cities: ['Toronto', 'Ottawa', 'Mississauga', 'Hamilton', 'London', 'Kingston', 'Waterloo', 'Brampton'], weight: 40 },
  { code: 'QC', name: 'Quebec', postal: 'GHJ', cities: ['Montréal', 'Québec', 'Laval', 'Gatineau', 'Sherbrooke'], weight: 20 },
  { code: 'BC', name: 'British Columbia', postal: 'V', cities: ['Vancouver', 'Victoria', 'Surrey', 'Burnaby', 'Kelowna'], weight: 14 },
  { code: 'AB', name: 'Alberta', postal: 'T', cities: ['Calgary', 'Edmonton', 'Red Deer', 'Lethbridge'], weight: 12 },
  { code: 'MB', name: 'Manitoba', postal: 'R', cities: ['Winnipeg', 'Brandon'], weight: 4 },
  { code: 'SK', name: 'Saskatchewan', postal: 'S', cities: ['Saskatoon', 'Regina'], weight: 3 },
  { code: 'NS', name: 'Nova Scotia', postal: 'B', cities: ['Halifax', 'Sydney', 'Truro'], weight: 3 },
  { code: 'NB', name: 'New Brunswick', postal: 'E', cities: ['Moncton', 'Saint John', 'Fredericton'], weight: 2 },
  { code: 'NL', name: 'Newfoundland and Labrador', postal: 'A', cities: ["St. John's", 'Corner Brook'], weight: 1 },
  { code: 'PE', name: 'Prince Edward Island', postal: 'C', cities: ['Charlottetown', 'Summerside'], weight: 1 },
];

const LANGUAGES = [
  { value: 'English', weight: 70 }, { value: 'French', weight: 15 }, { value: 'Spanish', weight: 4 },
  { value: 'Mandarin', weight: 4 }, { value: 'Punjabi', weight: 3 }, { value: 'Arabic', weight: 2 }, { value: 'Tagalog', weight: 2 },
];

const STATUSES = [
  { value: 'active', weight: 70 }, { value: 'inactive', weight: 14 }, { value: 'prospective', weight: 8 },
  { value: 'archived', weight: 6 }, { value: 'deceased', weight: 2 },
];

const MEDICAL_SUMMARIES = [
  'Hypertension, well controlled on ramipril 5 mg daily.',
  'Type 2 diabetes; HbA1c 7.1% at last check. On metformin.',
  'Seasonal allergic rhinitis. No other chronic conditions.',
  'Asthma, mild intermittent; salbutamol as needed.',
  'Hypothyroidism on levothyroxine 75 mcg.',
  'History of appendectomy (2009). Otherwise healthy.',
  'Generalized anxiety disorder, followed by counselling.',
  'Osteoarthritis of both knees; physiotherapy ongoing.',
  'Hyperlipidemia on atorvastatin 20 mg.',
  'GERD, managed with pantoprazole.',
  'Migraine without aura, 2-3 episodes per month.',
  'Pregnancy, 2nd trimester; followed by obstetrics.',
];

const URGENT_NOTES = [
  'Anaphylaxis to penicillin: carries EpiPen.',
  'Latex allergy: use nitrile gloves only.',
  'On warfarin: check INR before any procedure.',
  'History of syncope with needles: treat lying down.',
];

const TREATMENT_NOTES = [
  'Follow up in 3 months for blood pressure review.',
  'Annual physical due; order fasting lipid panel.',
  'Referred to dermatology for mole assessment.',
  'Continue current medication; review side effects next visit.',
  'Physiotherapy twice weekly for 6 weeks.',
];

export interface PatientRowOptions {
  /** Providers to assign as primary (and sometimes secondary) provider; none when empty. */
  providerIds?: readonly string[];
  /** Locations to assign as home location; none when empty. */
  locationIds?: readonly string[];
  /** Chart number prefix; numbers are `<prefix><6 digits>` from `startNumber`. Default 'CH-'. */
  chartPrefix?: string;
  /** First chart number (default 1). */
  startNumber?: number;
  /** Share of patients with a primary provider when providerIds are given (default 0.75). */
  providerShare?: number;
}

export type PatientBody = Record<string, unknown>;

function pronounFor(gender: string, f: Faker): string {
  if (gender === 'male') return f.helpers.weightedArrayElement([{ value: 'he_him', weight: 9 }, { value: 'not_specified', weight: 1 }]);
  if (gender === 'female') return f.helpers.weightedArrayElement([{ value: 'she_her', weight: 9 }, { value: 'not_specified', weight: 1 }]);
  if (gender === 'non_binary') return 'they_them';
  return f.helpers.arrayElement(['not_specified', 'other', 'they_them']);
}

const ymd = (d: Date) => d.toISOString().slice(0, 10);

function postalCode(f: Faker, first: string): string {
  const L = 'ABCEGHJKLMNPRSTVWXYZ';
  const letter = () => f.helpers.arrayElement(L.split(''));
  const digit = () => String(f.number.int({ min: 0, max: 9 }));
  return `${f.helpers.arrayElement(first.split(''))}${digit()}${letter()} ${digit()}${letter()}${digit()}`;
}

/** One realistic patient create-body (all demographic fields the API accepts, most filled). */
export function patientBody(f: Faker, chartNumber: string, opts: PatientRowOptions = {}): PatientBody {
  const gender = f.helpers.weightedArrayElement([
    { value: 'female', weight: 50 }, { value: 'male', weight: 46 }, { value: 'non_binary', weight: 2 },
    { value: 'unknown', weight: 1 }, { value: 'prefer_not_to_say', weight: 1 },
  ]);
  const sex = gender === 'male' ? 'male' : gender === 'female' ? 'female' : undefined;
  const first = f.person.firstName(sex);
  const last = f.person.lastName();
  const dob = f.date.birthdate({ mode: 'age', min: 0, max: 98 });
  const age = (Date.parse(REF_DATE) - dob.getTime()) / (365.25 * 86400_000);
  const adult = age >= 18;
  const province = f.helpers.weightedArrayElement(PROVINCES.map((p) => ({ value: p, weight: p.weight })));
  const status = f.helpers.weightedArrayElement(STATUSES);
  const email = f.datatype.boolean(0.85)
    ? f.internet.email({ firstName: first, lastName: last, provider: f.helpers.arrayElement(['example.com', 'example.org', 'example.net']) }).toLowerCase()
    : null;
  const phone = () => f.phone.number({ style: 'national' });
  const mobile = f.datatype.boolean(0.9) ? phone() : null;
  const firstVisit = f.date.between({ from: new Date(Math.max(dob.getTime(), Date.parse('2008-01-01'))), to: REF_DATE });
  const contact = f.helpers.weightedArrayElement([
    { value: 'text', weight: 35 }, { value: 'email', weight: 30 }, { value: 'phone', weight: 25 }, { value: 'mail', weight: 5 }, { value: 'none', weight: 5 },
  ]);
  const providers = opts.providerIds ?? [];
  const locations = opts.locationIds ?? [];
  const withProvider = providers.length > 0 && f.datatype.boolean(opts.providerShare ?? 0.75);
  const primary = withProvider ? f.helpers.arrayElement(providers) : null;
  const secondaryCandidates = providers.filter((p) => p !== primary);
  const body: PatientBody = {
    first_name: first,
    middle_name: f.datatype.boolean(0.4) ? f.person.middleName(sex) : null,
    last_name: last,
    preferred_name: f.datatype.boolean(0.15) ? f.person.firstName(sex) : null,
    salutation: adult ? (gender === 'male' ? 'Mr.' : gender === 'female' ? f.helpers.arrayElement(['Ms.', 'Mrs.', 'Ms.']) : 'Mx.') : null,
    title: f.datatype.boolean(0.03) ? f.helpers.arrayElement(['Jr.', 'Sr.', 'PhD', 'MD', 'III']) : null,
    pronoun: pronounFor(gender, f),
    gender,
    marital_status: adult ? f.helpers.weightedArrayElement([
      { value: 'married', weight: 45 }, { value: 'single', weight: 30 }, { value: 'domestic_partner', weight: 8 },
      { value: 'divorced', weight: 9 }, { value: 'separated', weight: 3 }, { value: 'widowed', weight: 5 },
    ]) : 'single',
    date_of_birth: ymd(dob),
    date_time_deceased: status === 'deceased' ? f.date.between({ from: firstVisit, to: REF_DATE }).toISOString() : null,
    preferred_language: f.helpers.weightedArrayElement(LANGUAGES),
    chart_number: chartNumber,
    status,
    social_security_number: f.datatype.boolean(0.4) ? `${f.string.numeric(3)} ${f.string.numeric(3)} ${f.string.numeric(3)}` : null,
    medicaid_id: null,
    health_card_number: f.string.numeric({ length: 10, allowLeadingZeros: false }),
    health_card_province: province.code,
    email,
    mobile_phone: mobile,
    home_phone: f.datatype.boolean(0.5) ? phone() : null,
    work_phone: adult && f.datatype.boolean(0.3) ? phone() : null,
    preferred_contact_method: contact === 'email' && !email ? 'phone' : contact,
    preferred_confirmation_method: email ? f.helpers.arrayElement(['email', 'text']) : mobile ? 'text' : 'phone',
    receives_email: !!email && f.datatype.boolean(0.7),
    receives_sms: !!mobile && f.datatype.boolean(0.6),
    emergency_contact_name: f.datatype.boolean(0.7) ? f.person.fullName() : null,
    emergency_contact_phone: null,
    address_line1: f.location.streetAddress(),
    address_line2: f.datatype.boolean(0.2) ? f.location.secondaryAddress() : null,
    city: f.helpers.arrayElement(province.cities),
    state: province.code,
    postal_code: postalCode(f, province.postal),
    country: 'Canada',
    address_note: null,
    primary_provider_id: primary,
    secondary_provider_id: primary && secondaryCandidates.length && f.datatype.boolean(0.15) ? f.helpers.arrayElement(secondaryCandidates) : null,
    location_id: locations.length && f.datatype.boolean(0.85) ? f.helpers.arrayElement(locations) : null,
    date_first_visit: status === 'prospective' ? null : ymd(firstVisit),
    ask_to_arrive_early_mins: f.helpers.arrayElement([0, 0, 5, 10, 15, 30]),
    appointment_module_note: f.datatype.boolean(0.05) ? f.helpers.arrayElement(['Prefers morning appointments.', 'Needs wheelchair access.', 'Bring interpreter.']) : null,
    allergy_review_status: f.helpers.weightedArrayElement([{ value: 'reviewed', weight: 55 }, { value: 'nkda', weight: 25 }, { value: 'not_reviewed', weight: 20 }]),
    premedication_required: f.datatype.boolean(0.04),
    medical_summary: f.datatype.boolean(0.6) ? f.helpers.arrayElement(MEDICAL_SUMMARIES) : null,
    medical_urgent_note: f.datatype.boolean(0.05) ? f.helpers.arrayElement(URGENT_NOTES) : null,
    treatment_notes: f.datatype.boolean(0.3) ? f.helpers.arrayElement(TREATMENT_NOTES) : null,
    consent_flags: f.number.int({ min: 0, max: 15 }),
    billing_cycle_day: f.number.int({ min: 1, max: 28 }),
  };
  if (body.emergency_contact_name) body.emergency_contact_phone = phone();
  // Omit empty values: a create-body a client would really send.
  for (const k of Object.keys(body)) if (body[k] === null) delete body[k];
  return body;
}

/**
 * `count` deterministic patient create-bodies: the same seed and options give the same bodies.
 * Chart numbers are unique (`CH-000001`, …); about 70% of patients are active.
 */
export function patientRows(count: number, seed: number, opts: PatientRowOptions = {}): PatientBody[] {
  const f = seededFaker(seed);
  const prefix = opts.chartPrefix ?? 'CH-';
  const start = opts.startNumber ?? 1;
  const rows: PatientBody[] = new Array(count);
  for (let i = 0; i < count; i++) rows[i] = patientBody(f, `${prefix}${String(start + i).padStart(6, '0')}`, opts);
  return rows;
}

/**
 * A generated body split for the patient lifecycle (plugins/patient-chart): a create may only start
 * a patient `active` or `prospective`, so the body carries that, and `then` is the status the
 * patient reaches afterwards (through transition-status, or archive for `archived`), if any.
 */
export function lifecycleStart(body: PatientBody): { body: PatientBody; then?: string } {
  const status = body.status as string | undefined;
  if (status === undefined || status === 'active' || status === 'prospective') return { body };
  return { body: { ...body, status: 'active' }, then: status };
}

/** The most frequent last-name prefixes of a set of bodies (for search benchmarks and demos). */
export function commonLastNamePrefixes(rows: readonly PatientBody[], length = 3, take = 20): string[] {
  const counts = new Map<string, number>();
  for (const r of rows) {
    const p = String(r.last_name).slice(0, length);
    counts.set(p, (counts.get(p) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, take).map(([p]) => p);
}
