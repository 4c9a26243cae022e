// Small building blocks shared by the generators of the OpenAPI document.

export type Obj = Record<string, any>;

export const JSON_TYPE = 'application/json';

export const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });
export const responseRef = (name: string) => ({ $ref: `#/components/responses/${name}` });
export const paramRef = (name: string) => ({ $ref: `#/components/parameters/${name}` });
export const headerRef = (name: string) => ({ $ref: `#/components/headers/${name}` });

/** A deep copy without `undefined` values (the document is served as JSON). */
export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The `{"data": ...}` envelope of one result. */
export function dataEnvelope(data: Obj): Obj {
  return {
    type: 'object',
    properties: { data },
    required: ['data'],
    additionalProperties: false,
  };
}

export function jsonContent(schema: Obj): Obj {
  return { [JSON_TYPE]: { schema } };
}
