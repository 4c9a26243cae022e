import { AppError, validationError } from '../../../app/core/errors.js';
import type { WriteState } from '../../../app/core/plugin.js';

// The rules of a custom field's definition that its JSON Schema cannot state: a key derived from
// the name, choices that fit the type, and no change that would strand stored values.

const CHOICE_TYPES = new Set(['select', 'multi_select']);
/** A multi_select value is stored as `|a|b|` in one indexed column: the choices must fit it. */
const MAX_MULTI_SELECT_TEXT = 1000;

/** `Preferred pharmacy (main)` → `preferred_pharmacy_main`: what a create without a key gets. */
export function keyFromName(name: string): string {
  const words = name.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().match(/[a-z0-9]+/g) ?? [];
  let key = words.join('_').slice(0, 40).replace(/_+$/, '');
  if (!/^[a-z]/.test(key)) key = `f_${key}`.slice(0, 40).replace(/_+$/, '');
  return key === 'f' ? 'field' : key;
}

/** beforeValidate: a create that names no key takes one from the name. */
export function deriveKey(state: WriteState): void {
  if (state.operation !== 'create') return;
  const { input } = state;
  if ((input.key === undefined || input.key === null || input.key === '') && typeof input.name === 'string' && input.name.trim()) {
    state.input = { ...input, key: keyFromName(input.name) };
  }
}

/** beforeChange: choices exactly for the choice types, distinct whatever the case, without `|`. */
export function checkChoices(state: WriteState): void {
  const value = (f: string) => (f in state.data ? state.data[f] : state.current?.[f]);
  const type = value('field_type') as string;
  const options = (value('dropdown_options') as string[] | null | undefined) ?? [];
  const problems: { path: string; message: string }[] = [];
  if (CHOICE_TYPES.has(type)) {
    if (!options.length) problems.push({ path: '/body/dropdown_options', message: `a ${type} field needs at least one option` });
    const seen = new Set<string>();
    for (const o of options) {
      if (o.includes('|')) problems.push({ path: '/body/dropdown_options', message: `option '${o}' may not contain '|'` });
      if (o.trim() !== o || o === '') problems.push({ path: '/body/dropdown_options', message: `option '${o}' may not start or end with spaces` });
      const folded = o.toLowerCase();
      if (seen.has(folded)) problems.push({ path: '/body/dropdown_options', message: `option '${o}' is given twice` });
      seen.add(folded);
    }
    if (type === 'multi_select' && options.join('|').length > MAX_MULTI_SELECT_TEXT) {
      problems.push({ path: '/body/dropdown_options', message: `a multi_select field's options may hold at most ${MAX_MULTI_SELECT_TEXT} characters in all` });
    }
  } else if (options.length) {
    problems.push({ path: '/body/dropdown_options', message: `only select and multi_select fields have options, not ${type}` });
  }
  if (problems.length) throw validationError(problems);
}

/**
 * beforeChange on update: the type is fixed once a patient has a value (the values are stored by
 * type), and a chosen option stays until no patient has it.
 */
export async function protectStoredValues(state: WriteState): Promise<void> {
  const current = state.current!;
  const id = current.id as string;
  const values = () => state.query('patient-field-value').where('field_definition_id', id).where('is_set', true);
  if ('field_type' in state.data && state.data.field_type !== current.field_type) {
    const used = await values().first();
    if (used) {
      throw new AppError('field_type_locked', `The field has values: its type stays ${String(current.field_type)}`, [
        { path: '/body/field_type', message: 'cannot change once a patient has a value' },
      ]);
    }
  }
  if ('dropdown_options' in state.data && CHOICE_TYPES.has(current.field_type as string)) {
    const kept = new Set((state.data.dropdown_options as string[] | null) ?? []);
    const removed = ((current.dropdown_options as string[] | null) ?? []).filter((o) => !kept.has(o));
    for (const option of removed) {
      const holds = current.field_type === 'multi_select'
        ? values().whereRaw(`"value_text" like ? escape '\\'`, [`%|${option.replace(/[\\%_]/g, '\\$&')}|%`])
        : values().where('value_text', option);
      if (await holds.first()) {
        throw new AppError('option_in_use', `Patients have chosen '${option}': it cannot be removed`, [
          { path: '/body/dropdown_options', message: `'${option}' is chosen by patients`, option },
        ]);
      }
    }
  }
}

/** The most live custom fields an organization may have: a form longer than this helps no one. */
export const MAX_LIVE_FIELDS = 100;

/** beforeChange on create and restore: at most MAX_LIVE_FIELDS live fields per organization. */
export async function limitFieldCount(state: WriteState): Promise<void> {
  const counted = (await state.query('patient-field-definition').count({ n: '*' })) as unknown as { n: number | string }[];
  if (Number(counted[0]?.n ?? 0) >= MAX_LIVE_FIELDS) {
    throw new AppError('too_many_fields', `The organization has ${MAX_LIVE_FIELDS} live custom fields already: archive one first`);
  }
}
