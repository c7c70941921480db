// The platform's published contract, generated (never hand-written) from the code that enforces it: the HTTP API's
// OpenAPI document (lambdas/api/openapi.ts), the MQTT interface as AsyncAPI 3 (topics.ts, rules.ts and the wire
// schemas of schemas.ts / der-schemas.ts) and a JSON Schema file per payload and for the inventory YAML.
// `npm run contract` writes them into docs/; test/unit/contract-schemas.test.ts fails when the files on disk differ.
import * as z from 'zod';
import { openApiDocument, API_VERSION } from '../../lambdas/api/openapi.js';
import {
  edgeAckSchema,
  edgeCommandSchema,
  edgeStatusSchema,
  edgeTelemetrySchema,
} from '../../lambdas/core/contracts/edge-schemas.js';
import { derGatewayTelemetrySchema } from '../../lambdas/core/contracts/der-schemas.js';
import { inventoryFileSchema } from '../../lambdas/core/contracts/inventory.js';
import { rules } from '../../lambdas/core/contracts/rules.js';
import {
  ackSchema,
  commandSchema,
  loadsSnapshotSchema,
  MAX_PAYLOAD_BYTES,
  meteringBatchSchema,
  meteringSchema,
  presenceEventSchema,
  shadowReportedSchema,
  winterRiverCommandSchema,
  winterRiverStatusSchema,
} from '../../lambdas/core/contracts/schemas.js';
import { topics, topicMatches } from '../../lambdas/core/contracts/topics.js';

type Json = Record<string, unknown>;

/** One JSON Schema file of docs/schemas/: what it describes and the zod schema that enforces it. */
interface PayloadSchema {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  readonly schema: z.ZodType;
}

export const payloadSchemas: readonly PayloadSchema[] = [
  {
    name: 'metering',
    title: 'VEN metering',
    description: 'One metering sample of a VEN (the VOLTTRON VEN wire format).',
    schema: meteringSchema,
  },
  {
    name: 'metering-batch',
    title: 'VEN metering, batched',
    description: "Several metering samples of one VEN in one message (the agent's economy profile).",
    schema: meteringBatchSchema,
  },
  {
    name: 'loads-snapshot',
    title: 'VEN loads snapshot',
    description: "A VEN's controllable loads now.",
    schema: loadsSnapshotSchema,
  },
  {
    name: 'command',
    title: 'Command to a device',
    description: 'A shed event, restore, ping or dispatch, as the cloud publishes it.',
    schema: commandSchema,
  },
  {
    name: 'ack',
    title: 'Command acknowledgement',
    description: "A device's answer to a command, by the command's correlationId.",
    schema: ackSchema,
  },
  {
    name: 'shadow-reported',
    title: 'VEN shadow update',
    description: 'The reported state a VEN writes to its device shadow.',
    schema: shadowReportedSchema,
  },
  {
    name: 'der-gateway-telemetry',
    title: 'DER gateway telemetry',
    description: "A DER site gateway's document: the site and each asset's reading.",
    schema: derGatewayTelemetrySchema,
  },
  {
    name: 'winter-river-status',
    title: 'Winter River node status',
    description: "A Winter River node's status: `node_id` and `status`, every other numeric key a measure.",
    schema: winterRiverStatusSchema,
  },
  {
    name: 'winter-river-command',
    title: 'Winter River node command',
    description: 'A command to a Winter River node.',
    schema: winterRiverCommandSchema,
  },
  {
    name: 'presence-event',
    title: 'Presence event',
    description: "AWS IoT Core's lifecycle event for a client connecting or disconnecting.",
    schema: presenceEventSchema,
  },
  {
    name: 'edge-telemetry',
    title: 'Edge node telemetry',
    description: "A data-centre edge node's sample every 5 s: power, battery, host load and its rating in `meta`.",
    schema: edgeTelemetrySchema,
  },
  {
    name: 'edge-status',
    title: 'Edge node status',
    description: 'A data-centre edge node going online or offline.',
    schema: edgeStatusSchema,
  },
  {
    name: 'edge-command',
    title: 'Edge node command',
    description: 'A battery command to an edge node: charge, discharge, set_power or stop.',
    schema: edgeCommandSchema,
  },
  {
    name: 'edge-ack',
    title: 'Edge node acknowledgement',
    description: "An edge node's answer to a command, by correlationId.",
    schema: edgeAckSchema,
  },
  {
    name: 'inventory',
    title: 'Asset inventory file',
    description:
      "The DER sites and assets YAML (`npm run inventory`, the gateway agent's ASSETS_PATH); put `# yaml-language-server: $schema=inventory.schema.json` at its top for editor checks.",
    schema: inventoryFileSchema,
  },
];

/**
 * A key zod says must be absent (`z.undefined().optional()`: the DER core reading has no asset_type) may not be
 * present at all: `not: {}`. Left as `{}` it would take any value, and a typed reading would match two branches.
 */
const absentOnly = (ctx: { zodSchema: { _zod: { def: { type: string } } }; jsonSchema: Json }) => {
  if (ctx.zodSchema._zod.def.type === 'undefined') ctx.jsonSchema.not = {};
};

/** A zod schema as a standalone JSON Schema 2020-12 file: what a sender may send (defaults make a field optional). */
export function jsonSchemaFile(p: PayloadSchema, target: 'draft-2020-12' | 'draft-7' = 'draft-2020-12'): Json {
  const { $schema, ...rest } = z.toJSONSchema(p.schema, {
    io: 'input',
    unrepresentable: 'any',
    target,
    override: absentOnly,
  }) as Json;
  return { $schema, $id: `${p.name}.schema.json`, title: p.title, description: p.description, ...rest };
}

/** A channel of the MQTT interface: its topic, who publishes on it, at which QoS, what it carries. */
interface Channel {
  readonly id: string;
  /** The topic, `{param}` for a level that names a device. */
  readonly address: string;
  readonly description: string;
  readonly publisher: 'device' | 'cloud' | 'aws-iot';
  readonly qos: 0 | 1;
  readonly payloads: readonly string[];
  readonly retain?: false;
}

/** The topic a device of this id uses, as the topic builders make it (so a renamed topic renames the channel). */
const P = {
  venId: '{venId}',
  gatewayId: '{gatewayId}',
  nodeId: '{nodeId}',
  thingName: '{thingName}',
  clientId: '{clientId}',
  dcId: '{dcId}',
};

export const channels: readonly Channel[] = [
  {
    id: 'metering',
    address: topics.metering,
    description: 'VEN metering: the time series, the registry and the live feed.',
    publisher: 'device',
    qos: 1,
    payloads: ['metering', 'metering-batch'],
  },
  {
    id: 'meteringBasicIngest',
    address: topics.meteringBasicIngest,
    description:
      'The same metering through Basic Ingest: to the rule only, with no messaging charge; nobody can subscribe.',
    publisher: 'device',
    qos: 1,
    payloads: ['metering', 'metering-batch'],
  },
  {
    id: 'venTelemetry',
    address: topics.telemetry(P.venId),
    description: "A copy of the VEN's metering for its own subscribers (optional).",
    publisher: 'device',
    qos: 0,
    payloads: ['metering'],
  },
  {
    id: 'venLoads',
    address: topics.loads(P.venId),
    description: "The VEN's controllable loads now.",
    publisher: 'device',
    qos: 0,
    payloads: ['loads-snapshot'],
  },
  {
    id: 'venCommand',
    address: topics.command(P.venId),
    description: 'Commands to a VEN (event, restore, ping) and to a DER gateway (dispatch).',
    publisher: 'cloud',
    qos: 1,
    payloads: ['command'],
  },
  {
    id: 'venAck',
    address: topics.ack(P.venId),
    description: 'Acknowledgements of the commands, by correlationId.',
    publisher: 'device',
    qos: 1,
    payloads: ['ack'],
  },
  {
    id: 'venShadowUpdate',
    address: topics.shadow(P.thingName, 'update'),
    description:
      'A VEN reports its state to its device shadow (the AWS IoT shadow service answers on update/accepted or update/rejected).',
    publisher: 'device',
    qos: 1,
    payloads: ['shadow-reported'],
  },
  {
    id: 'derTelemetry',
    address: topics.derTelemetry(P.gatewayId),
    description: "A DER site gateway's telemetry.",
    publisher: 'device',
    qos: 1,
    payloads: ['der-gateway-telemetry'],
  },
  {
    id: 'winterRiverStatus',
    address: topics.winterRiverStatus(P.nodeId),
    description: "A Winter River node's status.",
    publisher: 'device',
    qos: 1,
    payloads: ['winter-river-status'],
  },
  {
    id: 'winterRiverCommand',
    address: topics.winterRiverCommand(P.nodeId),
    description: 'Commands to a Winter River node.',
    publisher: 'cloud',
    qos: 1,
    payloads: ['winter-river-command'],
  },
  {
    id: 'edgeTelemetry',
    address: topics.edgeTelemetry(P.dcId),
    description: "A data-centre edge node's telemetry: the time series and the registry.",
    publisher: 'device',
    qos: 0,
    payloads: ['edge-telemetry'],
  },
  {
    id: 'edgeStatus',
    address: topics.edgeStatus(P.dcId),
    description: 'A data-centre edge node online or offline.',
    publisher: 'device',
    qos: 1,
    payloads: ['edge-status'],
  },
  {
    id: 'edgeControl',
    address: topics.edgeControl(P.dcId),
    description: 'Battery commands to an edge node.',
    publisher: 'cloud',
    qos: 1,
    payloads: ['edge-command'],
  },
  {
    id: 'edgeAck',
    address: topics.edgeAck(P.dcId),
    description: "An edge node's acknowledgements of its commands.",
    publisher: 'device',
    qos: 1,
    payloads: ['edge-ack'],
  },
  {
    id: 'presenceConnected',
    address: topics.presence('connected', P.clientId),
    description: 'AWS IoT Core: a client connected.',
    publisher: 'aws-iot',
    qos: 1,
    payloads: ['presence-event'],
  },
  {
    id: 'presenceDisconnected',
    address: topics.presence('disconnected', P.clientId),
    description: 'AWS IoT Core: a client disconnected.',
    publisher: 'aws-iot',
    qos: 1,
    payloads: ['presence-event'],
  },
];

/** The rules whose SQL reads this topic (a Basic Ingest topic goes to its one rule). */
export function rulesOf(address: string): string[] {
  const concrete = address.replace(/\{\w+\}/g, 'x');
  const basic = /^\$aws\/rules\/([^/]+)\//.exec(concrete);
  if (basic) return rules.filter((r) => r.name === basic[1]).map((r) => r.name);
  return rules
    .filter((r) => {
      const from = /FROM '([^']+)'/.exec(r.sql)?.[1];
      if (!from || !topicMatches(from, concrete)) return false;
      // the Winter River rule keeps only `…/status`
      return !/WHERE topic\(3\) = 'status'/.test(r.sql) || concrete.split('/')[2] === 'status';
    })
    .map((r) => r.name);
}

const camel = (name: string) => name.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase());

export function asyncApiDocument(): Json {
  const messages: Json = {};
  const schemas: Json = {};
  for (const p of payloadSchemas.filter((s) => s.name !== 'inventory')) {
    // an AsyncAPI payload is an AsyncAPI Schema, a superset of JSON Schema draft-07
    const { $schema: _s, $id: _id, ...schema } = jsonSchemaFile(p, 'draft-7');
    schemas[camel(p.name)] = schema;
    messages[camel(p.name)] = {
      name: camel(p.name),
      title: p.title,
      summary: p.description,
      contentType: 'application/json',
      payload: { $ref: `#/components/schemas/${camel(p.name)}` },
    };
  }
  const channelsOut: Json = {};
  const operations: Json = {};
  for (const c of channels) {
    const params = [...c.address.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const ruleNames = rulesOf(c.address);
    channelsOut[c.id] = {
      address: c.address,
      description: `${c.description}${ruleNames.length ? ` Read by the IoT rule${ruleNames.length > 1 ? 's' : ''} ${ruleNames.join(', ')}.` : ''}`,
      ...(params.length && {
        parameters: Object.fromEntries(
          params.map((n) => [n, { description: 'the thing name (a-z A-Z 0-9 : _ -, 1 to 128)' }]),
        ),
      }),
      messages: Object.fromEntries(c.payloads.map((p) => [camel(p), { $ref: `#/components/messages/${camel(p)}` }])),
      'x-publisher': c.publisher,
      'x-rules': ruleNames,
    };
    operations[`${c.publisher === 'device' ? 'publish' : 'receive'}${c.id[0]!.toUpperCase()}${c.id.slice(1)}`] = {
      // the device's side: it sends what it publishes and receives what the cloud (or AWS IoT) publishes
      action: c.publisher === 'device' ? 'send' : 'receive',
      channel: { $ref: `#/channels/${c.id}` },
      summary: `${c.publisher === 'device' ? 'The device publishes' : c.publisher === 'cloud' ? 'The cloud publishes; the device subscribes' : "AWS IoT Core publishes; the platform's rule reads it"} at QoS ${c.qos}.`,
      messages: c.payloads.map((p) => ({ $ref: `#/channels/${c.id}/messages/${camel(p)}` })),
      bindings: { mqtt: { qos: c.qos, retain: false, bindingVersion: '0.2.0' } },
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'VPP IoT platform: MQTT interface',
      version: API_VERSION,
      description:
        "What a device publishes and subscribes to, from the device's side: each topic, who publishes on it, the QoS, " +
        `the payload's JSON Schema and the IoT rule that reads it. Payloads are JSON, at most ${MAX_PAYLOAD_BYTES / 1024} KiB. ` +
        'A device connects over MQTT with mutual TLS (its X.509 certificate), its client id its thing name; the device ' +
        'policy lets it use only the topics of its own thing name. A payload its rule refuses is recorded with the reason ' +
        '(GET /api/refused), never acknowledged. Generated by `npm run contract`.',
      license: { name: 'Apache-2.0' },
    },
    defaultContentType: 'application/json',
    servers: {
      aws: {
        host: '{endpoint}:8883',
        protocol: 'mqtt',
        protocolVersion: '3.1.1',
        description: "AWS IoT Core (the account's data endpoint), mutual TLS",
        variables: {
          endpoint: { description: 'the IoT data endpoint: `aws iot describe-endpoint --endpoint-type iot:Data-ATS`' },
        },
        security: [{ $ref: '#/components/securitySchemes/certificate' }],
      },
      local: {
        host: '127.0.0.1:8883',
        protocol: 'mqtt',
        protocolVersion: '3.1.1',
        description: 'The local stack (`npm start`), mutual TLS with its own CA',
        security: [{ $ref: '#/components/securitySchemes/certificate' }],
      },
    },
    channels: channelsOut,
    operations,
    components: {
      schemas,
      messages,
      securitySchemes: {
        certificate: {
          type: 'X509',
          description: "The device's certificate, issued by provisioning (docs/devices.md).",
        },
      },
    },
  };
}

/** Every generated file, by its path under the repository root, as it is written (stable JSON, a newline at the end). */
export function contractFiles(): Record<string, string> {
  const text = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  return {
    'docs/openapi.json': text(openApiDocument()),
    'docs/asyncapi.json': text(asyncApiDocument()),
    ...Object.fromEntries(payloadSchemas.map((p) => [`docs/schemas/${p.name}.schema.json`, text(jsonSchemaFile(p))])),
  };
}
