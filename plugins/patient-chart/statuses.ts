// The patient status lifecycle of seed 001 (catalog §3.8).

export const PATIENT_STATUSES = ['active', 'inactive', 'prospective', 'deceased', 'archived'] as const;
export type PatientStatus = (typeof PATIENT_STATUSES)[number];

/**
 * The moves transition-status allows, verbatim from the catalog. `deceased` is terminal and
 * `archived` is reached only through the archive endpoint, so neither has a way out here.
 */
export const ALLOWED_MOVES: Readonly<Record<PatientStatus, readonly PatientStatus[]>> = {
  prospective: ['active'],
  active: ['inactive', 'deceased'],
  inactive: ['active'],
  deceased: [],
  archived: [],
};
