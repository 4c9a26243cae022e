import { BaseProperty, type PropertyType } from 'adminjs';
import { filterOperators } from '../../app/core/define.js';
import type { ComputedFieldDefinition, FieldDefinition, ResolvedDefinition } from '../../app/core/types.js';

// AdminJS properties from a definition's fields: the type, the enum's values, the reference a
// picker offers, whether it is required, editable, sortable, an array.

export interface PropertySpec {
  path: string;
  type: PropertyType;
  position: number;
  isId?: boolean;
  sortable?: boolean;
  values?: readonly string[];
  reference?: string;
  required?: boolean;
  editable?: boolean;
  array?: boolean;
}

export class DefinitionProperty extends BaseProperty {
  constructor(private readonly spec: PropertySpec) {
    super({ path: spec.path, type: spec.type, isId: spec.isId ?? false, isSortable: spec.sortable ?? false, position: spec.position });
  }

  availableValues(): string[] | null {
    return this.spec.values ? [...this.spec.values] : null;
  }

  reference(): string | null {
    return this.spec.reference ?? null;
  }

  isRequired(): boolean {
    return this.spec.required ?? false;
  }

  isEditable(): boolean {
    return this.spec.editable ?? false;
  }

  isArray(): boolean {
    return this.spec.array ?? false;
  }
}

function fieldType(field: FieldDefinition): PropertyType {
  switch (field.type) {
    case 'text': return 'textarea';
    case 'integer': return 'number';
    case 'number': return 'float';
    case 'boolean': return 'boolean';
    case 'date': return 'date';
    case 'datetime': return 'datetime';
    case 'uuid': return field.ref ? 'reference' : 'uuid';
    case 'json': return 'key-value';
    default: return 'string';
  }
}

function computedType(c: ComputedFieldDefinition): PropertyType {
  if (c.type === 'integer' || c.type === 'number') return 'number';
  if (c.type === 'boolean') return 'boolean';
  return 'string';
}

/** The virtual property naming a tenant record's organization (its slug); filtering by it picks the organization. */
export const ORGANIZATION_PROPERTY = 'organization';

/** Whether AdminJS may offer the field as a filter: the definition marks it filterable. */
export function isFilterable(field: FieldDefinition | undefined): boolean {
  return !!field && filterOperators(field).length > 0;
}

export function propertiesOf(def: ResolvedDefinition, exposed: ReadonlySet<string>): DefinitionProperty[] {
  const props: DefinitionProperty[] = [];
  let position = 0;
  const writable = new Set(def.writableFields);
  for (const name of def.outputFields) {
    position += 1;
    const computed = def.computed?.[name];
    if (computed) {
      props.push(new DefinitionProperty({ path: name, type: computedType(computed), position, array: computed.type === 'array' }));
      continue;
    }
    const column = def.columns.find((c) => c.name === name);
    if (!column) continue;
    const field = column.field;
    const ref = field.ref && exposed.has(field.ref) ? field.ref : undefined;
    props.push(new DefinitionProperty({
      path: name,
      type: field.type === 'uuid' && field.ref && !ref ? 'uuid' : fieldType(field),
      position,
      isId: name === 'id',
      sortable: name === 'id' || !!field.sort,
      values: field.type === 'enum' ? field.values : undefined,
      reference: ref,
      required: !!field.required && !column.system,
      // The parent field is set when a nested record is created (it is its parent's id).
      editable: !column.system && (writable.has(name) || name === def.parent?.field),
      array: field.type === 'string[]',
    }));
  }
  if (def.tenant) props.push(new DefinitionProperty({ path: ORGANIZATION_PROPERTY, type: 'string', position: 0, editable: true }));
  return props;
}
