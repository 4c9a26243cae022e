import { fileURLToPath } from 'node:url';
import { Spectral, type ISpectralDiagnostic, type RulesetDefinition } from '@stoplight/spectral-core';
import { oas } from '@stoplight/spectral-rulesets';
import { expect } from 'chai';
import { Registry, loadDefinitionDirs } from '../../app/core/registry.js';
import { systemDefinitions } from '../../app/core/system-definitions.js';
import { Kernel, loadPluginDirs } from '../../app/kernel/kernel.js';
import { pluginActions } from '../../app/openapi/action-paths.js';
import { buildOpenApiDocument, type OpenApiAction } from '../../app/openapi/document.js';
import { DEFAULT_PLUGIN_DIRS } from '../../app/runtime.js';

const DEFINITIONS_DIR = fileURLToPath(new URL('../../definitions', import.meta.url));

/**
 * Spectral rules this project does not follow, with the reason. Empty: every finding of the
 * `spectral:oas` recommended ruleset, warnings included, fails the test.
 */
const IGNORED_RULES: Record<string, string> = {};

/** Spectral's `spectral:oas` ruleset (its recommended rules) over one document. */
async function lint(doc: unknown): Promise<ISpectralDiagnostic[]> {
  const spectral = new Spectral();
  // The exported ruleset object does not line up with its declared type; it is a ruleset.
  spectral.setRuleset({ extends: [oas as RulesetDefinition] });
  // JSON is YAML: Spectral's default parser reads it and maps findings to document paths.
  const results = await spectral.run(JSON.stringify(doc, null, 2));
  return results.filter((r) => !(String(r.code) in IGNORED_RULES));
}

const describeFindings = (results: ISpectralDiagnostic[]) =>
  results.slice(0, 20).map((r) => `${r.severity === 0 ? 'error' : r.severity === 1 ? 'warning' : 'info'} ${r.code}: ${r.message} at ${r.path.join('.')}`).join('\n');

// The plugins of plugins/ as the server documents them (patient-chart's transition-status among
// them), and a nested collection action no plugin has yet.
let ACTIONS: OpenApiAction[] = [];
const STAND_INS: OpenApiAction[] = [
  {
    resource: 'ticket-comment',
    name: 'bulk-import',
    on: 'collection',
    summary: 'Import comments',
    scope: 'tickets:write',
    input: { type: 'object', properties: { rows: { type: 'array', items: { type: 'object' } } }, required: ['rows'] },
    output: { type: 'object', properties: { imported: { type: 'integer' } }, required: ['imported'] },
    errors: [],
  },
];

describe('OpenAPI document under Spectral (spectral:oas)', function () {
  this.timeout(60_000);
  let registry: Registry;

  before(async () => {
    registry = new Registry([...systemDefinitions, ...(await loadDefinitionDirs([DEFINITIONS_DIR]))]);
    ACTIONS = [...pluginActions(new Kernel(await loadPluginDirs(DEFAULT_PLUGIN_DIRS)), registry), ...STAND_INS];
    expect(ACTIONS.map((a) => `${a.resource}/${a.name}`)).to.include('patient/transition-status');
  });

  it('has no error and no warning in the full document', async () => {
    const results = await lint(buildOpenApiDocument(registry, { serverUrl: 'https://emr.example.com', rateLimitPerMinute: 100 }));
    expect(results, describeFindings(results)).to.deep.equal([]);
  });

  it('has none in scoped documents, with plugin actions, where operations and components drop out', async () => {
    for (const scopes of [['patients:read'], ['patients:write', 'patients:sensitive'], ['*:read'], ['tickets:write', 'audit:read'], ['kb:read'], ['*']]) {
      const results = await lint(buildOpenApiDocument(registry, { scopes, actions: ACTIONS }));
      expect(results, `${scopes.join(' ')}\n${describeFindings(results)}`).to.deep.equal([]);
    }
  });

  it('can fail: it reports the warnings of a flawed document', async () => {
    const doc = buildOpenApiDocument(registry) as any;
    doc.paths['/api/v1/{org}/patients'].get.security = [{ bearerAuth: ['patients:read'] }];
    doc.components.schemas.Orphan = { type: 'object' };
    const codes = (await lint(doc)).map((r) => r.code);
    expect(codes).to.include.members(['oas3-operation-security-defined', 'oas3-unused-component']);
  });
});
