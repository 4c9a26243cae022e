// A scoped document leaves out operations, and with them the schemas, responses and parameters
// only those operations used. Removing what nothing refers to keeps every document free of
// unused components (Spectral's oas3-unused-component).

import type { Obj } from './common.js';

const COMPONENT_REF = /^#\/components\/([^/]+)\/([^/]+)/;

/** Deletes the components that nothing outside `components` refers to, directly or transitively. */
export function pruneUnusedComponents(doc: Obj): void {
  const components: Obj = doc.components ?? {};
  const reachable = new Set<string>();
  const pending: unknown[] = Object.entries(doc).filter(([key]) => key !== 'components').map(([, value]) => value);
  while (pending.length) {
    const node = pending.pop();
    if (Array.isArray(node)) {
      pending.push(...node);
      continue;
    }
    if (!node || typeof node !== 'object') continue;
    const ref = (node as Obj).$ref;
    const match = typeof ref === 'string' ? COMPONENT_REF.exec(ref) : null;
    if (match && !reachable.has(match[0])) {
      reachable.add(match[0]);
      pending.push(components[match[1]]?.[match[2]]);
    }
    pending.push(...Object.values(node));
  }
  // Security schemes are named by security requirements, not referred to with $ref.
  for (const [kind, entries] of Object.entries(components)) {
    if (kind === 'securitySchemes') continue;
    for (const name of Object.keys(entries as Obj)) {
      if (!reachable.has(`#/components/${kind}/${name}`)) delete (entries as Obj)[name];
    }
    if (!Object.keys(entries as Obj).length) delete components[kind];
  }
}
