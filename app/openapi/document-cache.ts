// The documents served at /api/openapi.json, built once each: the full one and one per scope set
// (keys with the same scopes share it). Scope sets are few in practice; the map is bounded anyway,
// dropping the least recently served set first.

import type { Registry } from '../core/registry.js';
import { buildOpenApiDocument, type OpenApiOptions } from './document.js';

type Build = typeof buildOpenApiDocument;

export class OpenApiDocumentCache {
  private full: string | undefined;
  private readonly scoped = new Map<string, string>();

  constructor(
    private readonly registry: Registry,
    private readonly options: Omit<OpenApiOptions, 'scopes'> = {},
    private readonly maxScopeSets = 100,
    private readonly build: Build = buildOpenApiDocument,
  ) {}

  /** The full document as JSON text. */
  fullDocument(): string {
    this.full ??= JSON.stringify(this.build(this.registry, this.options));
    return this.full;
  }

  /** The document of a scope set as JSON text; order and repeats of the scopes do not matter. */
  scopedDocument(scopes: readonly string[]): string {
    const set = [...new Set(scopes)].sort();
    const key = set.join(' ');
    let text = this.scoped.get(key);
    if (text === undefined) {
      text = JSON.stringify(this.build(this.registry, { ...this.options, scopes: set }));
      if (this.scoped.size >= this.maxScopeSets) this.scoped.delete(this.scoped.keys().next().value!);
    } else {
      this.scoped.delete(key); // re-inserted below: Map order is the recency order
    }
    this.scoped.set(key, text);
    return text;
  }

}
