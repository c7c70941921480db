// Input rules at the edges, through the local stack with real clients: deeply nested JSON from a device is refused
// (`malformed-json`) with a PUBACK instead of killing the connection; every circuit id the ingest accepts can be
// queried back; lone UTF-16 surrogates are refused in device messages and request bodies; query numbers are plain
// decimal only.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mqtt } from 'aws-iot-device-sdk-v2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../lambdas/core/contracts/schemas.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { errorSink, eventually } from '../e2e/helpers.js';
import { connectDevice, type TestDevice } from '../e2e/sdk-client.js';
import { fixture } from '../fixture.js';
import { nowSec, post, startApiStack, type ApiTestStack } from './stack.js';

const run = promisify(execFile);
let stack: ApiTestStack;
let ven: TestDevice;
let files: Awaited<ReturnType<ApiTestStack['provision']>>;
const VEN = 'ven-input';

beforeAll(async () => {
  stack = await startApiStack();
  files = await stack.provision(VEN);
  ven = await connectDevice(files, VEN);
  await ven.publish(
    topics.metering,
    JSON.stringify({ ...fixture('volttron-metering'), venId: VEN, timestamp: nowSec() - 60 }),
  );
  await eventually(async () => (await stack.api(`/api/vens/${VEN}`)).status === 200);
});
afterAll(async () => {
  await ven?.close();
  await stack?.dispose();
});

const refusals = async (match: string) =>
  (await errorSink(stack.config.errorsFile)).filter((e) => e.message.includes(match));
/** A metering payload whose `extra` holds arrays `depth` deep, written out (no recursion builds it). */
const deep = (depth: number) =>
  `{"venId":"${VEN}","timestamp":${nowSec()},"usedPowerKw":1,"extra":${'['.repeat(depth)}${']'.repeat(depth)}}`;
/** A lone surrogate, as JSON.stringify writes one out (`\ud800`). */
const LONE = /\\ud[89a-f][0-9a-f]{2}/i;
const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p.then(() => 'acked' as const), new Promise<'no PUBACK'>((r) => setTimeout(() => r('no PUBACK'), ms))]);

describe('deeply nested JSON from a device', () => {
  it('is refused as malformed-json with a PUBACK, and the connection stays up (device SDK, QoS 1)', async () => {
    for (const depth of [3_000, 60_000]) {
      const payload = deep(depth);
      expect(payload.length).toBeLessThan(128 * 1024);
      expect(
        await withTimeout(ven.publish(topics.metering, payload, mqtt.QoS.AtLeastOnce), 10_000),
        `depth ${depth}`,
      ).toBe('acked');
    }
    expect(ven.interrupted()).toBe(false);
    await eventually(async () => (await refusals(`nests deeper than ${MAX_JSON_DEPTH} levels`)).length === 2);
    expect(
      (await refusals(`nests deeper than ${MAX_JSON_DEPTH}`)).every(
        (e) => e.reason === 'malformed-json' && e.clientId === VEN,
      ),
    ).toBe(true);
    // the connection still carries messages
    await ven.publish(
      topics.metering,
      JSON.stringify({ ...fixture('volttron-metering'), venId: VEN, timestamp: nowSec() - 30 }),
    );
  });

  it('is acknowledged to mosquitto_pub at QoS 1 (exit 0, no resend loop)', async () => {
    const other = await stack.provision('ven-input-2');
    const res = await run(
      'mosquitto_pub',
      [
        '-h',
        other.endpoint,
        '-p',
        String(other.port),
        '--cafile',
        other.caFile,
        '--cert',
        other.certFile,
        '--key',
        other.keyFile,
        '-i',
        'ven-input-2',
        '-q',
        '1',
        '-t',
        topics.metering,
        '-m',
        deep(40_000),
      ],
      { timeout: 10_000 },
    ).then(
      () => 0,
      (err: { code?: number }) => err.code ?? -1,
    );
    expect(res).toBe(0);
  });

  it('one level within the bound is not refused as malformed', async () => {
    const before = (await refusals('nests deeper')).length;
    await ven.publish(topics.metering, deep(MAX_JSON_DEPTH - 1));
    await stack.settle();
    expect((await refusals('nests deeper')).length).toBe(before);
  });
});

describe('circuit ids', () => {
  it('every id the ingest accepts can be asked for in circuits/history', async () => {
    const ids = ['circuit.1', 'Küche 2', 'x'.repeat(128)];
    const sample = fixture('volttron-metering') as {
      circuits: Record<string, unknown>[];
      loads: Record<string, unknown>[];
    };
    await ven.publish(
      topics.metering,
      JSON.stringify({
        ...sample,
        venId: VEN,
        timestamp: nowSec() - 20,
        circuits: ids.map((id) => ({ ...sample.circuits[0], id })),
        loads: ids.map((loadId) => ({ ...sample.loads[0], loadId })),
      }),
    );
    for (const id of ids) {
      await eventually(async () => {
        const res = await stack.api(`/api/vens/${VEN}/circuits/history?load_id=${encodeURIComponent(id)}`);
        expect(res.status, `${id}: ${JSON.stringify(res.body)}`).toBe(200);
        return res.body.items.length > 0 && res.body.items.every((i: { load_id: string }) => i.load_id === id);
      });
    }
    expect(await stack.api(`/api/vens/${VEN}/circuits/history?load_id=${'x'.repeat(129)}`)).toMatchObject({
      status: 400,
      body: { field: 'load_id' },
    });
  });
});

describe('lone UTF-16 surrogates', () => {
  it('in a request body are a 400 naming the field', async () => {
    const res = await stack.api(
      '/api/transactions',
      post('{"nodeId":"ven-input","type":"payment","data":{"note":"\\u0000\\ud800"}}'),
    );
    expect(res).toMatchObject({ status: 400, body: { field: 'data.note' } });
    expect(res.body.message).toContain('lone UTF-16 surrogate');
    expect(
      (await stack.api('/api/transactions', post('{"nodeId":"ven-input","type":"payment","data":{"\\udc00":1}}')))
        .status,
    ).toBe(400);
    // a well-formed pair (an emoji) is fine
    expect(
      (
        await stack.api(
          '/api/transactions',
          post('{"nodeId":"ven-input","type":"payment","data":{"note":"\\ud83d\\ude00"}}'),
        )
      ).status,
    ).toBe(201);
    const served = JSON.stringify((await stack.api(`/api/transactions/${VEN}`)).body);
    expect(served).toContain('\u{1F600}');
    expect(LONE.test(served)).toBe(false);
  });

  it('in a device message are refused into the error sink, naming the field, and never served', async () => {
    const sample = fixture('volttron-metering') as { circuits: Record<string, unknown>[] };
    const text = JSON.stringify({
      ...sample,
      venId: VEN,
      timestamp: nowSec() - 10,
      circuits: [{ ...sample.circuits[0], name: 'X' }],
    }).replace('"name":"X"', '"name":"\\ud800"');
    await ven.publish(topics.metering, text);
    await eventually(async () => (await refusals('circuits.0.name: not valid Unicode')).length === 1);
    await stack.settle();
    const served = JSON.stringify((await stack.api(`/api/vens/${VEN}`)).body);
    expect(LONE.test(served)).toBe(false);
  });
});

describe('numbers in query parameters', () => {
  it('are plain decimal: hex, spaces, exponents and signs Number() takes are a 400 naming the field', async () => {
    const cases: [string, string][] = [
      ['/api/vens?limit=0x10', 'limit'],
      ['/api/vens?limit=%201', 'limit'],
      ['/api/vens?limit=1e1', 'limit'],
      ['/api/vens?limit=%2B5', 'limit'],
      ['/api/nodes/nearby?lat=0x10&lon=0&radius_km=1', 'lat'],
      ['/api/nodes/nearby?lat=0&lon=%201&radius_km=1', 'lon'],
      ['/api/nodes/nearby?lat=0&lon=0&radius_km=1e1', 'radius_km'],
      [`/api/analytics/${VEN}/benchmarks?days=0x10`, 'days'],
    ];
    for (const [path, field] of cases)
      expect(await stack.api(path), path).toMatchObject({ status: 400, body: { field } });
    expect((await stack.api('/api/vens?limit=16')).status).toBe(200);
    expect((await stack.api('/api/nodes/nearby?lat=-33.5&lon=151.25&radius_km=0.5')).status).toBe(200);
  });
});
