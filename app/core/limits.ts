// Figures that several layers state (the query schema, the list operation, the OpenAPI text):
// each lives here once.

/** Rows in a list page when the caller names no limit. */
export const DEFAULT_PAGE_SIZE = 50;
/** The largest page any list returns; a larger `limit` or `page_size` is a 400, never a clamp. */
export const MAX_PAGE_SIZE = 100;
/** Children embedded per record by `?include=` of a has-many relation; the rest are paged at their own route. */
export const MAX_EMBEDDED_CHILDREN = 20;
