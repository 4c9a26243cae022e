import type { Row } from '../app/operations/records.js';
import { REF_DATE, seededFaker } from './generators.js';

// Vital-sign readings of the demo patients: a Faker of its own (seeded) so that the rest of the
// demo data does not shift, dates relative to the fixed reference date. Each patient has a
// baseline (blood pressure, pulse, height, weight) that its readings vary around, so a chart reads
// like one person's; about one reading in ten is hypertensive and a few are critical (blocking).

export interface PatientVitalSigns {
  patientId: string;
  readings: Row[];
}

const ymd = (d: Date) => d.toISOString().slice(0, 10);
const clamp = (n: number, low: number, high: number) => Math.min(high, Math.max(low, n));

export function vitalSignBodies(patientIds: string[], providerIds: string[], seed: number): PatientVitalSigns[] {
  const f = seededFaker(seed);
  return patientIds.map((patientId) => {
    const readings: Row[] = [];
    if (!f.datatype.boolean(0.6)) return { patientId, readings };
    const height = f.number.float({ min: 58, max: 76, fractionDigits: 1 });
    const baseWeight = f.number.float({ min: 105, max: 260, fractionDigits: 1 });
    const baseSystolic = f.number.int({ min: 104, max: 138 });
    const basePulse = f.number.int({ min: 58, max: 88 });
    const n = f.number.int({ min: 1, max: 4 });
    for (let i = 0; i < n; i++) {
      const kind = f.helpers.weightedArrayElement([{ value: 'usual', weight: 87 }, { value: 'high', weight: 10 }, { value: 'critical', weight: 3 }]);
      let systolic = clamp(baseSystolic + f.number.int({ min: -8, max: 8 }), 92, 139);
      if (kind === 'high') systolic = f.number.int({ min: 140, max: 172 });
      if (kind === 'critical') systolic = f.number.int({ min: 182, max: 205 });
      const diastolic = clamp(Math.round(systolic * f.number.float({ min: 0.6, max: 0.68 })), 55, kind === 'critical' ? 124 : 110);
      const weight = clamp(baseWeight + f.number.float({ min: -4, max: 4, fractionDigits: 1 }), 95, 280);
      const reading: Row = {
        date_taken: ymd(f.date.past({ years: 3, refDate: REF_DATE })),
        time_taken: `${String(f.number.int({ min: 8, max: 17 })).padStart(2, '0')}:${f.helpers.arrayElement(['00', '15', '30', '45'])}`,
        bp_systolic: systolic,
        bp_diastolic: diastolic,
        pulse: clamp(basePulse + f.number.int({ min: -6, max: 10 }), 50, 110),
        respiration_rate: f.number.int({ min: 12, max: 19 }),
        oxygen_saturation: kind === 'critical' && f.datatype.boolean(0.3) ? f.number.int({ min: 89, max: 93 }) : f.number.int({ min: 95, max: 100 }),
        temperature_f: f.number.float({ min: 97.2, max: 99.3, fractionDigits: 1 }).toFixed(1),
        height_inches: height.toFixed(1),
        weight_lbs: weight.toFixed(1),
        bmi: ((703 * weight) / (height * height)).toFixed(1),
        has_followup_plan: kind !== 'usual' && f.datatype.boolean(0.5),
      };
      if (f.datatype.boolean(0.7)) reading.provider_id = f.helpers.arrayElement(providerIds);
      if (kind !== 'usual') reading.note = kind === 'critical' ? 'Elevated reading repeated after five minutes; provider notified.' : 'Blood pressure above goal; recheck at next visit.';
      readings.push(reading);
    }
    return { patientId, readings };
  });
}
