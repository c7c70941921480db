// Input that used to crash the API with a 500 now gets a 400 naming the field, through the real local server: a
// malformed percent-escape in the path, times no date can hold, numbers DynamoDB cannot store, and free-form JSON
// nested thousands deep. Nothing is published for any of them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../lambdas/api/body.js';
import { isStorableNumber } from '../../lambdas/core/contracts/schemas.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually } from '../e2e/helpers.js';
import type { TestDevice } from '../e2e/sdk-client.js';
import { fixture } from '../fixture.js';
import { nowSec, post, startWithListeningDevices, type ApiTestStack } from './stack.js';

let stack: ApiTestStack;
let ven: TestDevice;
let node: TestDevice;
let devices: Awaited<ReturnType<typeof startWithListeningDevices>> | undefined;
const VEN = 'ven-x1';
const NODE = 'pdu_a';

beforeAll(async () => {
  devices = await startWithListeningDevices(VEN);
  ({ stack, ven, node } = devices);
});
afterAll(async () => {
  await devices?.dispose();
});

/** `{"a":{"a":…1…}}`, `depth` objects deep, written out (a deep object would overflow JSON.stringify first). */
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('a malformed percent-escape in the path', () => {
  it('is a 400 naming the path, with or without a token', async () => {
    for (const path of ['/api/vens/%E0%A4%A', '/api/vens/%E0%A4%A/send-event', '/api/commands/%ZZ']) {
      const method = path.endsWith('send-event') ? 'POST' : 'GET';
      for (const token of [undefined, null]) {
        expect(await stack.api(path, { method, ...(token === null && { token }) }), path).toMatchObject({
          status: 400,
          body: { error: 'ValidationError', field: 'path' },
        });
      }
    }
    expect((await stack.api('/api/vens/%E0%A4%A4')).status).toBe(400); // well-formed (ऊ) but not a thing name: venId
    expect((await stack.api('/api/vens/%E0%A4%A4')).body.field).toBe('venId');
  });
});

describe('a time no date can hold', () => {
  it('is a 400 naming start or end', async () => {
    for (const field of ['start', 'end']) {
      for (const value of ['99999999999999990000', '1e300', '10000-01-01']) {
        const res = await stack.api(`/api/vens/${VEN}/telemetry?${field}=${value}`);
        expect(res, `${field}=${value}`).toMatchObject({ status: 400, body: { error: 'ValidationError', field } });
      }
    }
    expect(
      (await stack.api(`/api/vens/${VEN}/events?start=99999999999999990000&end=99999999999999990000`)).body.field,
    ).toBe('end');
    expect((await stack.api(`/api/vens/${VEN}/telemetry?end=253402300799`)).status).toBe(200); // 9999-12-31T23:59:59Z
  });
});

describe('a number DynamoDB cannot store', () => {
  it('is a 400 naming the field on every body, and nothing is sent', async () => {
    const before = ven.received.length;
    const cases: [string, unknown, string][] = [
      [`/api/vens/${VEN}/send-event`, { shed_kw: 1e-300, duration_sec: 60 }, 'shed_kw'],
      [`/api/vens/${VEN}/send-event`, { shed_kw: 1e-131, duration_sec: 60 }, 'shed_kw'],
      ['/dispatch', { site_id: 'site-a', mw: 1e-300 }, 'mw'],
      ['/dispatch', { site_id: 'site-a', mw: -1e-300, dry_run: true }, 'mw'],
      ['/api/events', { shed_kw: 1e-300, duration_sec: 60 }, 'shed_kw'],
      ['/api/events', { shed_kw: 2, duration_sec: 60, ven_ids: [VEN], dry_run: true, x: [1e-200] }, 'x.0'],
      [
        '/api/telemetry',
        { ...fixture('volttron-metering'), venId: VEN, timestamp: nowSec(), usedPowerKw: 1e-300 },
        'usedPowerKw',
      ],
      [`/api/winter-river/nodes/${NODE}/command`, { command: 'set_fault', params: { level: 1e-300 } }, 'params.level'],
    ];
    for (const [path, body, field] of cases) {
      expect(await stack.api(path, post(body)), `${path} ${JSON.stringify(body)}`).toMatchObject({
        status: 400,
        body: { error: 'ValidationError', field, message: expect.stringContaining(field) },
      });
    }
    // 1e999 is Infinity once parsed: written by hand, JSON.stringify would make it null
    expect((await stack.api('/dispatch', post('{"site_id":"site-a","mw":1e999}'))).body).toMatchObject({ field: 'mw' });
    await stack.settle();
    expect(ven.received.length).toBe(before);
  });

  it('accepts the smallest magnitude DynamoDB keeps', async () => {
    expect(await stack.api('/dispatch', post({ site_id: 'site-a', mw: 1e-130, dry_run: true }))).toMatchObject({
      status: 200,
      body: { mw_requested: 1e-130 },
    });
  });

  it('knows the range: 0, then 1e-130 up to 2^53 - 1 (past it the document client neither writes nor reads a number)', () => {
    for (const n of [0, -0, 1e-130, -1e-130, 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER])
      expect(isStorableNumber(n), String(n)).toBe(true);
    for (const n of [
      1e-131,
      1e-300,
      5e-324,
      2 ** 53,
      -(2 ** 53),
      1e20,
      9.99e125,
      1e126,
      -1e126,
      Infinity,
      -Infinity,
      NaN,
    ])
      expect(isStorableNumber(n), String(n)).toBe(false);
  });
});

describe('free-form JSON nested too deep', () => {
  it('is a 400 naming the field for a 5,000-deep Winter River params, and nothing is published', async () => {
    const before = node.received.length;
    const res = await stack.api(
      `/api/winter-river/nodes/${NODE}/command`,
      post(`{"command":"set_fault","params":${nested(5000)}}`),
    );
    expect(res).toMatchObject({
      status: 400,
      body: {
        error: 'ValidationError',
        field: 'params',
        message: `params: nested deeper than ${MAX_JSON_DEPTH} levels`,
      },
    });
    const bigger = await stack.api(
      `/api/winter-river/nodes/${NODE}/command`,
      post({ command: 'set_fault', params: { blob: 'x'.repeat(130 * 1024) } }),
    );
    expect(bigger).toMatchObject({ status: 400, body: { field: 'params' } });
    expect(
      (
        await stack.api(
          '/api/events',
          post(`{"shed_kw":1,"duration_sec":60,"dry_run":true,"deep":${nested(MAX_JSON_DEPTH + 1)}}`),
        )
      ).body,
    ).toMatchObject({ field: 'deep' });
    // a key that is not a plain name is quoted, so the field reads as one (a property run found a key of one space)
    expect(
      (
        await stack.api(
          '/api/events',
          post(`{"shed_kw":1,"duration_sec":60,"dry_run":true," ":${nested(MAX_JSON_DEPTH + 1)}}`),
        )
      ).body,
    ).toMatchObject({ field: '" "' });
    await stack.settle();
    expect(node.received.length).toBe(before);
  });

  it(`publishes params nested ${MAX_JSON_DEPTH} levels deep`, async () => {
    const res = await stack.api(
      `/api/winter-river/nodes/${NODE}/command`,
      post(`{"command":"set_fault","params":${nested(MAX_JSON_DEPTH - 1)}}`),
    );
    expect(res.status).toBe(202);
    await eventually(() =>
      node.received.some((m) => m.topic === topics.winterRiverCommand(NODE) && m.payload.includes('"a":1')),
    );
  });
});
