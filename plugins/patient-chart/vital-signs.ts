// Seed 001 §2.9 / §3.19: the one table of vital-sign limits. It gives the range a reading must
// fall in to be accepted at all (`bounds`, physiologically possible values: anything outside is
// a typing error), and the thresholds of the server-computed `abnormal_flags` and
// `is_procedure_blocking`. The definition (definitions/patient-vital-signs.ts) takes its integer
// bounds and its descriptions from here, and the patient-chart plugin checks the decimal ones.
//
// Thresholds are inclusive ranges of acceptable values: a value outside `normal` is a warning, a
// value outside `critical` is critical, and any critical flag blocks dental procedures until a
// provider reviews it. The seed's examples fix two of them: BP > 180/120 and SpO2 < 94 % are
// critical, so 180/120 and 94 % themselves are not. The others follow common adult reference
// ranges (BMI percentile: the CDC's underweight / overweight cut-offs). Height and weight have no
// flags: without age and sex they say nothing abnormal on their own (BMI does).

/** [low, high], inclusive; null leaves that side open. */
export type Range = readonly [number | null, number | null];

export interface VitalLimits {
  label: string;
  unit: string;
  /** Stored as an integer; otherwise a decimal string (like the money fields of a patient). */
  integer: boolean;
  /** What a reading must lie within to be accepted. */
  bounds: readonly [number, number];
  /** Outside this: a warning. */
  normal?: Range;
  /** Outside this: critical, and the reading blocks procedures. */
  critical?: Range;
}

export const VITAL_LIMITS = {
  bp_systolic: { label: 'Systolic blood pressure', unit: 'mmHg', integer: true, bounds: [40, 300], normal: [90, 139], critical: [70, 180] },
  bp_diastolic: { label: 'Diastolic blood pressure', unit: 'mmHg', integer: true, bounds: [20, 200], normal: [60, 89], critical: [40, 120] },
  pulse: { label: 'Pulse', unit: 'bpm', integer: true, bounds: [20, 300], normal: [60, 100], critical: [40, 130] },
  respiration_rate: { label: 'Respiration rate', unit: 'breaths/min', integer: true, bounds: [4, 80], normal: [12, 20], critical: [8, 30] },
  oxygen_saturation: { label: 'Oxygen saturation (SpO2)', unit: '%', integer: true, bounds: [50, 100], normal: [95, null], critical: [94, null] },
  temperature_f: { label: 'Temperature', unit: '°F', integer: false, bounds: [80, 115], normal: [97, 99.5], critical: [95, 103] },
  bmi: { label: 'BMI', unit: 'kg/m²', integer: false, bounds: [5, 150], normal: [18.5, 29.9] },
  bmi_percentile: { label: 'BMI percentile', unit: 'percentile', integer: true, bounds: [0, 100], normal: [5, 84] },
  height_inches: { label: 'Height', unit: 'in', integer: false, bounds: [10, 108] },
  weight_lbs: { label: 'Weight', unit: 'lb', integer: false, bounds: [1, 1500] },
} as const satisfies Record<string, VitalLimits>;

export type VitalName = keyof typeof VITAL_LIMITS;
export const VITAL_NAMES = Object.keys(VITAL_LIMITS) as VitalName[];

export type Severity = 'warning' | 'critical';

export interface AbnormalFlag {
  vital: VitalName;
  message: string;
  severity: Severity;
}

/** A stored value as a number: integers as they are, decimal strings parsed; anything else is absent. */
function numeric(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** How a value leaves a range: 'below' or 'above' it, with the limit it passes; null when inside. */
function outside(value: number, range: Range | undefined): { side: 'below' | 'above'; limit: number } | null {
  if (!range) return null;
  const [low, high] = range;
  if (low !== null && value < low) return { side: 'below', limit: low };
  if (high !== null && value > high) return { side: 'above', limit: high };
  return null;
}

/** The flags of one reading, one per vital out of range (the critical one when both apply), in table order. */
export function abnormalFlags(record: Record<string, unknown>): AbnormalFlag[] {
  const flags: AbnormalFlag[] = [];
  for (const vital of VITAL_NAMES) {
    const value = numeric(record[vital]);
    if (value === null) continue;
    const limits: VitalLimits = VITAL_LIMITS[vital];
    const critical = outside(value, limits.critical);
    const hit = critical ?? outside(value, limits.normal);
    if (!hit) continue;
    const severity: Severity = critical ? 'critical' : 'warning';
    const range = severity === 'critical' ? 'critical' : 'normal';
    flags.push({
      vital,
      severity,
      message: `${limits.label} ${value} ${limits.unit} is ${hit.side} the ${range} ${hit.side === 'below' ? 'minimum' : 'maximum'} of ${hit.limit} ${limits.unit}`,
    });
  }
  return flags;
}

/** Whether any vital of the reading is critical: dental procedures wait for a provider's review. */
export function isProcedureBlocking(record: Record<string, unknown>): boolean {
  return abnormalFlags(record).some((f) => f.severity === 'critical');
}

/** The accepted range of a vital, for descriptions: `between 40 and 300 mmHg`. */
export function boundsText(vital: VitalName): string {
  const { bounds, unit } = VITAL_LIMITS[vital];
  return `between ${bounds[0]} and ${bounds[1]} ${unit}`;
}

/** The thresholds of a vital, for descriptions. */
export function thresholdsText(vital: VitalName): string {
  const limits: VitalLimits = VITAL_LIMITS[vital];
  const outsideOf = (r: Range) => (r[0] === null ? `above ${r[1]}` : r[1] === null ? `below ${r[0]}` : `outside ${r[0]}–${r[1]}`);
  const parts: string[] = [];
  if (limits.normal) parts.push(`a warning ${outsideOf(limits.normal)}`);
  if (limits.critical) parts.push(`critical (blocks procedures) ${outsideOf(limits.critical)}`);
  return parts.length ? `Flagged: ${parts.join('; ')}.` : 'Never flagged.';
}

/**
 * Decimal readings that lie outside their bounds, as the details of a validation error. Integer
 * readings are bounded by the definition's schema; decimal strings cannot be, so they are checked here.
 */
export function decimalBoundsProblems(values: Record<string, unknown>): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  for (const vital of VITAL_NAMES) {
    const limits: VitalLimits = VITAL_LIMITS[vital];
    if (limits.integer || !(vital in values)) continue;
    const value = numeric(values[vital]);
    if (value === null) continue;
    if (value < limits.bounds[0] || value > limits.bounds[1]) problems.push({ path: `/body/${vital}`, message: `must be ${boundsText(vital)}` });
  }
  return problems;
}
