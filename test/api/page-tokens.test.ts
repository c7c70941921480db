// Page tokens over HTTP against the local stack: on every paginated route a token the API did not issue for that
// request (garbage, a JSON object that is no key, a genuine token of another item or of another route, a genuine
// binding around a forged key) is a 400 naming `next`, never a 500 from DynamoDB; a genuine token still pages.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PORTFOLIO } from '../../lambdas/core/analytics/rollup-pass.js';
import { bucketStart, type RollupRow, type Tier } from '../../lambdas/core/analytics/rollups.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { eventually } from '../e2e/helpers.js';
import { connectDevice, type TestDevice } from '../e2e/sdk-client.js';
import { fixture } from '../fixture.js';
import { nowSec, post, startApiStack, type ApiTestStack } from './stack.js';

const run = promisify(execFile);
let stack: ApiTestStack;
const devices: TestDevice[] = [];
const VENS = ['ven-pa', 'ven-pb'] as const;
const DAY = 86_400_000;
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function row(start: number, tier: Tier): RollupRow {
  const end =
    tier === '1mo'
      ? Date.UTC(new Date(start).getUTCFullYear(), new Date(start).getUTCMonth() + 1, 1)
      : start + (tier === '1d' ? DAY : 900_000);
  return {
    start,
    end,
    samples: 1,
    intervals: 1,
    importKwh: 1,
    exportKwh: 0,
    kwSum: 1,
    peakKw: 1,
    onlineHours: 1,
    socSum: 0,
    socN: 0,
  };
}

beforeAll(async () => {
  stack = await startApiStack();
  const now = Date.now();
  for (const ven of VENS) {
    const device = await connectDevice(await stack.provision(ven), ven);
    devices.push(device);
    for (const [i, ts] of [nowSec() - 120, nowSec() - 60].entries()) {
      await device.publish(
        topics.metering,
        JSON.stringify({ ...fixture('volttron-metering'), venId: ven, timestamp: ts }),
      );
      await device.publish(
        topics.ack(ven),
        JSON.stringify({ ...fixture('volttron-event-ack'), ts, correlationId: `${ven}-c${i}` }),
      );
      await device.publish(topics.metering, JSON.stringify({ venId: ven, timestamp: `not a time ${i}` })); // a refusal
    }
    for (let i = 0; i < 2; i++) {
      await stack.api('/api/transactions', post({ nodeId: ven, type: 'payment', data: { amount: i + 1 } }));
    }
  }
  for (const [i, technology] of ['bess', 'bess', 'pv', 'pv'].entries()) {
    await stack.api(
      '/api/metadata',
      post({ nodeId: `meta-${i}`, location: { lat: 52, lon: 4 }, capacity_kw: 10, technology }),
    );
  }
  const month = bucketStart('1mo', now);
  const lastMonth = Date.UTC(new Date(month).getUTCFullYear(), new Date(month).getUTCMonth() - 1, 1);
  for (const node of [...VENS, PORTFOLIO]) {
    await stack.ports.rollups.put(
      node,
      '1d',
      [1, 2].map((d) => row(bucketStart('1d', now) - d * DAY, '1d')),
    );
    await stack.ports.rollups.put(node, '1mo', [row(lastMonth, '1mo'), row(month, '1mo')]);
    await stack.ports.rollups.put(
      node,
      '15m',
      [1, 2].map((k) => row(bucketStart('15m', now) - k * 900_000, '15m')),
    );
  }
  await stack.settle();
  for (const ven of VENS) {
    await eventually(async () => (await stack.api(`/api/vens/${ven}/events`)).body?.items?.length === 2);
    await eventually(async () => (await stack.api(`/api/vens/${ven}/telemetry`)).body?.items?.length === 2);
    await eventually(async () => (await stack.api(`/api/refused?device=${ven}`)).body?.items?.length === 2);
  }
});
afterAll(async () => {
  await Promise.all(devices.map((d) => d.close()));
  await stack?.dispose();
});

/** A paginated route: the list of one item (`a`) and of another (`b`: another partition, or other parameters). */
interface Paged {
  route: string;
  a: string;
  b?: string;
  /** A forged start key of the right shape for `a`'s store but outside its partition or window. */
  forged?: unknown;
  /** The store's token is a position in a list shared with `b` (a device id, a time), not a key of `b`'s partition. */
  position?: true;
}

const SHORT = (p: string) => `${p}${p.includes('?') ? '&' : '?'}limit=1`;

const paged: Paged[] = [
  {
    route: 'transactions',
    a: `/api/transactions/${VENS[0]}`,
    b: `/api/transactions/${VENS[1]}`,
    forged: { nodeId: VENS[1], seq: 1 },
  },
  {
    route: 'analytics daily',
    a: `/api/analytics/${VENS[0]}/daily`,
    b: `/api/analytics/${VENS[1]}/daily`,
    forged: { pk: `${VENS[0]}#1d`, sk: '1999-01-01T00:00:00.000Z' },
  },
  {
    route: 'analytics monthly',
    a: `/api/analytics/${VENS[0]}/monthly`,
    b: `/api/analytics/${VENS[1]}/monthly`,
    forged: { pk: `${VENS[1]}#1mo`, sk: '2020-01-01T00:00:00.000Z' },
  },
  {
    route: 'analytics portfolio',
    a: '/api/analytics/portfolio',
    b: '/api/analytics/portfolio?period=monthly',
    forged: { pk: 'portfolio#1mo', sk: 'x' },
  },
  {
    route: 'historical',
    a: `/api/telemetry/${VENS[0]}/historical`,
    b: `/api/telemetry/${VENS[1]}/historical`,
    forged: { pk: `${VENS[0]}#15m`, sk: 9 },
  },
  { route: 'assets', a: '/api/assets', forged: { kind: 'site', id: 'site-a' } },
  { route: 'agents', a: '/api/agents', forged: { kind: 'asset', id: 'a-bess-1', extra: 1 } },
  {
    route: 'VEN events',
    a: `/api/vens/${VENS[0]}/events`,
    b: `/api/vens/${VENS[1]}/events`,
    forged: { venId: VENS[0], sk: '2001-01-01T00:00:00.000Z#c' },
  },
  {
    route: 'nodes by type',
    a: '/api/nodes/by-type/bess',
    b: '/api/nodes/by-type/pv',
    forged: { technology: 'pv', nodeId: 'meta-2' },
  },
  { route: 'VENs', a: '/api/vens', b: '/api/vens?online=true', position: true },
  { route: 'active nodes', a: '/api/nodes/active', forged: { t: 99 } },
  {
    route: 'refused',
    a: `/api/refused?device=${VENS[0]}`,
    b: `/api/refused?device=${VENS[1]}`,
    forged: { b: VENS[0], k: { pk: 'day#x', sk: 'x' } },
  },
  {
    route: 'VEN telemetry',
    a: `/api/vens/${VENS[0]}/telemetry`,
    b: `/api/vens/${VENS[1]}/telemetry`,
    forged: { t: 1, m: 'x' },
    position: true,
  },
];

async function firstPage(path: string): Promise<{ next: string; items: unknown[] }> {
  const res = await stack.api(SHORT(path));
  expect(res.status, path).toBe(200);
  expect(typeof res.body.next, `${path} has a second page`).toBe('string');
  return res.body;
}

const refused = (res: { status: number; body: any }) => res.status === 400 && res.body?.field === 'next';

describe('a page token on every paginated route', () => {
  it.each(paged)(
    '$route: anything but its own genuine token is a 400 naming next',
    async ({ a, b, forged, position }) => {
      const own = await firstPage(a);
      const otherRoute = await firstPage(a.includes('/api/assets') ? '/api/agents' : '/api/assets');
      const [binding] = own.next.split('.');
      const tokens: Record<string, string> = {
        garbage: 'garbage!',
        'not base64 JSON': 'bm90IGpzb24',
        '{"x":1}': b64({ x: 1 }),
        'an array': b64([1]),
        'another route': otherRoute.next,
        '{"x":1} in its own binding': `${binding}.${b64({ x: 1 })}`,
        ...(forged !== undefined && { 'a forged key in its own binding': `${binding}.${b64(forged)}` }),
        ...(b !== undefined && { 'another item or query': (await firstPage(b)).next }),
        ...(b !== undefined &&
          !position && {
            "another item's key in its own binding": `${binding}.${(await firstPage(b)).next.split('.')[1]}`,
          }),
      };
      for (const [what, token] of Object.entries(tokens)) {
        const res = await stack.api(`${SHORT(a)}&next=${encodeURIComponent(token)}`);
        expect(refused(res), `${a} with ${what}: ${res.status} ${JSON.stringify(res.body)}`).toBe(true);
      }
      const second = await stack.api(`${SHORT(a)}&next=${encodeURIComponent(own.next)}`);
      expect(second.status, a).toBe(200);
      expect(second.body.items).toHaveLength(1);
      expect(second.body.items[0]).not.toEqual(own.items[0]);
    },
  );

  it('the reported request, as curl sends it, is a 400 naming next', async () => {
    const { stdout } = await run('curl', [
      '-s',
      '-w',
      '\n%{http_code}',
      '-H',
      `Authorization: Bearer ${stack.config.tokens.viewer}`,
      `${stack.config.apiUrl}/api/transactions/${VENS[0]}?next=${Buffer.from('{"x":1}').toString('base64')}`,
    ]);
    const [body, status] = stdout.split('\n');
    expect(status).toBe('400');
    expect(JSON.parse(body!)).toMatchObject({ error: 'ValidationError', field: 'next' });
  });
});
