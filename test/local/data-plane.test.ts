import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ConflictException,
  DeleteThingShadowCommand,
  ForbiddenException,
  GetThingShadowCommand,
  InvalidRequestException,
  IoTDataPlaneClient,
  PublishCommand,
  RequestEntityTooLargeException,
  ResourceNotFoundException,
  UpdateThingShadowCommand,
  type IoTDataPlaneClientConfig,
} from '@aws-sdk/client-iot-data-plane';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { dataPlaneRoutes } from '../../bin/local/device-services/data-plane.js';
import { ShadowService } from '../../bin/local/device-services/shadow-service.js';
import { DynamoShadowStore, SHADOW_TABLE } from '../../bin/local/device-services/shadow-store-dynamodb.js';

const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'LOCALKEY0000EXAMPLE', secretAccessKey: 'local-secret-for-tests' };

let dynamo: Server;
let documentClient: DynamoDBDocumentClient;
let http: HttpServer;
let endpoint: string;
let client: IoTDataPlaneClient;
/** What the shadow service told MQTT subscribers. */
let mqtt: { topic: string; payload: string }[] = [];
/** What the Publish API handed the broker. */
let published: { topic: string; payload: Buffer; qos: 0 | 1 }[] = [];

const newClient = (config: Partial<IoTDataPlaneClientConfig> = {}) =>
  new IoTDataPlaneClient({ endpoint, region: REGION, credentials: CREDENTIALS, maxAttempts: 1, ...config });

const json = (payload: Uint8Array | undefined) =>
  JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

beforeAll(async () => {
  dynamo = dynalite({ createTableMs: 0 });
  dynamo.listen(0, '127.0.0.1');
  await once(dynamo, 'listening');
  const dynamoClient = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`,
    region: REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await dynamoClient.send(
    new CreateTableCommand({
      TableName: 'shadows',
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: SHADOW_TABLE.partitionKey, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: SHADOW_TABLE.partitionKey, KeyType: 'HASH' }],
    }),
  );
  documentClient = DynamoDBDocumentClient.from(dynamoClient);

  const shadows = new ShadowService({
    store: new DynamoShadowStore(documentClient, 'shadows'),
    publish: async (topic, payload) => void mqtt.push({ topic, payload }),
  });
  const routes = dataPlaneRoutes({
    shadows,
    publish: async (topic, payload, qos) => void published.push({ topic, payload, qos }),
    credentials: CREDENTIALS,
    region: REGION,
  });
  http = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (!(await routes(req, res, Buffer.concat(chunks)))) res.writeHead(404).end('not a data-plane path');
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  endpoint = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  client = newClient();
});

afterAll(async () => {
  client.destroy();
  http.close();
  documentClient.destroy();
  dynamo.close();
  await Promise.all([once(http, 'close'), once(dynamo, 'close')]);
});

beforeEach(() => {
  mqtt = [];
  published = [];
});

describe('shadows over HTTP', () => {
  it('updates and gets a shadow, and tells MQTT subscribers', async () => {
    const update = await client.send(
      new UpdateThingShadowCommand({ thingName: 'ven-001', payload: encode({ state: { desired: { mode: 'shed' } } }) }),
    );
    const get = await client.send(new GetThingShadowCommand({ thingName: 'ven-001' }));

    expect(json(update.payload)).toMatchObject({ state: { desired: { mode: 'shed' } }, version: 1 });
    expect(get.payload).toBeInstanceOf(Uint8Array);
    expect(json(get.payload)).toMatchObject({
      state: { desired: { mode: 'shed' }, delta: { mode: 'shed' } },
      metadata: { desired: { mode: { timestamp: expect.any(Number) } } },
      version: 1,
    });
    expect(mqtt.map((m) => m.topic)).toEqual(
      (['update/accepted', 'update/documents', 'update/delta'] as const).map((op) => topics.shadow('ven-001', op)),
    );
  });

  it('deletes a shadow, then GetThingShadow raises ResourceNotFoundException', async () => {
    await client.send(
      new UpdateThingShadowCommand({ thingName: 'ven-002', payload: encode({ state: { reported: { a: 1 } } }) }),
    );
    const deleted = await client.send(new DeleteThingShadowCommand({ thingName: 'ven-002' }));

    expect(json(deleted.payload)).toMatchObject({ version: 1 });
    const error = await client.send(new GetThingShadowCommand({ thingName: 'ven-002' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error).toMatchObject({
      message: "No shadow exists with name: 'ven-002'",
      $metadata: { httpStatusCode: 404 },
    });
  });

  it.each([
    ['a stale version', ConflictException, { state: { reported: { a: 2 } }, version: 7 }],
    ['a state that is not an object', InvalidRequestException, { state: 'on' }],
    ['a payload over 8 KiB', RequestEntityTooLargeException, { state: { reported: { blob: 'x'.repeat(9000) } } }],
  ])('raises the typed exception for %s', async (_name, exception, body) => {
    await client.send(
      new UpdateThingShadowCommand({ thingName: 'ven-003', payload: encode({ state: { reported: { a: 1 } } }) }),
    );

    await expect(
      client.send(new UpdateThingShadowCommand({ thingName: 'ven-003', payload: encode(body) })),
    ).rejects.toBeInstanceOf(exception);
  });

  it('rejects named shadows', async () => {
    await expect(
      client.send(new GetThingShadowCommand({ thingName: 'ven-001', shadowName: 'extra' })),
    ).rejects.toBeInstanceOf(InvalidRequestException);
  });
});

describe('Publish', () => {
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));

  it.each([
    ['a topic with slashes', topics.command('ven-001')],
    ['a shadow update request', topics.shadow('ven-001', 'update')],
    ['a topic with spaces and sub-delimiters', topics.telemetry("site 1 (north)!*'")],
  ])('hands the broker %s, decoded, with the exact bytes', async (_name, topic) => {
    await client.send(new PublishCommand({ topic, qos: 1, payload: bytes }));

    expect(published).toHaveLength(1);
    expect(published[0]!.topic).toBe(topic);
    expect(published[0]!.payload.equals(bytes)).toBe(true);
    expect(published[0]!.qos).toBe(1);
  });

  it('publishes at QoS 0 by default', async () => {
    await client.send(new PublishCommand({ topic: topics.ack('ven-001'), payload: encode({ ok: true }) }));

    expect(published).toMatchObject([{ topic: topics.ack('ven-001'), qos: 0 }]);
  });

  it.each([
    ['a presence event', '$aws/events/presence/connected/ven-001'],
    ['a shadow delta', topics.shadow('ven-001', 'update/delta')],
    ['a shadow answer', topics.shadow('ven-001', 'update/accepted')],
  ])('refuses to fake %s: reserved topics take requests only', async (_name, topic) => {
    await expect(client.send(new PublishCommand({ topic, payload: encode({}) }))).rejects.toBeInstanceOf(
      ForbiddenException,
    );
    expect(published).toEqual([]);
  });

  it('takes a Basic Ingest publish', async () => {
    await client.send(new PublishCommand({ topic: `$aws/rules/metering/${topics.metering}`, payload: encode({}) }));
    expect(published).toHaveLength(1);
  });

  it("refuses a payload over AWS IoT's 128 KiB", async () => {
    const big = new Uint8Array(128 * 1024 + 1);
    await expect(
      client.send(new PublishCommand({ topic: topics.telemetry('ven-001'), payload: big })),
    ).rejects.toBeInstanceOf(RequestEntityTooLargeException);
    await client.send(new PublishCommand({ topic: topics.telemetry('ven-001'), payload: big.subarray(1) }));
    expect(published).toHaveLength(1);
  });

  it('rejects wildcard topics', async () => {
    await expect(client.send(new PublishCommand({ topic: 'ven/ack/+', payload: bytes }))).rejects.toBeInstanceOf(
      InvalidRequestException,
    );
    expect(published).toEqual([]);
  });
});

describe('SigV4', () => {
  async function forbidden(request: Promise<unknown>, why: RegExp) {
    const error = await request.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ForbiddenException);
    expect((error as Error).message).toMatch(why);
  }
  const getShadow = (c: IoTDataPlaneClient) => c.send(new GetThingShadowCommand({ thingName: 'ven-001' }));

  it('rejects a request signed with a wrong secret', async () => {
    const wrongSecret = newClient({ credentials: { ...CREDENTIALS, secretAccessKey: 'wrong' } });
    await forbidden(getShadow(wrongSecret), /signature .* does not match/);
  });

  it('rejects an unknown access key id', async () => {
    const otherKey = newClient({ credentials: { ...CREDENTIALS, accessKeyId: 'SOMEONEELSE' } });
    await forbidden(getShadow(otherKey), /security token .* invalid/);
  });

  it('rejects a request for another region', async () => {
    await forbidden(getShadow(newClient({ region: 'eu-west-1' })), /scoped to region 'us-east-1'/);
  });

  it('rejects a request signed more than 15 minutes ago', async () => {
    await forbidden(getShadow(newClient({ systemClockOffset: -16 * 60 * 1000 })), /15 minutes/);
  });

  it('rejects a body changed after signing', async () => {
    const tampering = newClient();
    tampering.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { body: unknown }).body = Buffer.from('jello');
        return next(args);
      },
      { step: 'deserialize' },
    );

    const publish = tampering.send(new PublishCommand({ topic: topics.ack('ven-001'), payload: Buffer.from('hello') }));
    await forbidden(publish, /X-Amz-Content-Sha256 does not match the body/);
    expect(published).toEqual([]);
  });

  it('rejects unsigned requests with ForbiddenException', async () => {
    const res = await fetch(`${endpoint}/things/ven-001/shadow`);

    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('ForbiddenException');
    expect(await res.json()).toMatchObject({ message: expect.stringContaining('Authorization') });
  });

  it('leaves other paths to the next route without checking them', async () => {
    const res = await fetch(`${endpoint}/api/health`);

    expect(res.status).toBe(404);
    expect(await res.text()).toBe('not a data-plane path');
  });
});

describe('AWS CLI', () => {
  it('serves `aws iot-data get-thing-shadow`', async () => {
    await client.send(
      new UpdateThingShadowCommand({ thingName: 'cli-thing', payload: encode({ state: { reported: { kw: 4.8 } } }) }),
    );
    const dir = await mkdtemp(join(tmpdir(), 'vpp-aws-cli-'));
    const out = join(dir, 'out.json');
    try {
      await promisify(execFile)(
        'aws',
        ['iot-data', 'get-thing-shadow', '--thing-name', 'cli-thing', '--endpoint-url', endpoint, out],
        {
          env: cliEnv(dir),
        },
      );
      expect(JSON.parse(await readFile(out, 'utf8'))).toMatchObject({ state: { reported: { kw: 4.8 } }, version: 1 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Only the local credentials: no profile, config file or instance metadata of whoever runs the tests. */
function cliEnv(dir: string): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_'));
  return {
    ...Object.fromEntries(inherited),
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_DEFAULT_REGION: REGION,
    AWS_CONFIG_FILE: join(dir, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}
