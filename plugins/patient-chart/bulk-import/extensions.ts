import type { ImportExtension } from '../../../app/operations/bulk-import.js';
import { fieldValuesImport } from '../custom-fields/import-values.js';

/**
 * What patient imports do beyond the patient record: each extension claims keys of the rows
 * (custom field values: `field_values`), validates them per row and writes its rows in the
 * batch's transaction (app/operations/bulk-import.ts, ImportExtension). A key no extension
 * claims is an unknown field like any other.
 */
export const importExtensions: ImportExtension[] = [fieldValuesImport];
