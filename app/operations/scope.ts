import type { OperationContext } from '../core/context.js';
import type { ResolvedDefinition } from '../core/types.js';
import type { Runtime } from '../runtime.js';
import type { Scope } from './records.js';

/** What every operation takes: the resource by definition name, the caller, and the parent for nested resources. */
export interface ResourceArgs {
  resource: string;
  ctx: OperationContext;
  /** The parent record's id, for nested resources (`/tickets/{ticket_id}/comments`). */
  parentId?: string;
}

/**
 * The scope of one operation: the context pinned to one schema generation (the one the request
 * started with, or the runtime's current one for other callers), and the resource's definition in it.
 */
export function openScope(rt: Runtime, args: ResourceArgs): { s: Scope; def: ResolvedDefinition } {
  const gen = args.ctx.schema ?? rt.schema;
  const ctx = args.ctx.schema ? args.ctx : { ...args.ctx, schema: gen };
  if (!gen.registry.has(args.resource)) throw new Error(`unknown resource '${args.resource}'`);
  return { s: { rt, ctx, gen }, def: gen.registry.get(args.resource) };
}
