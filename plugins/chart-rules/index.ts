import { AppError } from '../../app/core/errors.js';
import { definePlugin } from '../../app/core/plugin.js';

// Seed 001 §3.19: a patient medication names its drug by a catalog entry or, failing that, by
// free text (med_descript). A row with neither says nothing about what the patient takes, so a
// create, or an update that would clear the last of the two, is refused.
export default definePlugin({
  name: 'chart-rules',
  hooks: {
    beforeChange: [{
      resource: 'patient-medication',
      operations: ['create', 'update'],
      hook: (state) => {
        const merged = { ...(state.current ?? {}), ...state.data };
        const named = (v: unknown) => typeof v === 'string' && v.trim() !== '';
        if (named(merged.medication_definition_id) || named(merged.med_descript)) return;
        throw new AppError('unprocessable', 'A medication needs medication_definition_id or med_descript', [
          { path: '/body/medication_definition_id', message: 'give a catalog entry or a free-text med_descript' },
          { path: '/body/med_descript', message: 'give a catalog entry or a free-text med_descript' },
        ]);
      },
    }],
  },
});
