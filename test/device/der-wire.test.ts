// DER sites, the wiring: the real gateway agents of both example sites against the whole local stack.
// Per-asset telemetry on der/telemetry/{gateway} → rule der → der_asset_sample + the gateway's heartbeat → the API;
// a site dispatch's extended ACK through GET /api/dispatch/{id}; refusals to the error sink with nothing stored.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '../../bin/local/stack.js';
import { startFleet, type Fleet } from '../../device/fleet.js';
import { memoryLog } from '../../device/log.js';
import { topics } from '../../lambdas/core/contracts/topics.js';
import { apiClient, errorSink } from '../e2e/helpers.js';
import { eventually, tempDir } from './helpers.js';

let dir: Awaited<ReturnType<typeof tempDir>>;
let stack: LocalStack;
let fleet: Fleet;
const GATEWAY_MS = 1000;
const inventoryFile = join(import.meta.dirname, '../../device/inventory.example.yaml');

type Json = Record<string, any>;
/** GET, or POST of `body`, as the admin. */
const api = (path: string, body?: object) =>
  apiClient(stack.config.apiUrl, stack.config.token)(path, body && { method: 'POST', body: JSON.stringify(body) });

beforeAll(async () => {
  dir = await tempDir('vpp-der-wire-');
  stack = await startLocalStack({ dir: dir.path, httpPort: 0, mqttPort: 0, fleet: false, inventoryFile });
  const things = [
    { mode: 'gateway' as const, thingName: 'gw-site-gt', inventoryFile },
    { mode: 'gateway' as const, thingName: 'gw-site-mx', inventoryFile },
  ];
  const devices = await Promise.all(things.map(async (t) => ({ ...t, ...(await stack.provision(t.thingName)) })));
  fleet = await startFleet({
    host: stack.config.mqtt.host,
    port: stack.config.mqtt.port,
    caFile: stack.config.mqtt.caFile,
    dataDir: join(dir.path, 'fleet'),
    devices,
    intervals: { gatewayMs: GATEWAY_MS },
    reconnectMinSec: 1,
    reconnectMaxSec: 1,
    log: memoryLog(),
  });
  expect(fleet.connected).toBe(2);
});

afterAll(async () => {
  await fleet?.stop();
  await stack?.close();
  await dir?.remove();
});

const MIXED = {
  'mx-bess-1': 'soc_pct',
  'mx-pv-1': 'irradiance_wm2',
  'mx-wind-1': 'wind_speed_ms',
  'mx-ev-1': 'active_sessions',
} as const;
const newest = async (assetId: string) =>
  ((await api(`/api/assets/${assetId}/telemetry?limit=1`)).body['items'] as Json[] | undefined)?.[0];

describe('asset telemetry, stored and served', () => {
  it('makes a reading of every asset type readable through the API within one reporting interval', async () => {
    // the agents are up: each asset has a first reading
    await eventually(async () => (await Promise.all(Object.keys(MIXED).map(newest))).every(Boolean), 10_000);
    const before = Object.fromEntries(
      await Promise.all(Object.keys(MIXED).map(async (id) => [id, (await newest(id))!['timestamp']] as const)),
    );
    const since = Date.now();
    // the next reading of every asset: one gateway interval, plus the stream's batching window (1 s) and a poll
    const fresh = await eventually(async () => {
      const items = await Promise.all(Object.keys(MIXED).map(newest));
      return items.every((r, i) => r && r['timestamp'] > before[Object.keys(MIXED)[i]!]) ? items : undefined;
    }, GATEWAY_MS + 2500);
    expect(Date.now() - since).toBeLessThan(GATEWAY_MS + 2500);
    for (const [i, [assetId, field]] of Object.entries(MIXED).entries()) {
      expect(fresh[i]!['details'][field], `${assetId}.details.${field}`).toEqual(expect.any(Number));
      expect(fresh[i]).toMatchObject({ online: true, mw: expect.any(Number) });
    }
  });

  it('serves an asset with its inventory, latest reading (type fields under details) and connection', async () => {
    const res = await api('/api/assets/mx-pv-1');
    expect(res).toMatchObject({
      status: 200,
      body: {
        asset_id: 'mx-pv-1',
        asset_type: 'pv',
        site_id: 'site-mx',
        gateway: 'gw-site-mx',
        max_mw: 4.5,
        latest: {
          mw: expect.any(Number),
          details: { irradiance_wm2: expect.any(Number), inverter_state: expect.any(String) },
        },
        connection: { connected: true, last_seen: expect.any(String) },
      },
    });
    expect(res.body['latest']['details']).not.toHaveProperty('mw');
  });

  it('serves a site: its assets with readings, totals by type, gateway and connection', async () => {
    const res = await api('/api/sites/site-mx');
    expect(res.status).toBe(200);
    const body = res.body;
    expect(body).toMatchObject({
      site_id: 'site-mx',
      gateway: 'gw-site-mx',
      connection: { connected: true },
      reported_at: expect.any(String),
    });
    expect((body['assets'] as Json[]).map((a) => [a['asset_id'], a['asset_type']])).toEqual([
      ['mx-bess-1', 'bess'],
      ['mx-ev-1', 'ev'],
      ['mx-pv-1', 'pv'],
      ['mx-wind-1', 'wind'],
    ]);
    expect(Object.keys(body['totals']['by_type']).sort()).toEqual(['bess', 'ev', 'pv', 'wind']);
    const bess = body['totals']['by_type']['bess'];
    const reading = (body['assets'] as Json[])[0]!['latest'];
    // SOC window 10–95 % of 16 MWh
    expect(bess['available_discharge_mwh']).toBeCloseTo(reading['details']['soc_mwh'] - 1.6, 2);
    expect(bess['charge_headroom_mwh']).toBeCloseTo(15.2 - reading['details']['soc_mwh'], 2);
    const sum = (body['assets'] as Json[]).reduce((s, a) => s + a['latest']['mw'], 0);
    expect(body['totals']['mw']).toBeCloseTo(sum, 2);
  });

  it("gives /api/agents rows last_seen from the gateways' telemetry, and the portfolio DER totals by type", async () => {
    const agents = (await api('/api/agents')).body['items'] as Json[];
    for (const id of Object.keys(MIXED))
      expect(agents.find((a) => a['asset_id'] === id)).toMatchObject({
        peer: 'gw-site-mx',
        last_seen: expect.any(String),
      });
    const portfolio = (await api('/api/portfolio')).body;
    expect(portfolio['der']).toMatchObject({ gateways: { reporting: 2, online: 2 }, assets: 7 });
    expect(Object.keys(portfolio['der']['by_type']).sort()).toEqual(['bess', 'ev', 'pv', 'wind']);
    expect(portfolio['der']['by_type']['bess']['assets']).toBe(4);
    expect(portfolio['bess']).toMatchObject({ gateways: 2, energy_mwh: 36 });
  });
});

describe('a site dispatch to the mixed site', () => {
  it('lands what the EV station cannot take on the others, and says why per asset', async () => {
    const sent = await api('/dispatch', { site_id: 'site-mx', mw: 3 });
    expect(sent).toMatchObject({ status: 202, body: { gateway: 'gw-site-mx', mw_sent: 3 } });
    const view = await eventually(async () => {
      const d = await api(`/api/dispatch/${sent.body['dispatch_id']}`);
      return d.body['status'] === 'acked' ? d.body : undefined;
    });
    const split = view['split'] as Json[];
    expect(split.map((s) => s['asset_id'])).toEqual(['mx-bess-1', 'mx-ev-1', 'mx-pv-1', 'mx-wind-1']);
    const ev = split.find((s) => s['asset_id'] === 'mx-ev-1')!;
    // its weighted share was positive, but a charging station cannot export
    expect(ev['requested_mw']).toBeGreaterThan(0);
    expect(ev).toMatchObject({ mw: 0, reasons: ['clamped:max_mw'] });
    const others = split.filter((s) => s !== ev);
    expect(others.reduce((s, a) => s + a['mw'], 0)).toBeCloseTo(3, 3);
    for (const s of split)
      expect(s).toMatchObject({
        requested_mw: expect.any(Number),
        applied_mw: expect.any(Number),
        reasons: expect.any(Array),
      });
    await api('/dispatch', { site_id: 'site-mx', mw: 0 });
  });
});

describe('refused DER telemetry', () => {
  const T = Math.floor(Date.now() / 1000) - 3 * 3600; // older than anything the agents send in this test
  const window = `start=${T - 10}&end=${T + 10}`;
  const doc = (gatewayId: string, siteId: string, assets: Json[], timestamp = T) => ({
    gatewayId,
    site_id: siteId,
    timestamp,
    mw: 1,
    mw_setpoint: 1,
    assets,
  });
  const core = (assetId: string, siteId: string) => ({ asset_id: assetId, site_id: siteId, mw: 1, online: true });
  const deliver = (topicGateway: string, sender: string, body: object) =>
    stack.deliverToRules(topics.derTelemetry(topicGateway), Buffer.from(JSON.stringify(body)), sender);

  it('refuses a reading naming another gateway, and an asset not in the site, with reasons, storing nothing', async () => {
    await deliver('gw-site-mx', 'gw-site-mx', doc('gw-site-gt', 'site-gt', [core('gt-bess-a', 'site-gt')]));
    await deliver('gw-site-mx', 'gw-site-mx', doc('gw-site-mx', 'site-gt', [core('gt-bess-a', 'site-gt')]));
    await deliver(
      'gw-site-mx',
      'gw-site-mx',
      doc('gw-site-mx', 'site-mx', [core('mx-bess-1', 'site-mx'), core('mx-ghost', 'site-mx')]),
    );
    await deliver('gw-site-mx', 'gw-site-gt', doc('gw-site-gt', 'site-gt', [core('gt-bess-a', 'site-gt')]));
    const refused = await eventually(async () => {
      const lines = (await errorSink(stack.config.errorsFile)).filter((e) => e.topic?.startsWith('der/telemetry/'));
      return lines.length >= 4 ? lines : undefined;
    });
    expect(refused.map((e) => [e.reason, e.message])).toEqual(
      expect.arrayContaining([
        ['identity-mismatch', 'gatewayId: gw-site-gt was published by gw-site-mx'],
        ['identity-mismatch', 'site_id: site-gt is served by gw-site-gt, not gw-site-mx'],
        ['unknown-asset', 'assets.1.asset_id: mx-ghost is not an asset of site site-mx'],
        ['identity-mismatch', 'der/telemetry/gw-site-mx was published by gw-site-gt'],
      ]),
    );
    for (const id of ['gt-bess-a', 'mx-bess-1'])
      expect((await api(`/api/assets/${id}/telemetry?${window}`)).body['items']).toEqual([]);
    expect((await api('/api/assets/mx-ghost')).status).toBe(404);
  });

  it('accepts an older agent that sends the core fields only, typed from the inventory', async () => {
    await deliver('gw-site-mx', 'gw-site-mx', doc('gw-site-mx', 'site-mx', [core('mx-wind-1', 'site-mx')], T + 1));
    const stored = await eventually(
      async () => (await api(`/api/assets/mx-wind-1/telemetry?${window}`)).body['items']?.[0],
    );
    expect(stored).toEqual({ timestamp: new Date((T + 1) * 1000).toISOString(), mw: 1, online: true, details: {} });
    // an older document does not replace the gateway's latest summary
    expect((await api('/api/assets/mx-wind-1')).body['latest']['details']).toHaveProperty('wind_speed_ms');
  });
});

describe('the DER read routes', () => {
  it('answers 400 naming the field and 404 for what is not in the inventory', async () => {
    expect(await api(`/api/assets/${'a'.repeat(129)}`)).toMatchObject({ status: 400, body: { field: 'assetId' } });
    expect(await api('/api/assets/mx-pv-1/telemetry?limit=0')).toMatchObject({ status: 400, body: { field: 'limit' } });
    expect(await api('/api/assets/mx-pv-1/telemetry?start=2030-01-02&end=2030-01-01')).toMatchObject({
      status: 400,
      body: { field: 'start' },
    });
    expect(await api('/api/assets/nope/telemetry')).toMatchObject({ status: 404 });
    expect(await api('/api/sites/nope')).toMatchObject({ status: 404 });
  });

  it("pages an asset's history newest first", async () => {
    await eventually(
      async () => (await api('/api/assets/mx-bess-1/telemetry?limit=3')).body['items']?.length === 3,
      10_000,
    );
    const first = await api('/api/assets/mx-bess-1/telemetry?limit=2');
    expect(first.body['items']).toHaveLength(2);
    expect(first.body['next']).toEqual(expect.any(String));
    const [a, b] = first.body['items'] as Json[];
    expect(Date.parse(a!['timestamp'])).toBeGreaterThan(Date.parse(b!['timestamp']));
    const second = await api(`/api/assets/mx-bess-1/telemetry?limit=2&next=${encodeURIComponent(first.body['next'])}`);
    expect(Date.parse(second.body['items'][0]['timestamp'])).toBeLessThan(Date.parse(b!['timestamp']));
  });

  it('needs a token', async () => {
    for (const path of ['/api/assets/mx-pv-1', '/api/assets/mx-pv-1/telemetry', '/api/sites/site-mx']) {
      const res = await fetch(`${stack.config.apiUrl}${path}`);
      expect(res.status, path).toBe(401);
    }
  });
});
