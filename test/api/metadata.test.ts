// Node metadata and the node queries through the local server and the local DynamoDB: validation names the field,
// PATCH merges, by-type and active list, nearby returns exactly the nodes within the radius, nearest first.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coveringCells, distanceKm, geohash } from '../../lambdas/core/records/geo.js';
import { post, startApiStack, type ApiTestStack } from './stack.js';
import { eventually } from '../e2e/helpers.js';

let stack: ApiTestStack;
beforeAll(async () => {
  stack = await startApiStack();
});
afterAll(() => stack?.dispose());

const base = { location: { lat: 52.37, lon: 4.89 }, capacity_kw: 250, technology: 'bess' };
const patch = (body: unknown) => ({ method: 'PATCH', body: JSON.stringify(body) });

describe('POST /api/metadata validation', () => {
  const cases: [string, unknown][] = [
    ['location.lat', { ...base, nodeId: 'v-lat', location: { lat: 91, lon: 0 } }],
    ['location.lon', { ...base, nodeId: 'v-lon', location: { lat: 0, lon: -180.5 } }],
    ['technology', { ...base, nodeId: 'v-type', technology: 'fusion' }],
    ['capacity_kw', { ...base, nodeId: 'v-cap', capacity_kw: -1 }],
    [
      'tariff.shed_price_per_kwh',
      { ...base, nodeId: 'v-tariff', tariff: { shed_price_per_kwh: 'cheap', energy_price_per_kwh: 0.2 } },
    ],
    ['nodeId', { ...base, nodeId: 'bad id/with slash' }],
    ['colour', { ...base, nodeId: 'v-extra', colour: 'red' }],
  ];
  it.each(cases)('answers 400 naming %s and writes nothing', async (field, body) => {
    const res = await stack.api('/api/metadata', post(body));
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'ValidationError', field });
    const id = (body as { nodeId: string }).nodeId;
    if (!id.includes('/')) expect((await stack.api(`/api/metadata/${id}`)).status).toBe(404);
  });
});

describe('metadata documents', () => {
  it('creates, reads, refuses a second create, and PATCH changes only the fields given', async () => {
    const doc = {
      ...base,
      nodeId: 'asset-ams-1',
      tariff: { shed_price_per_kwh: 0.3, energy_price_per_kwh: 0.12 },
      grid_connection_point: 'AMS-7',
      tags: { owner: 'acme' },
    };
    const createdRes = await stack.api('/api/metadata', post(doc));
    expect(createdRes).toMatchObject({
      status: 201,
      body: { ...doc, tariff: { ...doc.tariff, currency: 'EUR' }, active: true, version: 1 },
    });
    expect((await stack.api('/api/metadata', post(doc))).body).toMatchObject({ error: 'Conflict', field: 'nodeId' });
    const patched = await stack.api('/api/metadata/asset-ams-1', patch({ capacity_kw: 300, tags: { owner: 'other' } }));
    expect(patched).toMatchObject({
      status: 200,
      body: { capacity_kw: 300, tags: { owner: 'other' }, grid_connection_point: 'AMS-7', version: 2 },
    });
    expect((await stack.api('/api/metadata/asset-ams-1')).body).toEqual(patched.body);
    expect(
      (await stack.api('/api/metadata/asset-ams-1', patch({ location: { lat: -100, lon: 0 } }))).body,
    ).toMatchObject({ field: 'location.lat' });
    expect((await stack.api('/api/metadata/asset-ams-1', patch({ nodeId: 'x' }))).body).toMatchObject({
      field: 'nodeId',
    });
    expect((await stack.api('/api/metadata/no-such-node', patch({ capacity_kw: 1 }))).status).toBe(404);
  });

  it('lists by type and only the active nodes, paging through every one', async () => {
    for (let i = 0; i < 5; i++)
      await stack.api('/api/metadata', post({ ...base, nodeId: `pv-${i}`, technology: 'pv', active: i !== 2 }));
    // the listings are index queries, eventually consistent in AWS: they show the nodes once the last write has
    await eventually(async () =>
      (await stack.api('/api/nodes/by-type/pv?limit=10')).body.items.some(
        (m: { nodeId: string }) => m.nodeId === 'pv-4',
      ),
    );
    const byType = await stack.api('/api/nodes/by-type/pv?limit=2');
    expect(byType.body.items.map((m: { nodeId: string }) => m.nodeId)).toEqual(['pv-0', 'pv-1']);
    expect((await stack.api('/api/nodes/by-type/fusion')).body).toMatchObject({
      error: 'ValidationError',
      field: 'type',
    });
    const active: string[] = [];
    let next: string | undefined;
    do {
      const res = await stack.api(`/api/nodes/active?limit=2${next ? `&next=${next}` : ''}`);
      active.push(...res.body.items.map((m: { nodeId: string }) => m.nodeId));
      next = res.body.next;
    } while (next);
    expect(active.filter((id) => id.startsWith('pv-')).sort()).toEqual(['pv-0', 'pv-1', 'pv-3', 'pv-4']);
  });
});

describe('GET /api/nodes/nearby', () => {
  // a grid of nodes round Utrecht, about 11 km apart, some across geohash cell borders
  const centre = { lat: 52.09, lon: 5.12 };
  const grid = Array.from({ length: 49 }, (_, i) => ({
    nodeId: `geo-${i}`,
    lat: centre.lat - 0.3 + 0.1 * Math.floor(i / 7),
    lon: centre.lon - 0.45 + 0.15 * (i % 7),
  }));

  beforeAll(async () => {
    for (const g of grid) {
      const res = await stack.api(
        '/api/metadata',
        post({ ...base, technology: 'ev', nodeId: g.nodeId, location: { lat: g.lat, lon: g.lon } }),
      );
      expect(res.status).toBe(201);
    }
    // the cells are an index, eventually consistent: wait until the last node written shows in a search round it
    const last = grid.at(-1)!;
    await eventually(async () =>
      (await stack.api(`/api/nodes/nearby?lat=${last.lat}&lon=${last.lon}&radius_km=1`)).body.items?.some(
        (m: { nodeId: string }) => m.nodeId === last.nodeId,
      ),
    );
  });

  it.each([3, 15, 25, 40])('returns exactly the nodes within %s km, nearest first', async (radius) => {
    const expected = grid
      .map((g) => ({ id: g.nodeId, d: distanceKm(centre.lat, centre.lon, g.lat, g.lon) }))
      .filter((g) => g.d <= radius)
      .sort((a, b) => a.d - b.d || a.id.localeCompare(b.id));
    const res = await stack.api(`/api/nodes/nearby?lat=${centre.lat}&lon=${centre.lon}&radius_km=${radius}&limit=1000`);
    expect(res.status).toBe(200);
    const found = res.body.items.filter((m: { nodeId: string }) => m.nodeId.startsWith('geo-'));
    expect(found.map((m: { nodeId: string }) => m.nodeId).sort()).toEqual(expected.map((e) => e.id).sort());
    const distances = found.map((m: { distance_km: number }) => m.distance_km);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    expect(distances).toEqual(expected.map((e) => Math.round(e.d * 1000) / 1000));
    expect(res.body.cells_read).toBeLessThanOrEqual(16);
  });

  it('names the bad parameter', async () => {
    expect((await stack.api('/api/nodes/nearby?lat=95&lon=0&radius_km=1')).body).toMatchObject({ field: 'lat' });
    expect((await stack.api('/api/nodes/nearby?lat=0&lon=x&radius_km=1')).body).toMatchObject({ field: 'lon' });
    expect((await stack.api('/api/nodes/nearby?lat=0&lon=0&radius_km=5000')).body).toMatchObject({
      field: 'radius_km',
    });
  });
});

describe('geohash cells', () => {
  it('encodes the reference point of the geohash literature', () => {
    expect(geohash(57.64911, 10.40744, 11)).toBe('u4pruydqqvj');
  });

  it('covers every point of the circle, across the date line too', () => {
    for (const [lat, lon, r] of [
      [52.09, 5.12, 40],
      [0.01, 179.99, 30],
      [-33.9, -179.9, 120],
      [64, 25, 200],
    ] as const) {
      const cells = coveringCells(lat, lon, r) ?? [];
      for (let k = 0; k < 400; k++) {
        const bearing = (k / 400) * 2 * Math.PI;
        const d = (r * ((k % 20) + 1)) / 20 / 6371.0088;
        const pLat = lat + (d * Math.cos(bearing) * 180) / Math.PI;
        let pLon = lon + (d * Math.sin(bearing) * 180) / Math.PI / Math.cos((lat * Math.PI) / 180);
        pLon = ((pLon + 540) % 360) - 180;
        if (distanceKm(lat, lon, pLat, pLon) > r) continue;
        const h = geohash(pLat, pLon);
        expect(
          cells.some((c) => h.startsWith(c)),
          `${pLat},${pLon} near ${lat},${lon}`,
        ).toBe(true);
      }
    }
  });
});
