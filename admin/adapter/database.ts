import { BaseDatabase } from 'adminjs';
import type { Runtime } from '../../app/runtime.js';
import { DefinitionResource, DefinitionSource } from './resource.js';

/** What AdminJS is given as a "database": the runtime whose exposed definitions become resources. */
export class DefinitionsSource {
  constructor(readonly rt: Runtime) {}
}

/** Every definition the API serves is a resource, with no admin code per resource. */
export class DefinitionDatabase extends BaseDatabase {
  private readonly rt: Runtime;

  static isAdapterFor(raw: unknown): boolean {
    return raw instanceof DefinitionsSource;
  }

  constructor(source: DefinitionsSource) {
    super(source);
    this.rt = source.rt;
  }

  resources(): DefinitionResource[] {
    return this.rt.registry.exposed().map((def) => new DefinitionResource(new DefinitionSource(this.rt, def.name)));
  }
}
