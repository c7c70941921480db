// Data quality over a generated three-day history written through the real ingest path (rules engine, stream,
// metering handler, DynamoDB time series) of the local stack. The stack's time-series writes take their write time
// from a clock the test sets per delivery, so each sample "arrives" when the scenario says: on time (5 s after its
// time), late (a tail sent half an hour after), or out of order (a gap backfilled after everything).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { presenceConnected, startTestStack, type TestStack } from '../e2e/helpers.js';
import { fixture, fixtureText } from '../fixture.js';
import { INVENTORY_FIXTURE, shows } from './stack.js';

const STEP = 600_000; // one sample every 10 minutes
const SLOTS = 432; // three days
const iso = (ms: number) => new Date(ms).toISOString();

let stack: TestStack;
let clock: number | undefined;
/** The window's end (T) and start (A = T - 3 days): slot k is at A + k × STEP. */
let T: number;
let A: number;
/** The first of the asset's three readings (epoch s). */
let assetFirst: number;
const at = (k: number) => A + k * STEP;

const sample = (venId: string, ms: number) => ({ ...fixture('volttron-metering'), venId, timestamp: ms / 1000 });

async function deliver(topic: string, body: unknown, clientId: string, writtenAt?: number) {
  clock = writtenAt;
  await stack.deliverToRules(topic, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), clientId);
  await stack.settle();
  clock = undefined;
}

const meter = (venId: string, ks: number[], writtenAt: number) =>
  deliver(
    topics.metering,
    ks.length === 1 ? sample(venId, at(ks[0]!)) : { venId, batch: ks.map((k) => sample(venId, at(k))) },
    venId,
    writtenAt,
  );

/** Slots left out of the on-time history: a six-slot gap, one lone slot (exactly two intervals: no gap), three slots. */
const missing = (k: number) => (k >= 50 && k < 56) || k === 200 || (k >= 300 && k < 303);

beforeAll(async () => {
  stack = await startTestStack({ inventoryFile: INVENTORY_FIXTURE, telemetryClock: () => clock ?? Date.now() });
  // a refused message of ven-dq-1 (schema), and one naming it sent by another device (that sender's refusal)
  await deliver(topics.metering, { venId: 'ven-dq-1' }, 'ven-dq-1');
  await deliver(topics.metering, sample('ven-dq-1', Date.now()), 'ven-dq-x');
  T = Date.now() + 1;
  A = T - SLOTS * STEP;
  for (let k = 0; k < 420; k++) if (!missing(k)) await meter('ven-dq-1', [k], at(k) + 5_000);
  // slots 420-425 arrive together half an hour after 425 (late, in order); 426-431 never come
  const tailWrite = at(425) + 1_800_000;
  await meter('ven-dq-1', [420, 421, 422, 423, 424, 425], tailWrite);
  // a resend of slot 10 changes nothing; slots 52 and 53 are backfilled after everything (late and out of order)
  await meter('ven-dq-1', [10], tailWrite + 500);
  await meter('ven-dq-1', [52, 53], tailWrite + 1_000);

  // a connected VEN sending now, a Winter River node, a DER asset with three readings a minute apart
  await presenceConnected(stack, 'ven-dq-2');
  await deliver(topics.metering, sample('ven-dq-2', Math.floor(Date.now() / 1000) * 1000), 'ven-dq-2');
  await deliver(topics.winterRiverStatus('pdu_a'), fixtureText('winter-river-status'), 'pdu_a');
  assetFirst = Math.floor(Date.now() / 1000) - 120;
  for (const t of [assetFirst, assetFirst + 60, assetFirst + 120]) {
    const doc = {
      gatewayId: 'gw-a',
      site_id: 'site-a',
      timestamp: t,
      mw: 1,
      mw_setpoint: 1,
      assets: [{ asset_id: 'a-bess-1', site_id: 'site-a', mw: 1, online: true }],
    };
    await deliver(topics.derTelemetry('gw-a'), doc, 'gw-a');
  }
  // what was just stored shows to the API's (eventually consistent) reads and listings within the lag, as in AWS
  const dq = async (path: string) => (await stack.api(`/api/data-quality/${path}`)).body;
  await shows(async () => expect(await dq(`ven-dq-1?from=${iso(A)}&to=${iso(T)}`)).toMatchObject({ received: 418 }));
  await shows(async () => expect(await dq('ven-dq-2')).toMatchObject({ received: 1, online: true }));
  await shows(async () => expect(await dq('pdu_a')).toMatchObject({ received: 1 }));
  await shows(async () =>
    expect(await dq(`a-bess-1?from=${assetFirst - 30}&to=${assetFirst + 150}`)).toMatchObject({ received: 3 }),
  );
  await shows(async () =>
    expect((await stack.api('/api/realtime/portfolio')).body).toMatchObject({ vens: { total: 2, online: 1 } }),
  );
}, 240_000);

afterAll(async () => {
  await stack?.dispose();
});

describe('GET /api/data-quality/{nodeId}', () => {
  it('counts expected, received, completeness, gaps, late and out-of-order samples and refusals exactly', async () => {
    const res = await stack.api(`/api/data-quality/ven-dq-1?from=${iso(A)}&to=${iso(T)}`);
    expect(res.status).toBe(200);
    // received: 432 slots less 6 + 1 + 3 missing, less 6 never sent, plus 2 backfilled = 418
    expect(res.body).toEqual({
      nodeId: 'ven-dq-1',
      kind: 'ven',
      from: iso(A),
      to: iso(T),
      expected_interval_sec: 600,
      expected: 432,
      received: 418,
      completeness_pct: 96.76,
      gaps: [
        { start: iso(at(425)), end: iso(T), length_sec: 4200 },
        { start: iso(at(299)), end: iso(at(303)), length_sec: 2400 },
        { start: iso(at(53)), end: iso(at(56)), length_sec: 1800 },
        { start: iso(at(49)), end: iso(at(52)), length_sec: 1800 },
      ],
      // the six of the tail and the two backfilled arrived more than 2 × 600 s + 15 s after their time
      late: 8,
      late_after_sec: 1215,
      out_of_order: 2,
      refusals: { schema: 1 },
      last_seen: iso(at(425)),
      quiet: true,
      online: false,
    });
  });

  it('flags a device quiet once two reporting intervals pass without a sample, and not before', async () => {
    const fresh = (await stack.api('/api/data-quality/ven-dq-2')).body;
    expect(fresh).toMatchObject({ kind: 'ven', received: 1, quiet: false, online: true, refusals: {} });
    // a window that ends before the tail: ven-dq-1 still has its newest sample 70 minutes ago, so it is quiet now
    const older = (await stack.api(`/api/data-quality/ven-dq-1?from=${iso(at(0))}&to=${iso(at(100))}`)).body;
    expect(older).toMatchObject({ expected: 100, received: 96, quiet: true, last_seen: iso(at(425)) });
  });

  it('reads DER assets from their series and Winter River nodes from theirs, heard or not', async () => {
    const asset = (await stack.api(`/api/data-quality/a-bess-1?from=${assetFirst - 30}&to=${assetFirst + 150}`)).body;
    expect(asset).toMatchObject({
      nodeId: 'a-bess-1',
      kind: 'asset',
      expected_interval_sec: 60,
      received: 3,
      gaps: [],
    });
    expect((await stack.api('/api/data-quality/pdu_a')).body).toMatchObject({
      kind: 'winter-river',
      received: 1,
      quiet: false,
    });
    const silent = (await stack.api('/api/data-quality/srv_a')).body;
    expect(silent).toMatchObject({
      kind: 'winter-river',
      received: 0,
      completeness_pct: 0,
      quiet: true,
      online: false,
      last_seen: null,
    });
    expect((await stack.api('/api/data-quality/nobody')).status).toBe(404);
  });

  it('refuses a bad or unbounded window naming the field', async () => {
    const field = async (q: string, path = '/api/data-quality/ven-dq-1') => {
      const res = await stack.api(`${path}?${q}`);
      return [res.status, res.body.field];
    };
    expect(await field(`from=${iso(T)}&to=${iso(A)}`)).toEqual([400, 'from']);
    expect(await field(`from=${iso(T - 8 * 86_400_000)}&to=${iso(T)}`)).toEqual([400, 'from']);
    expect(await field(`to=${iso(Date.now() + 86_400_000)}`)).toEqual([400, 'to']);
    expect(await field('from=yesterday')).toEqual([400, 'from']);
    expect(await field(`from=${iso(Date.now() - 25 * 3_600_000)}`, '/api/data-quality')).toEqual([400, 'from']);
    expect(await field('limit=0', '/api/data-quality')).toEqual([400, 'limit']);
    expect(await field('next=nonsense', '/api/data-quality')).toEqual([400, 'next']);
  });
});

describe('GET /api/data-quality (the fleet)', () => {
  it('pages every VEN, asset and Winter River node, with the fleet completeness and the quiet ones', async () => {
    const first = (await stack.api('/api/data-quality?limit=2')).body;
    expect(first.items.map((i: { nodeId: string }) => i.nodeId)).toEqual(['ven-dq-1', 'ven-dq-2']);
    expect(first.items[0]).toMatchObject({ kind: 'ven', received: 0, quiet: true, refusals: { schema: 1 } });
    expect(first.items[1]).toMatchObject({ kind: 'ven', received: 1, quiet: false });
    expect(first.quiet).toContain('ven-dq-1');
    expect(first.quiet).not.toContain('ven-dq-2');
    const items = [...first.items];
    for (let next = first.next; next;) {
      const page = (await stack.api(`/api/data-quality?limit=2&next=${next}`)).body;
      items.push(...page.items);
      next = page.next;
    }
    expect(items.length).toBe(first.devices);
    expect(items.slice(2, 5).map((i) => [i.nodeId, i.kind])).toEqual([
      ['a-bess-1', 'asset'],
      ['a-bess-2', 'asset'],
      ['b-bess-1', 'asset'],
    ]);
    expect(items.find((i) => i.nodeId === 'pdu_a')).toMatchObject({ kind: 'winter-river', quiet: false });
    expect(first.quiet).toEqual(items.filter((i) => i.quiet).map((i) => i.nodeId));
    const sum = (key: string) => items.reduce((s, i) => s + i[key], 0);
    expect(first.completeness_pct).toBe(Math.round((sum('received') / sum('expected')) * 10_000) / 100);
  }, 90_000); // a data-quality figure per node, page by page: 30 s was not enough on a loaded machine
});

describe('GET /api/telemetry/{nodeId}/latest and /api/realtime/portfolio', () => {
  it("gives a node's newest sample with its time and whether it is online", async () => {
    const ven = (await stack.api('/api/telemetry/ven-dq-2/latest')).body;
    expect(ven).toMatchObject({ nodeId: 'ven-dq-2', kind: 'ven', online: true, values: { usedPowerKw: 8.2 } });
    // the backfilled slots are older: the newest stays slot 425
    expect((await stack.api('/api/telemetry/ven-dq-1/latest')).body).toMatchObject({
      time: iso(at(425)),
      online: false,
    });
    expect((await stack.api('/api/telemetry/a-bess-1/latest')).body).toMatchObject({
      kind: 'asset',
      values: { mw: 1, online: true },
    });
    expect((await stack.api('/api/telemetry/pdu_a/latest')).body).toMatchObject({
      kind: 'winter-river',
      values: { status: 'ok', power_kw: 6 },
    });
    expect((await stack.api('/api/telemetry/srv_a/latest')).body).toMatchObject({
      time: null,
      online: false,
      values: null,
    });
  });

  it('totals the fleet now from the registry and the inventory', async () => {
    const res = await stack.api('/api/realtime/portfolio');
    expect(res.body).toMatchObject({
      vens: { total: 2, online: 1 },
      assets: { total: 3 },
      load_kw: 8.2,
      sheddable_kw: 2.1,
      generation_kw: 0,
    });
    expect(Object.keys(res.body)).toEqual([
      'time',
      'vens',
      'assets',
      'load_kw',
      'sheddable_kw',
      'generation_kw',
      'mean_soc_pct',
    ]);
  });
});

describe('roles', () => {
  it('lets a viewer read every data-quality route and refuses a caller without a token', async () => {
    for (const path of [
      '/api/data-quality/ven-dq-2',
      '/api/data-quality',
      '/api/telemetry/ven-dq-2/latest',
      '/api/realtime/portfolio',
    ]) {
      expect((await stack.api(path, { token: stack.config.tokens.viewer })).status).toBe(200);
      expect((await stack.api(path, { token: null })).status).toBe(401);
    }
  });
});
