// `GET /api/nodes/nearby` near a pole: refused from the bounding box's cell count before any cell is built, so the
// refusal costs microseconds of CPU (it cost 4–6 s enumerating millions of geohashes) and the event loop the API
// shares with the broker stays free.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coveringCells, MAX_RADIUS_KM } from '../../lambdas/core/records/geo.js';
import { post, shows, startApiStack, type ApiTestStack } from './stack.js';

let stack: ApiTestStack;
const POLAR = [
  `lat=90&lon=0&radius_km=${MAX_RADIUS_KM}`,
  `lat=-90&lon=0&radius_km=${MAX_RADIUS_KM}`,
  `lat=89.9999&lon=0&radius_km=${MAX_RADIUS_KM}`,
  `lat=-89.9999&lon=179.9&radius_km=${MAX_RADIUS_KM}`,
];

beforeAll(async () => {
  stack = await startApiStack();
  await stack.api(
    '/api/metadata',
    post({ nodeId: 'polar-1', location: { lat: 89.905, lon: 10 }, capacity_kw: 10, technology: 'pv' }),
  );
});
afterAll(async () => {
  await stack?.dispose();
});

/** CPU (user + system) the process spent in `work`, in milliseconds. */
async function cpuMs(work: () => unknown): Promise<number> {
  const before = process.cpuUsage();
  await work();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000;
}

describe('a nearby search round a pole', () => {
  it('is refused by the cell count before any cell is built', async () => {
    for (const [lat, lon] of [
      [90, 0],
      [-90, 0],
      [89.9999, 0],
      [-89.9999, 179.9],
    ] as const) {
      let cells: string[] | undefined = [];
      const ms = await cpuMs(() => (cells = coveringCells(lat, lon, MAX_RADIUS_KM)));
      expect(cells, `${lat},${lon}`).toBeUndefined();
      expect(ms, `${lat},${lon}: ${ms} ms of CPU`).toBeLessThan(20);
    }
  });

  it('answers 400 radius_km over HTTP in well under 100 ms of CPU', async () => {
    for (const query of POLAR) {
      let res: Awaited<ReturnType<ApiTestStack['api']>> | undefined;
      const ms = await cpuMs(async () => (res = await stack.api(`/api/nodes/nearby?${query}`)));
      expect(res).toMatchObject({
        status: 400,
        body: { field: 'radius_km', message: 'radius_km: too wide this close to a pole' },
      });
      expect(ms, `${query}: ${ms} ms of CPU`).toBeLessThan(100);
    }
  });

  it('leaves /health responsive with four such requests in flight', async () => {
    const started = Date.now();
    const searches = POLAR.map((q) => stack.api(`/api/nodes/nearby?${q}`));
    const health = await fetch(`${stack.config.apiUrl}/health`);
    const healthMs = Date.now() - started;
    expect(health.status).toBe(200);
    expect(healthMs, `/health took ${healthMs} ms`).toBeLessThan(1000);
    for (const res of await Promise.all(searches)) expect(res.status).toBe(400);
  });

  it('still finds a node near a pole with a radius it can cover', async () => {
    // the geo cells are an index: the node shows a moment after it is stored, in AWS too
    await shows(async () => {
      const res = await stack.api('/api/nodes/nearby?lat=89.9&lon=10&radius_km=1');
      expect(res.status).toBe(200);
      expect(res.body.items.map((n: { nodeId: string }) => n.nodeId)).toEqual(['polar-1']);
    });
  });
});
