import { defineEntity } from '../app/core/define.js';

// Patient demographics: every field of seed 001's PatientOut / CreatePatientIn (catalog §2.1-2.3,
// enums §2.16) plus seed 000's health card fields. The seed sends references as `*_uuid` and
// returns Ref objects; here reference fields are `<name>_id` and embed with `?include=<relation>`.
// Not modelled: `potential_duplicates` and the create-only `billing_account` (shapes undocumented).

const MONEY = '^-?\\d+(\\.\\d{1,2})?$';
const CONTACT_METHODS = ['email', 'mail', 'none', 'phone', 'text'] as const;

export default defineEntity({
  name: 'patient',
  path: 'patients',
  table: 'patients',
  scope: 'patients',
  tenant: true,
  description: 'A patient of the practice: demographics, contact details, care team, billing summary and chart flags.',
  auditReads: true,
  requireBaseVersion: true,
  defaultSort: 'last_name',
  fields: {
    // --- Name and identity ---
    first_name: {
      type: 'string', required: true, minLength: 1, maxLength: 100, filter: true, sort: true, search: 'prefix',
      description: "Patient's legal first name.", example: 'Jane',
    },
    middle_name: { type: 'string', maxLength: 100, description: "Patient's middle name or initial." },
    last_name: {
      type: 'string', required: true, minLength: 1, maxLength: 100, filter: true, sort: true, search: 'prefix',
      description: "Patient's legal last name (surname).", example: 'Doe',
    },
    preferred_name: {
      type: 'string', maxLength: 100, search: 'prefix',
      description: 'Name the patient prefers to be called; matched by typeahead search.',
    },
    salutation: { type: 'string', maxLength: 50, description: 'Salutation used in correspondence (e.g. Mr., Ms., Dr.).' },
    title: { type: 'string', maxLength: 50, description: 'Title or suffix shown with the name (e.g. Jr., PhD).' },
    pronoun: {
      type: 'enum', values: ['he_him', 'not_specified', 'other', 'she_her', 'they_them'],
      description: "Patient's pronouns.",
    },
    gender: {
      type: 'enum', values: ['male', 'female', 'non_binary', 'other', 'unknown', 'prefer_not_to_say'], filter: true,
      description: 'Administrative gender for clinical records.',
    },
    marital_status: {
      type: 'enum', values: ['divorced', 'domestic_partner', 'married', 'other', 'separated', 'single', 'widowed'],
      description: 'Marital status.',
    },
    date_of_birth: {
      type: 'date', filter: true, sort: true,
      description: 'Date of birth (YYYY-MM-DD); with last_name a duplicate-detection signal.', example: '1985-03-15',
    },
    date_time_deceased: { type: 'datetime', description: 'Date and time of death, when the patient is deceased.' },
    preferred_language: {
      type: 'string', maxLength: 50, filter: true,
      description: "Patient's preferred language for communication.", example: 'English',
    },
    chart_number: {
      type: 'string', maxLength: 50, unique: true, filter: true, sort: true, search: 'prefix',
      description: 'Practice chart number; unique within the organization (a duplicate is rejected with 409).',
    },
    status: {
      type: 'enum', values: ['active', 'inactive', 'prospective', 'deceased', 'archived'], default: 'active',
      filter: true, sort: true, changedBy: 'transition-status', createValues: ['active', 'prospective'],
      description: "Patient lifecycle status. One of: active, inactive, prospective, deceased, archived. Defaults to 'active'; a create may set active or prospective, later changes go through POST …/transition-status and restore.",
    },

    // --- Government and insurance identifiers ---
    social_security_number: {
      type: 'string', maxLength: 50, sensitive: true,
      description: 'Social security number; a duplicate-detection signal. Returned only with patients:sensitive.',
    },
    medicaid_id: {
      type: 'string', maxLength: 50, sensitive: true,
      description: 'Medicaid identifier. Returned only with patients:sensitive.',
    },
    health_card_number: {
      type: 'string', maxLength: 50, filter: true, search: 'prefix',
      description: 'Provincial health card number.', example: '1234567890',
    },
    health_card_province: {
      type: 'string', maxLength: 10, filter: true,
      description: 'Province or territory that issued the health card (two-letter code).', example: 'ON',
    },

    // --- Contact ---
    email: {
      type: 'string', format: 'email', maxLength: 254, filter: true, search: 'prefix',
      description: "Patient's email address; validated, and a duplicate-detection signal.", example: 'jane.doe@example.com',
    },
    mobile_phone: {
      type: 'string', maxLength: 30, filter: true, search: 'prefix',
      description: 'Mobile phone number; a duplicate-detection signal.', example: '416-555-0123',
    },
    home_phone: { type: 'string', maxLength: 30, search: 'prefix', description: 'Home phone number.' },
    work_phone: { type: 'string', maxLength: 30, description: 'Work phone number.' },
    preferred_contact_method: {
      type: 'enum', values: CONTACT_METHODS,
      description: 'How the patient prefers to be contacted.',
    },
    preferred_confirmation_method: {
      type: 'enum', values: CONTACT_METHODS,
      description: 'How the patient prefers appointment confirmations to be sent.',
    },
    receives_email: {
      type: 'boolean', default: false, filter: true,
      description: 'Whether the patient has opted in to receive email communications.',
    },
    receives_sms: {
      type: 'boolean', default: false, filter: true,
      description: 'Whether the patient has opted in to receive SMS messages.',
    },
    emergency_contact_name: { type: 'string', maxLength: 200, description: 'Name of the emergency contact.' },
    emergency_contact_phone: { type: 'string', maxLength: 30, description: 'Phone number of the emergency contact.' },

    // --- Address ---
    address_line1: { type: 'string', maxLength: 200, description: 'Street address, first line.' },
    address_line2: { type: 'string', maxLength: 200, description: 'Street address, second line (unit, suite).' },
    city: { type: 'string', maxLength: 100, filter: true, description: 'City.' },
    state: { type: 'string', maxLength: 50, filter: true, description: 'State or province.' },
    postal_code: { type: 'string', maxLength: 20, filter: true, description: 'Postal or ZIP code.' },
    country: { type: 'string', maxLength: 100, description: 'Country.' },
    address_note: { type: 'text', description: 'Free-text note about the address.' },

    // --- Care team and practice ---
    primary_provider_id: {
      type: 'uuid', ref: 'provider', relation: 'primary_provider', filter: true,
      description: "The patient's primary provider (seed: primary_provider_uuid).",
    },
    secondary_provider_id: {
      type: 'uuid', ref: 'provider', relation: 'secondary_provider', filter: true,
      description: "The patient's secondary provider (seed: secondary_provider_uuid).",
    },
    location_id: {
      type: 'uuid', ref: 'location', relation: 'location', filter: true,
      description: "The patient's home location (seed: location_uuid).",
    },
    responsible_party_id: {
      type: 'uuid', ref: 'patient', relation: 'responsible_party', filter: true,
      description: 'The guarantor: the patient responsible for this account (seed: responsible_party_uuid).',
    },
    employer_id: { type: 'uuid', description: "The patient's employer (seed: employer_uuid)." },
    date_first_visit: {
      type: 'date', filter: true, sort: true,
      description: "Date of the patient's first visit (YYYY-MM-DD).",
    },
    ask_to_arrive_early_mins: {
      type: 'integer', min: 0, max: 120,
      description: 'Number of minutes to ask the patient to arrive before their appointment (0-120).',
    },
    appointment_module_note: { type: 'text', description: 'Note shown with the patient in the appointment module.' },

    // --- Clinical flags and notes ---
    allergy_review_status: {
      type: 'enum', values: ['not_reviewed', 'nkda', 'reviewed'], default: 'not_reviewed', filter: true,
      description: "Allergy review status. One of: not_reviewed, nkda, reviewed. 'not_reviewed' means allergies have not been assessed.",
    },
    premedication_required: {
      type: 'boolean', default: false, filter: true,
      description: 'Whether the patient requires antibiotic premedication before dental procedures.',
    },
    medical_summary: { type: 'text', description: 'Free-text medical summary of the patient.' },
    medical_urgent_note: { type: 'text', description: 'Urgent medical note, shown prominently (also in the medical summary).' },
    treatment_notes: { type: 'text', description: 'Free-text treatment notes.' },
    consent_flags: {
      type: 'integer', min: 0,
      description: 'Bitmask of consent flags (HIPAA, treatment consent, etc.).',
    },

    // --- Billing ---
    billing_type_id: { type: 'uuid', description: "The patient's billing type (seed: billing_type_uuid)." },
    fee_schedule_id: { type: 'uuid', description: 'The fee schedule applied to the patient (seed: fee_schedule_uuid).' },
    billing_cycle_day: {
      type: 'integer', min: 1, max: 31,
      description: 'Day of the month on which the patient is billed (1-31).',
    },

    // --- Output only (maintained by the system) ---
    balance_0_30: {
      type: 'string', pattern: MONEY, readOnly: true,
      description: 'Balance aged 0-30 days, as a decimal string.', example: '0.00',
    },
    balance_31_60: {
      type: 'string', pattern: MONEY, readOnly: true,
      description: 'Balance aged 31-60 days, as a decimal string.', example: '0.00',
    },
    balance_61_90: {
      type: 'string', pattern: MONEY, readOnly: true,
      description: 'Balance aged 61-90 days, as a decimal string.', example: '0.00',
    },
    balance_over_90: {
      type: 'string', pattern: MONEY, readOnly: true,
      description: 'Balance aged over 90 days, as a decimal string.', example: '0.00',
    },
    balance_total: {
      type: 'string', pattern: MONEY, readOnly: true,
      description: 'Total outstanding balance, as a decimal string.', example: '0.00',
    },
    estimated_balance: {
      type: 'string', pattern: MONEY, readOnly: true,
      description: 'Estimated patient balance after expected insurance payments, as a decimal string.',
    },
    insurance_estimate: {
      type: 'string', pattern: MONEY, readOnly: true,
      description: 'Estimated amount expected from insurance, as a decimal string.',
    },
    payment_plan_due: {
      type: 'string', pattern: MONEY, readOnly: true,
      description: 'Amount currently due on the payment plan, as a decimal string.',
    },
    latest_vitals_date: {
      type: 'date', readOnly: true,
      description: "Latest date_taken of the patient's vital signs that are not archived (null when none); kept by the system with every vital-signs write.",
    },
    smoking_snomed: {
      type: 'string', maxLength: 50, readOnly: true,
      description: "SNOMED CT code of the patient's smoking status.",
    },
  },
  computed: {
    scheduling_restricted: {
      type: 'boolean',
      description:
        "Whether this patient has a scheduling hold. Derived from patient status and balance: true when status is 'inactive' or balance_total exceeds $500.",
      compute: (record) => {
        if (record.status === 'inactive') return true;
        const raw = record.balance_total;
        const balance = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : 0;
        return Number.isFinite(balance) && balance > 500;
      },
    },
  },
  // Seed 001 §1.1 `tag_definition_uuid`: patients with this tag assigned (definitions/patient-tags.ts).
  relatedFilters: {
    tag_definition_id: {
      resource: 'patient-tag', foreignKey: 'patient_id', field: 'tag_definition_id',
      description: 'Patients with this tag (a patient-tag-definitions id) assigned. A tag definition that does not exist in the organization, or is archived, is a 404 `not_found`.',
    },
  },
  indexes: [{ columns: ['status', 'last_name'] }, { columns: ['last_name'] }, { columns: ['date_of_birth'] }],
  // Exact totals of the common list filters, kept in each write's transaction (README: count keys).
  counts: [[], ['status'], ['gender'], ['status', 'gender']],
  // Each organization's custom fields (patient-field-definitions), kept in patient-field-values:
  // `?field.<key>=` filters and `sort=field.<key>` on the list (app/custom-fields/).
  customFields: { values: 'patient-field-value' },
  admin: {
    group: 'Patients',
    icon: 'User',
    listProperties: ['last_name', 'first_name', 'date_of_birth', 'status', 'chart_number'],
  },
});
