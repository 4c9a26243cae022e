// The figures of patient imports (POST /patients/bulk), read when used so that tests can set
// them in the environment:
//   PATIENT_IMPORT_SYNC_LIMIT   most rows answered at once (200); more run as a job (202). 1000
//   PATIENT_IMPORT_CHUNK_ROWS   rows a job applies per transaction (with its cursor). 2000
//   PATIENT_IMPORT_MAX_ROWS     most rows one import may carry (more is 413). 1,000,000
// The route's body may be up to PATIENT_IMPORT_BODY_LIMIT (default 500mb, read at start), far
// above the API's BODY_LIMIT: a million rows of JSON are a few hundred megabytes.

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return n;
}

export const syncLimit = () => positive('PATIENT_IMPORT_SYNC_LIMIT', 1000);
export const chunkRows = () => positive('PATIENT_IMPORT_CHUNK_ROWS', 2000);
export const maxRows = () => positive('PATIENT_IMPORT_MAX_ROWS', 1_000_000);
export const bodyLimit = process.env.PATIENT_IMPORT_BODY_LIMIT || '500mb';

/** Failed rows a finished import job lists in its result; the counts cover them all. */
export const MAX_REPORTED_FAILURES = 10_000;
