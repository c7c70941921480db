// The published MQTT contract: docs/asyncapi.json and docs/schemas/*.json are what `npm run contract` generates from the
// code (so they cannot drift), the AsyncAPI document validates as AsyncAPI 3.0, and the source systems' exact payloads
// validate against the files as checked in, while a payload of the wrong type does not.
import specs from '@asyncapi/specs';
import { Ajv, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { readdirSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { asyncApiDocument, channels, contractFiles, payloadSchemas, rulesOf } from '../../../bin/contract/documents.js';
import { createAssetModel } from '../../../device/assets/index.js';
import { gatewayTelemetry, parseInventory } from '../../../device/site.js';
import { rules } from '../../../lambdas/core/contracts/rules.js';
import { fixture, fixtureText } from '../../fixture.js';

const root = new URL('../../../', import.meta.url);
const onDisk = (path: string) => readFileSync(new URL(path, root), 'utf8');
const schemaFile = (name: string) => JSON.parse(onDisk(`docs/schemas/${name}.schema.json`)) as Record<string, unknown>;

const ajv = new Ajv2020({ strict: false, allErrors: true });
const validators = new Map<string, ValidateFunction>();
function validatorOf(name: string): ValidateFunction {
  if (!validators.has(name)) validators.set(name, ajv.compile(schemaFile(name)));
  return validators.get(name)!;
}
function errorsOf(name: string, payload: unknown): string[] {
  const validate = validatorOf(name);
  return validate(payload) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '(root)'} ${e.message}`);
}

/** The source documents' example payloads (test/fixtures/), by the schema each is sent as. */
const SEED_PAYLOADS: [schema: string, fixture: string][] = [
  ['metering', 'volttron-metering'],
  ['loads-snapshot', 'volttron-loads-snapshot'],
  ['command', 'volttron-event-command'],
  ['command', 'volttron-restore-command'],
  ['command', 'volttron-ping-command'],
  ['ack', 'volttron-event-ack'],
  ['ack', 'volttron-restore-ack'],
  ['shadow-reported', 'volttron-shadow-reported'],
  ['winter-river-status', 'winter-river-status'],
  ['winter-river-command', 'winter-river-command'],
];

describe('the generated contract files', () => {
  it('are what `npm run contract` generates from the code, byte for byte', () => {
    const files = contractFiles();
    const stale = Object.entries(files).filter(([path, text]) => {
      try {
        return onDisk(path) !== text;
      } catch {
        return true;
      }
    });
    expect(
      stale.map(([path]) => path),
      'run `npm run contract` and commit docs/',
    ).toEqual([]);
    const schemaFiles = readdirSync(new URL('docs/schemas/', root)).map((f) => `docs/schemas/${f}`);
    expect(schemaFiles.sort(), 'a file in docs/schemas/ that nothing generates').toEqual(
      Object.keys(files)
        .filter((p) => p.startsWith('docs/schemas/'))
        .sort(),
    );
  });

  it('notices a schema that changed in the code', () => {
    const metering = JSON.parse(contractFiles()['docs/schemas/metering.schema.json']!) as { required: string[] };
    expect(metering.required).toEqual(schemaFile('metering').required);
    expect(metering.required).toEqual(['venId', 'timestamp', 'usedPowerKw']);
  });
});

describe('the payload JSON Schemas', () => {
  it.each(SEED_PAYLOADS)('%s validates the example payload %s exactly as sent', (schema, name) => {
    expect(errorsOf(schema, JSON.parse(fixtureText(name)))).toEqual([]);
  });

  it('validate a metering batch of the example sample, and the DER gateway document the gateway agent publishes', () => {
    const sample = fixture('volttron-metering');
    expect(
      errorsOf('metering-batch', {
        venId: sample.venId,
        batch: [sample, { ...sample, timestamp: (sample.timestamp as number) + 5 }],
      }),
    ).toEqual([]);
    const inventory = parseInventory(onDisk('device/inventory.example.yaml'));
    if (!inventory.ok) throw new Error(inventory.message);
    const now = Date.UTC(2026, 5, 1, 12);
    for (const site of inventory.sites) {
      const models = site.assets.map((a) => createAssetModel(a, now));
      expect(
        errorsOf('der-gateway-telemetry', gatewayTelemetry(`gw-${site.site_id}`, site, models, now)),
        site.site_id,
      ).toEqual([]);
    }
  });

  it("validate the inventory files (the example and the tests')", () => {
    for (const file of ['device/inventory.example.yaml', 'test/api/fixtures/inventory.yaml']) {
      expect(errorsOf('inventory', parseYaml(onDisk(file))), file).toEqual([]);
    }
  });

  it('refuse a payload of the wrong type, naming the field', () => {
    expect(errorsOf('metering', { ...fixture('volttron-metering'), usedPowerKw: '5.2' })).toEqual([
      '/usedPowerKw must be number',
    ]);
    const { venId: _, ...noVen } = fixture('volttron-metering');
    expect(errorsOf('metering', noVen)).toEqual(["(root) must have required property 'venId'"]);
    expect(errorsOf('ack', { ...fixture('volttron-event-ack'), status: 'maybe' })).not.toEqual([]);
    expect(errorsOf('winter-river-status', { ...fixture('winter-river-status'), node_id: 'has space' })).toEqual([
      '/node_id must match pattern "^[a-zA-Z0-9:_-]{1,128}$"',
    ]);
    expect(
      errorsOf('inventory', {
        sites: [{ site_id: 's1', assets: [{ asset_id: 'a', asset_type: 'pv', capacity_mw: 'big' }] }],
      }),
    ).not.toEqual([]);
  });
});

describe('the AsyncAPI document', () => {
  const doc = JSON.parse(onDisk('docs/asyncapi.json')) as {
    channels: Record<
      string,
      { address: string; messages: Record<string, { $ref: string }>; 'x-publisher': string; 'x-rules': string[] }
    >;
    operations: Record<string, { action: string; bindings: { mqtt: { qos: number } } }>;
    components: { schemas: Record<string, object> };
  };

  it('validates as AsyncAPI 3.0', () => {
    const validate = new Ajv({
      strict: false,
      allErrors: true,
      validateFormats: false,
      meta: false,
      validateSchema: false,
    }).compile(specs.schemas['3.0.0'] as object);
    const ok = validate(asyncApiDocument());
    expect(validate.errors ?? [], JSON.stringify(validate.errors?.slice(0, 3))).toEqual([]);
    expect(ok).toBe(true);
    // and the check can fail: an operation with an action AsyncAPI does not have
    const broken = asyncApiDocument() as { operations: Record<string, { action: string }> };
    broken.operations.publishMetering!.action = 'publish';
    expect(validate(broken)).toBe(false);
  });

  it('has every topic with who publishes, its QoS, its payloads and the rule that reads it', () => {
    expect(Object.keys(doc.channels)).toEqual(channels.map((c) => c.id));
    expect(doc.channels.metering).toMatchObject({
      address: 'volttron/metering',
      'x-publisher': 'device',
      'x-rules': ['metering'],
    });
    expect(doc.channels.venCommand).toMatchObject({
      address: 'ven/cmd/{venId}',
      'x-publisher': 'cloud',
      'x-rules': [],
    });
    expect(doc.channels.winterRiverStatus!['x-rules']).toEqual(['winter_river']);
    expect(doc.channels.winterRiverCommand!['x-rules']).toEqual([]);
    expect(doc.operations.publishMetering).toMatchObject({ action: 'send', bindings: { mqtt: { qos: 1 } } });
    expect(doc.operations.receiveVenCommand).toMatchObject({ action: 'receive', bindings: { mqtt: { qos: 1 } } });
    // every rule reads a topic the document has
    const read = new Set(channels.flatMap((c) => rulesOf(c.address)));
    expect(rules.map((r) => r.name).filter((r) => !read.has(r))).toEqual([]);
  });

  it("carries each payload's schema, and the example payloads validate against it there too", () => {
    const draft7 = new Ajv({ strict: false, allErrors: true });
    const camel = (n: string) => n.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase());
    for (const [schema, name] of SEED_PAYLOADS) {
      const validate = draft7.compile(doc.components.schemas[camel(schema)]!);
      expect(validate(JSON.parse(fixtureText(name))), `${name}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    expect(Object.keys(doc.components.schemas)).toEqual(
      payloadSchemas.filter((p) => p.name !== 'inventory').map((p) => camel(p.name)),
    );
  });
});
